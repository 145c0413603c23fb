package ircsock

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
)

// Defaults of the zero Config and ListenerConfig fields.
const (
	DefaultMaxLine          = filter.DefaultLineMax
	DefaultMaxSendQ         = sock.DefaultMaxSendQ
	DefaultEvents           = 1024
	DefaultConnectTimeout   = sock.DefaultConnectTimeout
	DefaultHandshakeTimeout = sock.DefaultHandshakeTimeout
	DefaultDrainTimeout     = sock.DefaultDrainTimeout
	DefaultIdle             = sock.DefaultIdle
	DefaultEarlyInput       = 4096
)

// Reasons of Disconnect events the Backend chooses itself.
const (
	// ReasonClientDisconnect is used by Disconnect and DisconnectNow when
	// they are given an empty reason (the original's default).
	ReasonClientDisconnect = "Client disconnect"
	// ReasonShutdown is the reason of every connection closed by Shutdown
	// or Close.
	ReasonShutdown = "Server shutdown"
	// ReasonSendQ is the reason when a connection's send queue overflows.
	ReasonSendQ = sock.ReasonSendQ
	// ReasonPeerClosed is the reason when the peer ends its stream; what
	// was queued for it is written first.
	ReasonPeerClosed = sock.ReasonPeerClosed
)

// Errors returned by Backend methods.
var (
	// ErrClosed is returned by calls made after Shutdown or Close began.
	ErrClosed = errors.New("ircsock: backend closed")
	// ErrUnknownConn means the connection id is unknown or already gone.
	ErrUnknownConn = errors.New("ircsock: unknown connection")
	// ErrUnknownListener means the listener id is unknown or removed.
	ErrUnknownListener = errors.New("ircsock: unknown listener")
	// ErrDisconnecting means the connection is already disconnecting.
	ErrDisconnecting = errors.New("ircsock: connection already disconnecting")
	// ErrAlreadyCompressed means compression was asked for twice in the
	// same direction; two zlib layers are never stacked.
	ErrAlreadyCompressed = errors.New("ircsock: link already compressed")
	// ErrNotCompressed means UnsetCompressedLink found nothing to remove.
	ErrNotCompressed = errors.New("ircsock: link not compressed")
	// ErrArmedLate means CompressInputAfter came after the reader had
	// decoded input past the switch point, or more input than it can
	// check: nothing is armed. As the Err of an InputError it means an
	// arm that looked in time lost the race to the next line: the switch
	// is off.
	ErrArmedLate = errors.New("ircsock: CompressInputAfter armed too late")
	// ErrNilMatch means CompressInputAfter was given no match function.
	ErrNilMatch = errors.New("ircsock: CompressInputAfter needs a match function")
	// ErrWebSocketCompression means zlib compression was asked for on a
	// WebSocket connection: its messages carry lines, not a byte stream.
	ErrWebSocketCompression = errors.New("ircsock: no zlib compression over WebSocket")
	// ErrNoTLSConfig means a listener asked for TLS with no configuration.
	ErrNoTLSConfig = errors.New("ircsock: TLS requested without a certificate")
	// ErrDrainTimeout is the cause, inside a *DrainError, of a graceful
	// close that ran out of Config.DrainTimeout.
	ErrDrainTimeout = sock.ErrDrainTimeout
	// ErrPartialRecord is the error of an InputError for input that ended
	// without a line end: the peer's last bytes, never silently dropped.
	ErrPartialRecord = sock.ErrPartialRecord
)

// DrainError is the Err of a Disconnect event whose graceful close was cut
// (by Config.DrainTimeout or by Shutdown's context) before the peer
// closed; Undelivered says how many bytes the peer had not acknowledged.
type DrainError = sock.DrainError

// ShutdownError reports a Shutdown that could not deliver everything: its
// context ended first, or drains were cut with bytes undelivered.
type ShutdownError struct {
	// Conns is how many connections' drains were cut (by the context, or
	// by DrainTimeout with bytes undelivered); Bytes is the sum of their
	// Disconnect.Undelivered.
	Conns int
	Bytes int64
	// Err is the context's error when it ended first, else nil.
	Err error
}

