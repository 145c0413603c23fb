package sock

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultHandshakeTimeout bounds a TLS handshake when no timeout is set.
const DefaultHandshakeTimeout = 10 * time.Second

// DefaultProxyTimeout bounds the reading of a PROXY protocol header when
// [ListenConfig.ProxyTimeout] is zero.
const DefaultProxyTimeout = 5 * time.Second

// Accept backoff after a temporary error such as EMFILE: it starts at
// minBackoff and doubles up to maxBackoff, so a listener out of file
// descriptors neither spins nor gives up.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// ErrBadConfig is the cause of a [Listen] refused because a setting of
// its [ListenConfig] is out of range; the error names the setting.
var ErrBadConfig = errors.New("sock: listener setting out of range")

// Causes of [OpLimit] failures (in a [ListenEvent]).
var (
	// ErrMaxConns means [ListenConfig.MaxConns] connections were open.
	ErrMaxConns = errors.New("sock: too many connections (MaxConns)")
	// ErrMaxConnsPerIP means [ListenConfig.MaxConnsPerIP] connections from
	// the same address were open.
	ErrMaxConnsPerIP = errors.New("sock: too many connections from one address (MaxConnsPerIP)")
)

// ListenConfig configures a [Listener]. The zero value listens on an
// ephemeral port of every local address, without TLS or limits.
type ListenConfig struct {
	// Addr is the "host:port" to bind, as for net.Listen: an empty host
	// binds every local address (IPv4 and IPv6), an IPv4 or IPv6 literal
	// binds that address only, and port 0 picks an ephemeral port
	// ([Listener.Port]). Empty means ":0".
	Addr string
	// Listener, when set, is accepted from instead of binding Addr.
	Listener net.Listener
	// TLS, when set, makes every accepted connection a TLS server. The
	// handshake runs on the connection's own goroutine.
	TLS *tls.Config
	// HandshakeTimeout bounds the TLS handshake, and, separately, the
	// WebSocket upgrade. Zero means [DefaultHandshakeTimeout].
	HandshakeTimeout time.Duration
	// WebSocket, when set, makes the listener accept WebSocket
	// connections (after TLS, if any) and hand each to Serve as a
	// *[WebSocketConn]. Nil means raw streams.
	WebSocket *WebSocketConfig
	// MaxConns is the most connections open at once; zero or negative
	// means no limit.
	MaxConns int
	// MaxConnsPerIP is the most open at once from one address; zero or
	// negative means no limit. Behind a trusted proxy the address is the one its PROXY
	// header names, counted once the header is read.
	MaxConnsPerIP int

	// ProxyFrom lists the networks of trusted proxies that speak the PROXY
	// protocol (version 1 or 2, as HAProxy's send-proxy and send-proxy-v2
	// do). A connection from one of them must start with a header, read
	// before the TLS handshake within ProxyTimeout, whose source address
	// then is the connection's RemoteAddr, and the address MaxConnsPerIP
	// counts; a LOCAL or UNKNOWN header keeps the socket's address. A
	// connection from anywhere else that starts with a header is refused
	// ([ErrProxyUntrusted]) when it sends it. Empty means no PROXY
	// protocol: nothing is read ahead.
	ProxyFrom []netip.Prefix
	// ProxyOptional lets a trusted proxy connect without a header (the
	// socket's address is used). False refuses such a connection with
	// [ErrProxyMissing].
	ProxyOptional bool
	// ProxyTimeout bounds the reading of the header. Zero means
	// [DefaultProxyTimeout].
	ProxyTimeout time.Duration
	// ProxyMaxHeader bounds a version 2 header in bytes (a version 1
	// header is bounded by the specification's [ProxyV1Max]). Zero means
	// [DefaultProxyMaxHeader].
	ProxyMaxHeader int

	// IPv6Prefix is how many leading bits of an IPv6 address the
	// per-address limits (MaxConnsPerIP, Throttle) count as one client.
	// Zero means [DefaultIPv6Prefix] (64); 128 counts single addresses.
	// Outside 0 to 128, Listen fails with [ErrBadConfig].
	IPv6Prefix int
	// Throttle limits the rate of new connections per address; the zero
	// value is off.
	Throttle Throttle
	// Exempt lists networks the per-address limits (MaxConnsPerIP and
	// Throttle) do not apply to; MaxConns still does.
	Exempt []netip.Prefix
	// Admission, when set, is the admission state this listener shares
	// with the other listeners given the same one: its MaxConns,
	// MaxConnsPerIP, Throttle and Exempt count every connection to any
	// of them, so that one client is counted once whichever listener
	// (plain, TLS, WebSocket) it uses. The listener's own MaxConns,
	// MaxConnsPerIP, IPv6Prefix, Throttle and Exempt must then be zero,
	// or Listen fails with [ErrBadConfig]. Nil means the listener counts
	// on its own, with its own settings. The refusal settings below
	// stay the listener's own, and so do its [Listener.Refusals].
	Admission *Admission
	// Refusal, when set, makes the bytes sent to a connection refused by
	// a limit (MaxConns, MaxConnsPerIP, Throttle) before it is closed,
	// from the [*LimitError] that refused it: a protocol's way of saying
	// why. On a TLS listener it is sent after a handshake, within
	// RefuseLinger. Nil means the connection is closed without a word;
	// the refusal is reported, and counted ([Listener.Refusals]), either
	// way.
	//
	// A WebSocket listener does not use it: there the refused client's
	// upgrade request is read (after the TLS handshake on a secure one,
	// all within RefuseLinger) and answered with HTTP 503 Service
	// Unavailable, the refusal as its text and, when the limit knows
	// when the client may come back (Throttle), a Retry-After in
	// seconds. A browser's script sees only a failed connection, but
	// the browser's console shows the status, and a non-browser client
	// can read all of it.
	Refusal func(err error) []byte
	// RefuseLinger is how long a refused connection that was sent a
	// Refusal line is kept, its input read and thrown away, before it is
	// closed, so that the line is not lost to the reset that closing a
	// socket with unread input sends; on a TLS listener it bounds the
	// handshake and the line too, on a WebSocket listener the upgrade
	// request and the 503. Zero means [DefaultRefuseLinger] (2 s).
	// Negative means no lingering: a plain connection is closed right
	// after its line is written, a TLS or WebSocket one at once, without
	// an answer (the failure event says so).
	RefuseLinger time.Duration
	// MaxRefusing is the most refused connections lingering at once (one
	// goroutine each). Past it a refused connection is closed at once,
	// after its line on a plain listener, without an answer on a TLS or
	// WebSocket listener, and its failure event also carries
	// [ErrMaxRefusing] (counted in [Refusals].OverMaxRefusing). Zero means
	// [DefaultMaxRefusing] (256); negative means none lingers.
	MaxRefusing int

	// FDConns, on Linux, hands each plaintext TCP connection out as an
	// *[FDConn], its bare socket descriptor, instead of a *net.TCPConn:
	// less memory per connection, without the runtime's own per-socket
	// state, for a server that holds many idle ones. Code that
	// type-asserts *net.TCPConn must leave it off. It is ignored with TLS or WebSocket, when Listener is not a
	// *net.TCPListener, and on other systems.
	FDConns bool
}

