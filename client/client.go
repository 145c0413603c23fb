package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
)

// A Handler handles the messages of one command (see [Client.Handle]).
type Handler interface {
	HandleMessage(c *Client, m *ircmsg.Message)
}

// HandlerFunc adapts a function to a [Handler].
type HandlerFunc func(c *Client, m *ircmsg.Message)

// HandleMessage calls f(c, m).
func (f HandlerFunc) HandleMessage(c *Client, m *ircmsg.Message) { f(c, m) }

// A Client is one IRC client session that reconnects when its link is
// lost. Make it with [New], register handlers, then call [Client.Run].
// All methods are safe to call from any goroutine, including handlers.
type Client struct {
	cfg   Config
	mechs []string

	hmu      sync.RWMutex
	handlers map[string][]Handler
	batchHs  map[string][]func(*Client, *Batch)

	evmu sync.Mutex // OnEvent calls never overlap

	mu sync.Mutex // guards st
	st state

	qmu      sync.Mutex // guards the fields below and every session's queues
	normal   [][]byte
	cur      *session
	running  bool
	closed   bool
	quitting bool
	quitMsg  string
	quitCh   chan struct{}
	labels   map[string]*pending
	labelSeq uint64
	// what the last session's end did with the messages its wheel had
	// not written, for its EventDisconnected
	lastResent int
	lastLost   []string
}

// New checks cfg and returns a client; nothing connects until Run.
func New(cfg Config) (*Client, error) {
	if cfg.Addr == "" {
		return nil, ErrNoAddr
	}
	if cfg.Nick == "" {
		return nil, ErrNoNick
	}
	c := &Client{
		cfg:      cfg,
		handlers: make(map[string][]Handler),
		batchHs:  make(map[string][]func(*Client, *Batch)),
		quitCh:   make(chan struct{}),
		labels:   make(map[string]*pending),
	}
	c.mechs = slices.Clone(cfg.SASL.Mechanisms) // upper-cased below; the caller's stays
	if len(c.mechs) == 0 {
		if cfg.TLS != nil && (len(cfg.TLS.Certificates) > 0 || cfg.TLS.GetClientCertificate != nil) {
			c.mechs = append(c.mechs, "EXTERNAL")
		}
		if cfg.SASL.Password != "" {
			c.mechs = append(c.mechs, "SCRAM-SHA-256", "PLAIN")
		}
	}
	for i, m := range c.mechs {
		if _, err := newMechanism(m, cfg.SASL, cfg.Nick); err != nil {
			return nil, err
		}
		c.mechs[i] = strings.ToUpper(m)
	}
	if cfg.SASL.Required && len(c.mechs) == 0 {
		return nil, fmt.Errorf("%w: SASL.Required without a mechanism, password or client certificate", ErrSASLUnavailable)
	}
	c.st.reset(cfg.Nick)
	return c, nil
}

// Handle registers h for messages whose command is cmd ("PRIVMSG", "001",
// ...; case does not matter), or for every message when cmd is "*".
// Handlers run on the reading goroutine, in wire order, after the
// client's own processing (so state already reflects the message), in the
// order they were registered. They must not block for long: the next
// message waits. The message is shared between handlers: read it, do not
// change it.
func (c *Client) Handle(cmd string, h Handler) {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	cmd = strings.ToUpper(cmd)
	c.handlers[cmd] = append(c.handlers[cmd], h)
}

// HandleFunc registers f like [Client.Handle].
func (c *Client) HandleFunc(cmd string, f func(c *Client, m *ircmsg.Message)) {
	c.Handle(cmd, HandlerFunc(f))
}

func (c *Client) dispatch(m *ircmsg.Message) {
	c.hmu.RLock()
	hs := c.handlers[m.Command]
	all := c.handlers["*"]
	c.hmu.RUnlock()
	for _, h := range hs {
		h.HandleMessage(c, m)
	}
	for _, h := range all {
		h.HandleMessage(c, m)
	}
}

func (c *Client) event(ev Event) {
	if c.cfg.OnEvent == nil {
		return
	}
	ev.Addr = c.cfg.Addr
	c.evmu.Lock()
	defer c.evmu.Unlock()
	c.cfg.OnEvent(ev)
}

func (c *Client) trace(out bool, line string) {
	if c.cfg.Trace != nil {
		c.cfg.Trace(out, redact(line))
	}
}

// redact hides what a trace must never show: PASS and AUTHENTICATE
// payloads (a mechanism name is kept, so a trace still shows the flow).
func redact(line string) string {
	m, err := ircmsg.ParseString(line)
	if err != nil {
		return line
	}
	switch m.Command {
	case "PASS":
		return "PASS ***"
	case "AUTHENTICATE":
		if len(m.Params) == 1 && isMechName(m.Params[0]) {
			return line
		}
		pre := ""
		if m.Source != "" {
			pre = ":" + m.Source + " "
		}
		return pre + "AUTHENTICATE ***"
	}
	return line
}