func (e *ShutdownError) Error() string {
	s := fmt.Sprintf("ircsock: shutdown cut %d connections with %d bytes undelivered", e.Conns, e.Bytes)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the context's error, so errors.Is(err,
// context.DeadlineExceeded) works.
func (e *ShutdownError) Unwrap() error { return e.Err }

// SendError reports the targets a Send could not queue to. The message
// was queued to every other target.
type SendError struct {
	IDs  []ConnID
	Errs []error // Errs[i] is why IDs[i] failed (ErrUnknownConn, ...)
}

func (e *SendError) Error() string {
	if len(e.IDs) == 1 {
		return fmt.Sprintf("ircsock: send to %d: %v", e.IDs[0], e.Errs[0])
	}
	return fmt.Sprintf("ircsock: send failed for %d connections (first %d: %v)", len(e.IDs), e.IDs[0], e.Errs[0])
}

// Unwrap returns the per-target errors, so errors.Is(err, ErrUnknownConn)
// works.
func (e *SendError) Unwrap() []error { return e.Errs }

// Backend is the POEx::IRC::Backend API in Go: it owns listeners,
// connectors and connections and reports everything on one channel.
//
// Every method may be called from any goroutine, including the controller
// goroutine that reads Events: none of them waits for the controller.
type Backend struct {
	cfg      Config
	events   chan Event
	quit     chan struct{} // closed by Close: blocked sends give up
	maxLine  int
	earlyMax int // Config.EarlyInput with its default; negative: none
	closing  atomic.Bool
	quitOnce sync.Once
	endOnce  sync.Once
	ended    chan struct{} // closed once the events channel is closed

	mu         sync.RWMutex
	conns      map[ConnID]*Conn
	listeners  map[ListenerID]*Listener
	connectors map[ConnectorID]*Connector
	socks      []*sock.Listener // listeners started and not yet drained, to Wait

	nextConn, nextListener, nextConnector atomic.Uint64
	dialers                               sync.WaitGroup

	// What connections closed during Shutdown or Close lost, for
	// Shutdown's error.
	lostConns atomic.Int64
	lostBytes atomic.Int64

	// The pump delivers events produced where blocking is not allowed
	// (on the controller's own calls, in timers), in FIFO order.
	pmu     sync.Mutex
	pq      []pumpItem
	pumping bool
	pumpWG  sync.WaitGroup

	// scratch is Send's format buffer. One goroutine, the controller,
	// usually sends, so a single swapped slot serves it at the cost of one
	// atomic swap; a concurrent Send finding it empty makes its own.
	scratch atomic.Pointer[[]byte]

	// Write coalescing (coalesce.go): conns whose lines Send queued
	// without waking the writer, and the timer that bounds the wait.
	dmu        sync.Mutex
	dirty      []*Conn
	flushT     *time.Timer
	flushArmed bool
	hasDirty   atomic.Bool
	fmu        sync.Mutex // serializes flushDirty, which owns spareDirty
	spareDirty []*Conn
}

type pumpItem struct {
	ev    Event
	after func()
	conn  *Conn
}

// New starts a Backend (spawn). Its first event is [Registered].
func New(cfg Config) *Backend {
	n := cfg.Events
	if n <= 0 {
		n = DefaultEvents
	}
	b := &Backend{
		cfg:        cfg,
		events:     make(chan Event, n),
		quit:       make(chan struct{}),
		ended:      make(chan struct{}),
		conns:      make(map[ConnID]*Conn),
		listeners:  make(map[ListenerID]*Listener),
		connectors: make(map[ConnectorID]*Connector),
		maxLine:    cfg.MaxLine,
	}
	if b.maxLine <= 0 {
		b.maxLine = DefaultMaxLine
	}
	b.earlyMax = cfg.EarlyInput
	if b.earlyMax == 0 {
		b.earlyMax = DefaultEarlyInput
	}
	b.events <- Registered{Backend: b}
	return b
}

// Events returns the channel on which every event is delivered, in order,
// to the one controller (register). It is closed after the last event.
//
// The channel is bounded (Config.Events). When it is full, the goroutines
// reading connections wait, which stops reading their sockets, so TCP
// flow control slows the peers down: input is never dropped. A controller
// must therefore keep reading, including while Shutdown runs.
func (b *Backend) Events() <-chan Event { return b.events }

// send delivers ev, waiting while the channel is full, unless Close.
// The first try does not block: it is a plain channel send, where the
// two-case select costs several times more on every input line.
func (b *Backend) send(ev Event) {
	select {
	case b.events <- ev:
		return
	default:
	}
	select {
	case b.events <- ev:
	case <-b.quit:
	}
}

// post queues ev for the pump without blocking. A conn event is dropped
// once that connection's Disconnect is queued, so it never comes after.
func (b *Backend) post(ev Event, c *Conn, after func()) {
	b.pmu.Lock()
	if c != nil {
		if c.gone {
			b.pmu.Unlock()
			return
		}
		if _, ok := ev.(Disconnect); ok {
			c.gone = true
		}
	}
	b.pq = append(b.pq, pumpItem{ev: ev, after: after, conn: c})
	if !b.pumping {
		b.pumping = true
		b.pumpWG.Add(1)
		go b.pump()
	}
	b.pmu.Unlock()
}

func (b *Backend) pump() {
	defer b.pumpWG.Done()
	b.pmu.Lock()
	for len(b.pq) > 0 {
		it := b.pq[0]
		b.pq[0] = pumpItem{}
		b.pq = b.pq[1:]
		b.pmu.Unlock()
		b.send(it.ev)
		if _, ok := it.ev.(ConnectionIdle); ok {
			b.pmu.Lock()
			it.conn.idleQueued = false
			b.pmu.Unlock()
		}
		if it.after != nil {
			it.after()
		}
		b.pmu.Lock()
	}
	b.pq = nil
	b.pumping = false
	b.pmu.Unlock()
}

// Listener is a listening socket and its settings. Its methods report
// zero values on a nil *Listener (the Listener of a zero event).
type Listener struct {
	id   ListenerID
	sl   *sock.Listener
	addr netip.AddrPort
	tls  bool
	idle time.Duration
	args any
	cfg  ListenerConfig
}

// ID returns the listener's id.
func (l *Listener) ID() ListenerID {
	if l == nil {
		return 0
	}
	return l.id
}

// Addr returns the bound address (unmapped).
func (l *Listener) Addr() netip.Addr { return l.AddrPort().Addr() }

// Port returns the real bound port, also for a requested port 0.
func (l *Listener) Port() int { return int(l.AddrPort().Port()) }

// AddrPort returns the bound address and real port; its String is the
// "host:port" a ConnectorConfig.Addr takes.
func (l *Listener) AddrPort() netip.AddrPort {
	if l == nil {
		return netip.AddrPort{}
	}
	return l.addr
}

// TLS reports whether the listener speaks TLS.
func (l *Listener) TLS() bool { return l != nil && l.tls }

// Idle returns the idle time of the listener's connections (negative:
// none).
func (l *Listener) Idle() time.Duration {
	if l == nil {
		return 0
	}
	return l.idle
}

// Args returns ListenerConfig.Args.
func (l *Listener) Args() any {
	if l == nil {
		return nil
	}
	return l.args
}

// CreateListener binds and starts accepting. It reports the result both
// as its return value and as a ListenerCreated or ListenerFailure event;
// ListenerCreated is delivered before any ListenerOpen of the listener,
// and never for a listener that failed. Refused and failed connections
// are reported as ListenerFailure with Op "accept" (the listener backs
// off and goes on), "tls" (a failed handshake), "limit" (MaxConns or
// MaxConnsPerIP), "proxy" (a PROXY protocol header missing, malformed,
// late or from an untrusted address) or "websocket" (a refused upgrade
// request).
func (b *Backend) CreateListener(cfg ListenerConfig) (*Listener, error) {
	if b.closing.Load() {
		return nil, ErrClosed
	}
	l := &Listener{id: ListenerID(b.nextListener.Add(1)), idle: cfg.Idle, args: cfg.Args, cfg: cfg}
	if l.idle == 0 {
		l.idle = DefaultIdle
	}
	if cfg.WebSocket != nil && cfg.CompressInputAfter != nil {
		// Refused at once, as SetCompressedLink is on such a connection.
		return nil, fmt.Errorf("%w: ListenerConfig.CompressInputAfter on a WebSocket listener", ErrWebSocketCompression)
	}
	tcfg, err := b.listenerTLS(cfg)
	if err != nil {
		b.post(ListenerFailure{Listener: l, Op: sock.OpTLS, Err: err}, nil, nil)
		return nil, err
	}
	l.tls = tcfg != nil
	sl, err := sock.Listen(sock.ListenConfig{
		Addr: cfg.Addr, Listener: cfg.Listener,
		TLS: tcfg, HandshakeTimeout: b.cfg.HandshakeTimeout,
		MaxConns: cfg.MaxConns, MaxConnsPerIP: cfg.MaxConnsPerIP,
		ProxyFrom: cfg.ProxyFrom, ProxyOptional: cfg.ProxyOptional,
		ProxyTimeout: cfg.ProxyTimeout, ProxyMaxHeader: cfg.ProxyMaxHeader,
		IPv6Prefix: cfg.IPv6Prefix, Throttle: cfg.Throttle, Exempt: cfg.Exempt,
		Refusal:   refusalLine,
		WebSocket: wsConfig(cfg.WebSocket),
	}, listenHandler{b, l})
	if err != nil {
		op := opOf(err, sock.OpBind)
		b.post(ListenerFailure{Listener: l, Op: op, Errno: sock.Errno(err), Err: err}, nil, nil)
		return nil, err
	}
	l.sl, l.addr = sl, sl.Addr()
	b.mu.Lock()
	if b.closing.Load() {
		b.mu.Unlock()
		_ = sl.Close()
		return nil, ErrClosed
	}
	b.listeners[l.id] = l
	// Removed listeners stay in socks until their connections are gone,
	// for waitProducers; forget the drained ones here so that a server
	// adding and removing listeners for ever keeps a bounded list.
	b.socks = append(slices.DeleteFunc(b.socks, (*sock.Listener).Drained), sl)
	b.mu.Unlock()
	// Accept only once ListenerCreated is in the channel, so that it
	// precedes every ListenerOpen of this listener.
	b.post(ListenerCreated{Listener: l}, nil, func() {
		b.mu.RLock()
		_, live := b.listeners[l.id]
		b.mu.RUnlock()
		if live {
			sl.Start()
		}
	})
	return l, nil
}

// wsConfig turns a WebSocketConfig into sock's, with the IRCv3
// subprotocols.
func wsConfig(c *WebSocketConfig) *sock.WebSocketConfig {
	if c == nil {
		return nil
	}
	return &sock.WebSocketConfig{
		Path: c.Path, Origins: c.Origins, MaxRequest: c.MaxRequest,
		TextSubprotocols:   []string{SubprotocolText},
		BinarySubprotocols: []string{SubprotocolBinary},
	}
}

func (b *Backend) listenerTLS(cfg ListenerConfig) (*tls.Config, error) {
	switch {
	case cfg.TLS != nil:
		return cfg.TLS, nil
	case cfg.CertFile != "" || cfg.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("ircsock: listener certificate: %w", err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}}, nil
	case cfg.UseTLS:
		if b.cfg.TLS == nil {
			return nil, ErrNoTLSConfig
		}
		return b.cfg.TLS, nil
	}
	return nil, nil
}