// A Listener accepts connections and hands each one to its
// [ListenHandler] on a new goroutine.
type Listener struct {
	ln  net.Listener
	fds bool // hand out FDConns

	fdLocal *netip.AddrPort // the accept loop's: see fdConnOf
	cfg     ListenConfig
	h       ListenHandler
	addr    netip.AddrPort

	quit    chan struct{}
	ctx     context.Context // cancelled by Close: ends TLS handshakes in progress
	cancel  context.CancelFunc
	once    sync.Once
	loop    sync.WaitGroup
	conns   sync.WaitGroup
	mu      sync.Mutex
	started bool
	stopped bool
	done    bool       // Close has seen the accept loop end
	open    int        // connections admitted and not released
	adm     *Admission // the listener's own, or the one in cfg.Admission

	refusing int // refused connections lingering
	lingerWG sync.WaitGroup

	refused         [refusedKinds]atomic.Uint64 // by limit, see Refusals
	overMaxRefusing atomic.Uint64
}

// Listen binds cfg.Addr (or takes cfg.Listener) without accepting yet;
// call [Listener.Start] to accept. An error is an *[OpError] with
// [OpResolve] or [OpBind]; a setting out of its range is an OpBind error
// wrapping [ErrBadConfig], and nothing is bound.
func Listen(cfg ListenConfig, h ListenHandler) (*Listener, error) {
	l := &Listener{cfg: cfg, h: h, quit: make(chan struct{}), adm: cfg.Admission}
	own := AdmissionConfig{MaxConns: cfg.MaxConns, MaxConnsPerIP: cfg.MaxConnsPerIP,
		IPv6Prefix: cfg.IPv6Prefix, Throttle: cfg.Throttle, Exempt: cfg.Exempt}
	if l.adm == nil {
		var err error
		if l.adm, err = NewAdmission(own); err != nil {
			return nil, &OpError{Op: OpBind, Addr: cfg.Addr, Err: err}
		}
	} else if own.MaxConns != 0 || own.MaxConnsPerIP != 0 || own.IPv6Prefix != 0 || own.Throttle != (Throttle{}) || own.Exempt != nil {
		return nil, &OpError{Op: OpBind, Addr: cfg.Addr, Err: fmt.Errorf("%w: MaxConns, MaxConnsPerIP, IPv6Prefix, Throttle and Exempt are set beside Admission, whose own settings apply", ErrBadConfig)}
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	ln := cfg.Listener
	if ln == nil {
		addr := cfg.Addr
		if addr == "" {
			addr = ":0"
		}
		var err error
		ln, err = (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr)
		if err != nil {
			l.cancel()
			op := OpBind
			var dnsErr *net.DNSError
			var addrErr *net.AddrError
			if errors.As(err, &dnsErr) || errors.As(err, &addrErr) {
				op = OpResolve
			}
			return nil, &OpError{Op: op, Addr: addr, Err: err}
		}
	}
	l.ln = ln
	_, tcp := ln.(*net.TCPListener)
	l.fds = canFD && cfg.FDConns && tcp && cfg.TLS == nil && cfg.WebSocket == nil
	if ta, ok := ln.Addr().(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		l.addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return l, nil
}

// Addr returns the bound address and the real port, unmapped.
func (l *Listener) Addr() netip.AddrPort { return l.addr }

// Port returns the real bound port.
func (l *Listener) Port() int { return int(l.addr.Port()) }

// TLS reports whether accepted connections speak TLS.
func (l *Listener) TLS() bool { return l.cfg.TLS != nil }

// Start starts the accept loop on its own goroutine.
// Start after Close does nothing.
func (l *Listener) Start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started || l.stopped {
		return
	}
	l.started = true
	l.loop.Add(1)
	go l.acceptLoop()
}

// Close stops accepting and waits for the accept loop; the connections
// already handed to the handler go on (see [Listener.Wait]). What has not
// reached the handler yet is cut short and reported as a failure: a PROXY
// header still being read, a TLS handshake or WebSocket upgrade in
// progress, and the linger of a refused connection.
func (l *Listener) Close() error {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	var err error
	l.once.Do(func() {
		close(l.quit)
		l.cancel()
		err = l.ln.Close()
	})
	l.loop.Wait()
	l.mu.Lock()
	l.done = true // the accept loop is gone: nothing more is admitted
	l.mu.Unlock()
	return err
}

// Wait waits until every connection handed to Serve has been released
// and every refused one is closed.
func (l *Listener) Wait() {
	l.conns.Wait()
	l.lingerWG.Wait()
}

// Drained reports whether the listener is closed and has no connection
// left open, so that an owner may forget it instead of waiting for it.
func (l *Listener) Drained() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.done && l.open == 0
}