func isMechName(p string) bool {
	switch p {
	case "PLAIN", "EXTERNAL", "SCRAM-SHA-256", "SCRAM-SHA-1", "*":
		return true
	}
	return false
}

// Run connects, registers and keeps the session up until ctx ends, the
// client quits ([Client.Quit]), reconnecting gives up, or a failure that
// a retry cannot fix happens. It returns why it stopped: ctx.Err() when
// the context ended (QUIT sent first), nil after Quit, an error wrapping
// [ErrGaveUp] and the last cause when tries ran out, the loss itself when
// Reconnect.Disabled, or an error wrapping [ErrSASLFailed] when
// SASL.Required and the login failed. When messages were still queued at
// the end, the result also wraps [ErrUnsent]; when messages were cut
// off in the middle of being written as the last link closed (see
// [Event.MaybeLost]), it wraps [ErrMaybeLost], even after Quit. Run may
// be called once.
func (c *Client) Run(ctx context.Context) (err error) {
	c.qmu.Lock()
	if c.running || c.closed {
		c.qmu.Unlock()
		return ErrClosed
	}
	c.running = true
	c.qmu.Unlock()
	defer func() {
		c.qmu.Lock()
		c.closed = true
		n := len(c.normal)
		c.normal = nil
		for _, p := range c.labels {
			p.fail(ErrClosed)
		}
		c.labels = nil
		c.qmu.Unlock()
		if n > 0 {
			err = fmt.Errorf("%w: %d messages: %w", ErrUnsent, n, errOrClosed(err))
		}
	}()
	tries := 0
	for attempt := 1; ; attempt++ {
		c.event(Event{Kind: EventConnecting, Attempt: attempt})
		registered, final, cause := c.runSession(ctx, attempt)
		c.qmu.Lock()
		resent, lost := c.lastResent, c.lastLost
		c.lastResent, c.lastLost = 0, nil
		c.qmu.Unlock()
		if len(lost) > 0 {
			cause = fmt.Errorf("%w: %d messages: %w", ErrMaybeLost, len(lost), errOrClosed(cause))
		}
		c.event(Event{Kind: EventDisconnected, Attempt: attempt, Err: cause, Requeued: resent, MaybeLost: lost})
		if c.isQuitting() || ctx.Err() != nil {
			err := ctx.Err() // nil after Quit
			if len(lost) > 0 {
				err = fmt.Errorf("%w: %d messages: %w", ErrMaybeLost, len(lost), errOrClosed(err))
			}
			return err
		}
		if final {
			return cause
		}
		if c.cfg.Reconnect.Disabled {
			return cause
		}
		if registered {
			tries = 0
		}
		tries++
		if mt := c.cfg.Reconnect.MaxTries; mt > 0 && tries >= mt {
			return fmt.Errorf("%w after %d tries: %w", ErrGaveUp, tries, cause)
		}
		delay := c.backoff(tries)
		c.event(Event{Kind: EventReconnectWait, Attempt: attempt + 1, Delay: delay, Err: cause})
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-c.quitCh:
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func lostLines(recs [][]byte) []string {
	if len(recs) == 0 {
		return nil
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r)
	}
	return out
}

func errOrClosed(err error) error {
	if err == nil {
		return ErrClosed
	}
	return err
}

// backoff is MinDelay doubled per failed try, capped at MaxDelay, less a
// random jitter of up to half (so clients dropped together do not come
// back together).
func (c *Client) backoff(tries int) time.Duration {
	lo := orDur(c.cfg.Reconnect.MinDelay, DefaultReconnectMin)
	hi := orDur(c.cfg.Reconnect.MaxDelay, DefaultReconnectMax)
	d := lo
	for i := 1; i < tries && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d - time.Duration(rand.Int64N(int64(d/2)+1))
}

func (c *Client) isQuitting() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.quitting
}

// Quit sends QUIT with reason ahead of anything queued, closes the link
// once it is written, and makes Run return (nil, or an error wrapping
// [ErrUnsent] if messages were still queued). It returns [ErrClosed] if
// Run has already returned.
func (c *Client) Quit(reason string) error {
	c.qmu.Lock()
	if c.closed {
		c.qmu.Unlock()
		return ErrClosed
	}
	if c.quitting {
		c.qmu.Unlock()
		return nil
	}
	c.quitting = true
	c.quitMsg = reason
	close(c.quitCh)
	c.qmu.Unlock()
	return nil
}