type listenHandler struct {
	b *Backend
	l *Listener
}

func (h listenHandler) HandleListen(ev sock.ListenEvent) {
	switch {
	case ev.Conn != nil:
		h.b.serveConn(ev.Conn, h.l, nil, ev.Release)
	case ev.Err != nil:
		h.b.post(ListenerFailure{Listener: h.l, Op: opOf(ev.Err, sock.OpAccept), Errno: sock.Errno(ev.Err), Err: ev.Err}, nil, nil)
	}
}

// opOf returns the operation of the *sock.OpError in err, or def.
func opOf(err error, def sock.Op) sock.Op {
	var oe *sock.OpError
	if errors.As(err, &oe) {
		return oe.Op
	}
	return def
}

// RemoveListener closes the listener id; its connections stay open. A
// ListenerRemoved event follows.
func (b *Backend) RemoveListener(id ListenerID) error {
	if b.closing.Load() {
		return ErrClosed
	}
	b.mu.Lock()
	l, ok := b.listeners[id]
	delete(b.listeners, id)
	b.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownListener, id)
	}
	_ = l.sl.Close()
	b.post(ListenerRemoved{Listener: l}, nil, nil)
	return nil
}

// RemoveListeners closes every listener bound to addr (if valid) and port
// (if nonzero), and returns how many it removed. Addresses compare as
// netip.Addr values, so "::0" and "::" are the same. With neither addr nor
// port it removes nothing.
func (b *Backend) RemoveListeners(addr netip.Addr, port int) int {
	if (!addr.IsValid() && port == 0) || b.closing.Load() {
		return 0
	}
	addr = addr.Unmap()
	var ids []ListenerID
	b.mu.RLock()
	for id, l := range b.listeners {
		if addr.IsValid() && l.addr.Addr() != addr {
			continue
		}
		if port != 0 && l.Port() != port {
			continue
		}
		ids = append(ids, id)
	}
	b.mu.RUnlock()
	n := 0
	for _, id := range ids {
		if b.RemoveListener(id) == nil {
			n++
		}
	}
	return n
}