func (l *Listener) acceptLoop() {
	defer l.loop.Done()
	delay := time.Duration(0)
	for {
		c, err := l.ln.Accept()
		if err != nil {
			select {
			case <-l.quit:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if delay == 0 {
				delay = minBackoff
				l.h.HandleListen(ListenEvent{Err: &OpError{Op: OpAccept, Addr: l.addr.String(), Err: err}})
			} else if delay *= 2; delay > maxBackoff {
				delay = maxBackoff
			}
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-l.quit:
				t.Stop()
				return
			}
			continue
		}
		delay = 0
		if l.fds {
			c = fdConnOf(c, &l.fdLocal)
		}
		ip := remoteAddr(c)
		// A trusted proxy's connection is counted per address only once
		// its header names the client, on the connection's goroutine.
		trusted := l.trusted(ip)
		counted, err := l.admit(ip, !trusted)
		if err != nil {
			if rerr := l.refuse(c, err); rerr != nil {
				err = fmt.Errorf("%w; %w", err, rerr)
			}
			l.h.HandleListen(ListenEvent{Err: &OpError{Op: OpLimit, Addr: ip.String(), Err: err}})
			continue
		}
		l.conns.Add(1)
		go l.serve(c, ip, trusted, counted)
	}
}

// trusted reports whether ip is in a trusted proxy network.
func (l *Listener) trusted(ip netip.Addr) bool {
	for _, p := range l.cfg.ProxyFrom {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func remoteAddr(c net.Conn) netip.Addr {
	// An FDConn's RemoteAddr makes a *net.TCPAddr (two allocations per
	// accepted connection, garbage at once); it keeps an AddrPort.
	if fc, ok := c.(interface{ RemoteAddrPort() netip.AddrPort }); ok {
		return fc.RemoteAddrPort().Addr().Unmap()
	}
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// admit counts a connection against the admission limits (see
// [Admission.admit]) and as open on this listener.
func (l *Listener) admit(ip netip.Addr, perIP bool) (counted bool, err error) {
	if counted, err = l.adm.admit(ip, perIP); err != nil {
		return false, err
	}
	l.mu.Lock()
	l.open++
	l.mu.Unlock()
	return counted, nil
}

// release uncounts a connection; counted says whether ip was counted
// per address.
func (l *Listener) release(ip netip.Addr, counted bool) {
	l.adm.release(ip, counted)
	l.mu.Lock()
	l.open--
	l.mu.Unlock()
}

func (l *Listener) serve(c net.Conn, ip netip.Addr, trusted, counted bool) {
	// counted: ip is counted against the per-address limits.
	release := func() {
		l.release(ip, counted)
		l.conns.Done()
	}
	if trusted {
		pc, src, err := l.readProxy(c, ip)
		if err != nil {
			_ = c.Close()
			l.h.HandleListen(ListenEvent{Err: &OpError{Op: OpProxy, Addr: ip.String(), Err: err}})
			release()
			return
		}
		ok, err := l.adm.admitIP(src)
		if err != nil {
			rerr := l.refuse(pc, err)
			err = fmt.Errorf("%w (through proxy %s)", err, ip)
			if rerr != nil {
				err = fmt.Errorf("%w; %w", err, rerr)
			}
			l.h.HandleListen(ListenEvent{Err: &OpError{Op: OpLimit, Addr: src.String(), Err: err}})
			release()
			return
		}
		c, ip, counted = pc, src, ok
	} else if len(l.cfg.ProxyFrom) > 0 {
		c = &guardConn{Conn: c, report: func(err error) {
			l.h.HandleListen(ListenEvent{Err: &OpError{Op: OpProxy, Addr: ip.String(), Err: err}})
		}}
	}
	if l.cfg.TLS != nil {
		tc, err := serverHandshake(l.ctx, c, l.cfg.TLS, l.cfg.HandshakeTimeout)
		if err != nil {
			l.h.HandleListen(ListenEvent{Err: err})
			release()
			return
		}
		c = tc
	}
	if l.cfg.WebSocket != nil {
		timeout := l.cfg.HandshakeTimeout
		if timeout <= 0 {
			timeout = DefaultHandshakeTimeout
		}
		wc, err := upgradeWebSocket(l.quit, c, l.cfg.WebSocket, timeout)
		if err != nil {
			l.h.HandleListen(ListenEvent{Err: &OpError{Op: OpWebSocket, Addr: ip.String(), Err: err}})
			release()
			return
		}
		c = wc
	}
	l.h.HandleListen(ListenEvent{Conn: c, Release: release})
}

// readProxy reads the PROXY header of a trusted peer's connection c and
// returns the connection to use and the client's address.
func (l *Listener) readProxy(c net.Conn, peer netip.Addr) (net.Conn, netip.Addr, error) {
	timeout := l.cfg.ProxyTimeout
	if timeout <= 0 {
		timeout = DefaultProxyTimeout
	}
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	// Close cuts a header read short: a watcher moves the deadline to the
	// past when quit closes. It is gone before the deadline is reset.
	read, watcher := make(chan struct{}), make(chan bool)
	go func() {
		select {
		case <-l.quit:
			_ = c.SetReadDeadline(time.Unix(1, 0))
			watcher <- true
		case <-read:
			watcher <- false
		}
	}()
	h, seen, err := ReadProxyHeader(c, l.cfg.ProxyMaxHeader)
	close(read)
	if <-watcher {
		return nil, peer, fmt.Errorf("header from %s: %w", peer, net.ErrClosed)
	}
	_ = c.SetReadDeadline(time.Time{})
	switch {
	case errors.Is(err, ErrProxyMissing) && l.cfg.ProxyOptional:
		return &replayConn{Conn: c, ahead: seen}, peer, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, peer, fmt.Errorf("header from %s: not complete within %v (ProxyTimeout): %w", peer, timeout, err)
	case err != nil:
		return nil, peer, fmt.Errorf("header from %s: %w", peer, err)
	case h.Local:
		return c, peer, nil
	}
	return &proxiedConn{Conn: c, remote: net.TCPAddrFromAddrPort(h.Source)}, h.Source.Addr(), nil
}

// serverHandshake runs a TLS server handshake on c bounded by timeout
// (zero means [DefaultHandshakeTimeout]) and by ctx (the listener's, so
// that Close cuts it short). On failure c is closed and the error is an
// *OpError with OpTLS.
func serverHandshake(ctx context.Context, c net.Conn, cfg *tls.Config, timeout time.Duration) (*tls.Conn, error) {
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	tc := tls.Server(c, cfg)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, &OpError{Op: OpTLS, Addr: c.RemoteAddr().String(), Err: err}
	}
	return tc, nil
}