// dial opens the connection: sock.Dial with the caller's Dialer, or the
// caller's Dial func with the TLS handshake done here. Errors are
// *sock.OpError values naming the step that failed.
func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, orDur(c.cfg.ConnectTimeout, DefaultConnectTimeout))
	defer cancel()
	if c.cfg.Dial == nil {
		return sock.Dial(ctx, c.cfg.Dialer, c.cfg.Addr, c.cfg.TLS)
	}
	conn, err := c.cfg.Dial(ctx, "tcp", c.cfg.Addr)
	if err != nil {
		return nil, &sock.OpError{Op: sock.OpDial, Addr: c.cfg.Addr, Err: err}
	}
	if c.cfg.TLS == nil {
		return conn, nil
	}
	tcfg := c.cfg.TLS.Clone()
	if tcfg.ServerName == "" {
		host, _, err := net.SplitHostPort(c.cfg.Addr)
		if err != nil {
			host = c.cfg.Addr
		}
		tcfg.ServerName = host
	}
	tc := tls.Client(conn, tcfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, &sock.OpError{Op: sock.OpTLS, Addr: c.cfg.Addr, Err: err}
	}
	return tc, nil
}

// runSession runs one connection. registered reports whether it reached
// 001; final that Run must stop with cause.
func (c *Client) runSession(ctx context.Context, attempt int) (registered, final bool, cause error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return false, false, err
	}
	c.event(Event{Kind: EventConnected, Attempt: attempt})
	s := newSession(c, attempt)
	s.w = sock.NewWheel(conn, filter.NewStack(&filter.Line{}), filter.NewStack(&filter.Line{}), s, sock.WheelConfig{
		Idle:         s.pingInterval,
		DrainTimeout: 5 * time.Second,
	})
	c.mu.Lock()
	c.st.newConnection(c.cfg.Nick)
	c.mu.Unlock()
	c.qmu.Lock()
	c.cur = s
	c.qmu.Unlock()

	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.w.Run() }()
	go s.sendLoop()
	s.register()
	regT := time.AfterFunc(orDur(c.cfg.RegisterTimeout, DefaultRegisterTimeout), func() {
		if !s.isRegistered() {
			s.w.Close("Registration timeout", ErrRegisterTimeout)
		}
	})

	select {
	case <-s.done:
	case <-ctx.Done():
		s.quit(c.quitMessage())
	case <-c.quitCh:
		c.qmu.Lock()
		msg := c.quitMsg
		c.qmu.Unlock()
		s.quit(msg)
	}
	if !waitClosed(s.done, 10*time.Second) {
		s.w.Close("Quit not acknowledged", nil)
		<-s.done
	}
	regT.Stop()
	s.stop()
	s.wg.Wait()

	resend, lost := s.unwritten()
	c.qmu.Lock()
	c.cur = nil
	c.lastResent, c.lastLost = len(resend), lostLines(lost)
	if len(resend) > 0 {
		c.normal = append(resend, c.normal...)
	}
	for _, p := range c.labels {
		p.fail(fmt.Errorf("client: link lost before the labeled response: %w", errOrClosed(s.cause())))
	}
	clear(c.labels)
	c.qmu.Unlock()
	c.mu.Lock()
	c.st.lost()
	c.mu.Unlock()
	return s.isRegistered(), s.final, s.cause()
}

func waitClosed(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

func (c *Client) quitMessage() string {
	if c.cfg.QuitMessage != "" {
		return c.cfg.QuitMessage
	}
	return DefaultQuitMessage
}

// Send queues m behind earlier messages, paced by flood control. It
// returns the [ircmsg] error (wrapped in a filter.RecordError) for a
// message that cannot be written (CR, LF or NUL inside, too long),
// [ErrQueueFull], or [ErrClosed]. A message queued while the client is
// not registered is sent after the next 001.
func (c *Client) Send(m *ircmsg.Message) error {
	rec, err := encode(m)
	if err != nil {
		return err
	}
	return c.enqueue(rec)
}

// SendRaw parses line (without CR LF) and sends it like [Client.Send].
func (c *Client) SendRaw(line string) error {
	m, err := ircmsg.ParseString(line)
	if err != nil {
		return err
	}
	return c.Send(m)
}

func encode(m *ircmsg.Message) ([]byte, error) {
	return filter.IRCv3{}.Encode(nil, m)
}

func (c *Client) enqueue(recs ...[]byte) error {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if c.closed || c.quitting {
		return ErrClosed
	}
	if max := orInt(c.cfg.Flood.MaxQueue, DefaultMaxQueue); len(c.normal)+len(recs) > max {
		return fmt.Errorf("%w: %d queued, limit %d", ErrQueueFull, len(c.normal), max)
	}
	c.normal = append(c.normal, recs...)
	if c.cur != nil {
		c.cur.wakeLocked()
	}
	return nil
}

// Queued returns how many messages wait for flood control.
func (c *Client) Queued() int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return len(c.normal)
}