// Connector is a pending outgoing connection. Its methods report zero
// values on a nil *Connector (the Connector of a zero event).
type Connector struct {
	id     ConnectorID
	cfg    ConnectorConfig
	args   any
	cancel context.CancelFunc // stops the dial; Shutdown and Close call it
}

// ID returns the connector's id.
func (c *Connector) ID() ConnectorID {
	if c == nil {
		return 0
	}
	return c.id
}

// Addr returns the remote "host:port" it dials.
func (c *Connector) Addr() string {
	if c == nil {
		return ""
	}
	return c.cfg.Addr
}

// Args returns ConnectorConfig.Args.
func (c *Connector) Args() any {
	if c == nil {
		return nil
	}
	return c.args
}

// CreateConnector starts dialing cfg.Addr on its own goroutine (resolving
// there, never blocking the caller); the result is a ConnectorOpen (after
// the TLS handshake, if any) or ConnectorFailure event with Op
// sock.OpResolve, OpDial or OpTLS. ctx cancels the dial; Shutdown and
// Close do too. An Addr that is not "host:port" with a port in 1-65535,
// or a BindAddr that is not an IP address, is an error here and no event.
func (b *Backend) CreateConnector(ctx context.Context, cfg ConnectorConfig) (*Connector, error) {
	d, err := b.dialer(cfg)
	if err != nil {
		return nil, err
	}
	k := &Connector{id: ConnectorID(b.nextConnector.Add(1)), cfg: cfg, args: cfg.Args}
	dctx, cancel := context.WithCancel(ctx)
	k.cancel = cancel
	b.mu.Lock()
	if b.closing.Load() {
		b.mu.Unlock()
		cancel()
		return nil, ErrClosed
	}
	b.connectors[k.id] = k
	b.dialers.Add(1)
	b.mu.Unlock()
	go b.dial(dctx, d, k)
	return k, nil
}

// dialer checks cfg's addresses and returns the dialer for it.
func (b *Backend) dialer(cfg ConnectorConfig) (*net.Dialer, error) {
	_, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("ircsock: create connector: address %q: %w", cfg.Addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return nil, fmt.Errorf("ircsock: create connector: address %q: the port must be a number in 1-65535", cfg.Addr)
	}
	d := &net.Dialer{Timeout: cfg.Timeout}
	if d.Timeout <= 0 {
		d.Timeout = b.cfg.ConnectTimeout
	}
	if cfg.BindAddr != "" {
		ba, err := netip.ParseAddr(cfg.BindAddr)
		if err != nil {
			return nil, fmt.Errorf("ircsock: create connector: bind address: %w", err)
		}
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(ba, 0))
	}
	return d, nil
}

func (b *Backend) dial(ctx context.Context, d *net.Dialer, k *Connector) {
	defer b.dialers.Done()
	c, err := sock.Dial(ctx, d, k.cfg.Addr, k.cfg.TLS)
	k.cancel()
	b.mu.Lock()
	delete(b.connectors, k.id)
	b.mu.Unlock()
	if err != nil {
		b.post(ConnectorFailure{Connector: k, Op: opOf(err, sock.OpDial), Errno: sock.Errno(err), Err: err}, nil, nil)
		return
	}
	b.dialers.Add(1)
	b.serveConn(c, nil, k, b.dialers.Done)
}

// Listeners returns the open listeners.
func (b *Backend) Listeners() []*Listener {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]*Listener, 0, len(b.listeners))
	for _, l := range b.listeners {
		out = append(out, l)
	}
	return out
}

// Connectors returns the connectors still dialing.
func (b *Backend) Connectors() []*Connector {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]*Connector, 0, len(b.connectors))
	for _, k := range b.connectors {
		out = append(out, k)
	}
	return out
}

// Conn returns the live connection id.
func (b *Backend) Conn(id ConnID) (*Conn, bool) {
	b.mu.RLock()
	c, ok := b.conns[id]
	b.mu.RUnlock()
	return c, ok
}

// Conns returns the live connections.
func (b *Backend) Conns() []*Conn {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]*Conn, 0, len(b.conns))
	for _, c := range b.conns {
		out = append(out, c)
	}
	return out
}

// Send formats m once (with Config.Format) and queues the line to each
// connection in ids, in the order given. Targets that are unknown, gone or
// disconnecting are skipped and listed in a *SendError (errors.Is(err,
// ErrUnknownConn), ErrDisconnecting, ...); the others still get the
// message. A message that cannot be formatted is an error and nothing is
// sent.
func (b *Backend) Send(m *ircmsg.Message, ids ...ConnID) error {
	if b.closing.Load() {
		return ErrClosed
	}
	if m == nil {
		return errors.New("ircsock: send: nil message")
	}
	bp := b.scratch.Swap(nil)
	if bp == nil {
		bp = new([]byte)
	}
	line, err := b.cfg.Format.Append((*bp)[:0], m)
	if err != nil {
		b.scratch.Store(bp)
		return fmt.Errorf("ircsock: send %s: %w", m.Command, err)
	}
	var se *SendError
	// One read lock for the whole call, not one per id: for a message to
	// a thousand connections the lock word's cache line would otherwise
	// bounce between this goroutine and every reader registering or
	// forgetting a connection. Wheel.Write never waits on b.mu.
	b.mu.RLock()
	defer b.mu.RUnlock()
	// More events waiting for the controller: queue now, write with the
	// rest of the burst (coalesce.go).
	deferred := len(b.events) > 0
	if deferred {
		b.dmu.Lock()
	}
	for _, id := range ids {
		c := b.conns[id]
		var werr error
		switch {
		case c == nil:
			werr = ErrUnknownConn
		case deferred:
			werr = b.queueDeferred(c, line)
		default:
			werr = c.w.Write(line)
		}
		if errors.Is(werr, sock.ErrClosing) {
			werr = ErrDisconnecting
		}
		if werr != nil {
			if se == nil {
				se = &SendError{}
			}
			se.IDs = append(se.IDs, id)
			se.Errs = append(se.Errs, werr)
		}
	}
	if deferred {
		b.armFlushLocked()
		b.dmu.Unlock()
	} else if b.hasDirty.Load() {
		b.flushDirty()
	}
	if cap(line) <= 64<<10 {
		*bp = line[:0]
		b.scratch.Store(bp)
	}
	if se != nil {
		return se
	}
	return nil
}

func (b *Backend) lookup(id ConnID) (*Conn, error) {
	if b.closing.Load() {
		return nil, ErrClosed
	}
	b.mu.RLock()
	c := b.conns[id]
	b.mu.RUnlock()
	if c == nil {
		return nil, fmt.Errorf("%w: %d", ErrUnknownConn, id)
	}
	return c, nil
}

// Disconnect closes id gracefully, the way a lingering close in a web
// server does: everything queued before it is written, the write side is
// shut (for TLS a close_notify, then the TCP FIN), and the connection is
// read until the peer closes its side, so that a peer still talking while
// it reads its last replies gets every byte instead of a reset. Input read
// meanwhile is still delivered. Config.DrainTimeout bounds it all; past it
// the connection is closed and the Disconnect event's Err is a *DrainError
// and its Undelivered the bytes the peer had not acknowledged. An empty
// reason means ReasonClientDisconnect. A second call returns
// ErrDisconnecting.
func (b *Backend) Disconnect(id ConnID, reason string) error {
	c, err := b.lookup(id)
	if err != nil {
		return err
	}
	if reason == "" {
		reason = ReasonClientDisconnect
	}
	if !c.w.Disconnect(reason) {
		return ErrDisconnecting
	}
	return nil
}

// DisconnectNow closes id at once, dropping its queue. Its Disconnect event
// carries reason unless a Disconnect was already under way (the first
// reason wins).
func (b *Backend) DisconnectNow(id ConnID, reason string) error {
	c, err := b.lookup(id)
	if err != nil {
		return err
	}
	if reason == "" {
		reason = ReasonClientDisconnect
	}
	c.w.Close(reason, nil)
	return nil
}

// Shutdown stops listeners and connectors and closes every connection
// gracefully as Disconnect does (with ReasonShutdown, within
// Config.DrainTimeout): each queue is written, the write side shut, and
// the peer's close awaited. Shutdown then delivers the last events and
// closes the events channel; the controller must keep reading Events
// meanwhile.
//
// It returns nil only if no drain was cut with bytes undelivered (a drain
// that ran out of DrainTimeout after the peer had acknowledged everything
// lost nothing). If ctx ends first, the drains still under way are cut
// (their Disconnect events carry a *DrainError) and Shutdown returns a
// *ShutdownError wrapping ctx's error; a drain cut by DrainTimeout with
// bytes undelivered gives one too. The error says how many connections
// were cut and how many bytes they lost. A peer that resets is not a cut:
// its Disconnect event has the error and its Undelivered bytes. Calls
// after the first return ErrClosed; Close stops at once.
func (b *Backend) Shutdown(ctx context.Context) error {
	if !b.beginClose() {
		return ErrClosed
	}
	b.cancelDials()
	b.flushDirty()
	b.mu.RLock()
	for _, c := range b.conns {
		c.w.Disconnect(ReasonShutdown)
	}
	b.mu.RUnlock()
	done := make(chan struct{})
	go func() {
		b.waitProducers()
		close(done)
	}()
	var ctxErr error
	select {
	case <-done:
	case <-ctx.Done():
		ctxErr = ctx.Err()
		b.mu.RLock()
		for _, c := range b.conns {
			c.w.Cut(ctxErr)
		}
		b.mu.RUnlock()
		<-done
	}
	b.finish()
	if b.lostBytes.Load() > 0 || ctxErr != nil {
		return &ShutdownError{Conns: int(b.lostConns.Load()), Bytes: b.lostBytes.Load(), Err: ctxErr}
	}
	return nil
}

// Close stops everything at once: listeners, connectors, and every
// connection with its queue dropped. Events still undelivered are dropped
// too; the events channel is closed before Close returns. A second Close
// returns ErrClosed; Close during Shutdown cuts it short.
func (b *Backend) Close() error {
	first := b.beginClose()
	b.flushDirty() // stops the coalescing timer; the queues are dropped
	b.abort()
	if !first {
		<-b.ended
		return ErrClosed
	}
	b.waitProducers()
	b.finish()
	return nil
}

// beginClose marks the Backend closing and closes every listener; it
// reports whether this was the first call.
func (b *Backend) beginClose() bool {
	b.mu.Lock()
	if b.closing.Load() {
		b.mu.Unlock()
		return false
	}
	b.closing.Store(true)
	ls := make([]*Listener, 0, len(b.listeners))
	for id, l := range b.listeners {
		ls = append(ls, l)
		delete(b.listeners, id)
	}
	b.mu.Unlock()
	for _, l := range ls {
		_ = l.sl.Close()
		b.post(ListenerRemoved{Listener: l}, nil, nil)
	}
	return true
}

func (b *Backend) abort() {
	b.quitOnce.Do(func() { close(b.quit) })
	b.cancelDials()
	b.mu.RLock()
	for _, c := range b.conns {
		c.w.Close(ReasonShutdown, nil)
	}
	b.mu.RUnlock()
}

// cancelDials stops every dial still under way; their ConnectorFailure
// events follow.
func (b *Backend) cancelDials() {
	b.mu.RLock()
	for _, k := range b.connectors {
		k.cancel()
	}
	b.mu.RUnlock()
}

// waitProducers waits for every goroutine that can produce an event. New
// ones cannot start: closing is set under mu before this runs.
func (b *Backend) waitProducers() {
	b.dialers.Wait()
	b.mu.RLock()
	socks := b.socks
	b.mu.RUnlock()
	for _, sl := range socks {
		_ = sl.Close()
		sl.Wait()
	}
}

func (b *Backend) finish() {
	b.endOnce.Do(func() {
		b.pumpWG.Wait()
		close(b.events)
		close(b.ended)
	})
	<-b.ended
}
