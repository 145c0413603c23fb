package sock

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultHandshakeTimeout bounds a TLS handshake when no timeout is set.
const DefaultHandshakeTimeout = 10 * time.Second

// Accept backoff after a temporary error such as EMFILE: it starts at
// minBackoff and doubles up to maxBackoff, so a listener out of file
// descriptors neither spins nor gives up.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// Errors reported through [ListenHandler.Failed] with op "limit".
var (
	// ErrMaxConns means [ListenConfig.MaxConns] connections were open.
	ErrMaxConns = errors.New("sock: too many connections (MaxConns)")
	// ErrMaxConnsPerIP means [ListenConfig.MaxConnsPerIP] connections from
	// the same address were open.
	ErrMaxConnsPerIP = errors.New("sock: too many connections from one address (MaxConnsPerIP)")
)

// ListenConfig configures a [Listener]. The zero value listens on an
// ephemeral port of 0.0.0.0 without TLS or limits.
type ListenConfig struct {
	// Addr is the bind address; empty means 0.0.0.0, or "::" with IPv6.
	Addr string
	// Port is the port; zero means an ephemeral one ([Listener.Port]).
	Port int
	// IPv6 listens on IPv6; an IPv6 Addr implies it.
	IPv6 bool
	// Listener, when set, is accepted from instead of binding Addr:Port.
	Listener net.Listener
	// TLS, when set, makes every accepted connection a TLS server. The
	// handshake runs on the connection's own goroutine.
	TLS *tls.Config
	// HandshakeTimeout bounds the TLS handshake. Zero means
	// [DefaultHandshakeTimeout].
	HandshakeTimeout time.Duration
	// MaxConns is the most connections open at once; zero means no limit.
	MaxConns int
	// MaxConnsPerIP is the most open at once from one address; zero means
	// no limit.
	MaxConnsPerIP int
}

// A ListenHandler receives a [Listener]'s connections and failures.
type ListenHandler interface {
	// Serve takes one accepted connection (after its TLS handshake), on a
	// goroutine of its own that it may keep or leave. It must call release
	// exactly once, from any goroutine, when it is done with c: the
	// connection counts against the limits, and [Listener.Wait] waits for
	// it, until then. Handing the connection to a fresh goroutine keeps the
	// setup's deep stack off the goroutine that then waits for input.
	Serve(c net.Conn, release func())
	// Failed reports an error that did not stop the listener. op is
	// "accept" (the listener backs off and goes on), "tls" (a handshake
	// failed; the connection is dropped) or "limit" (a connection was
	// refused by MaxConns or MaxConnsPerIP).
	Failed(op string, err error)
}

// A Listener accepts connections and hands each one to its
// [ListenHandler] on a new goroutine.
type Listener struct {
	ln   net.Listener
	cfg  ListenConfig
	h    ListenHandler
	addr netip.AddrPort

	quit    chan struct{}
	once    sync.Once
	loop    sync.WaitGroup
	conns   sync.WaitGroup
	mu      sync.Mutex
	started bool
	stopped bool
	done    bool // Close has seen the accept loop end
	open    int
	perAddr map[netip.Addr]int
}

// ListenError is the error of a failed bind or listen.
type ListenError struct {
	Op   string // "resolve", "bind" or "listen"
	Addr string
	Err  error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("sock: %s %s: %v", e.Op, e.Addr, e.Err)
}

// Unwrap returns the cause.
func (e *ListenError) Unwrap() error { return e.Err }

// Listen binds (or takes cfg.Listener) without accepting yet; call
// [Listener.Start] to accept. An error is a *[ListenError].
func Listen(cfg ListenConfig, h ListenHandler) (*Listener, error) {
	l := &Listener{cfg: cfg, h: h, quit: make(chan struct{})}
	if cfg.MaxConnsPerIP > 0 {
		l.perAddr = make(map[netip.Addr]int)
	}
	ln := cfg.Listener
	if ln == nil {
		host := cfg.Addr
		v6 := cfg.IPv6 || strings.Contains(host, ":")
		network := "tcp4"
		if v6 {
			network = "tcp6"
		}
		if host == "" || host == "0" {
			host = "0.0.0.0"
			if v6 {
				host = "::"
			}
		}
		hp := net.JoinHostPort(host, strconv.Itoa(cfg.Port))
		var err error
		ln, err = (&net.ListenConfig{}).Listen(context.Background(), network, hp)
		if err != nil {
			op := "bind"
			var se *net.OpError
			if errors.As(err, &se) && se.Op == "listen" && Errno(err) == 0 {
				op = "resolve"
			}
			return nil, &ListenError{Op: op, Addr: hp, Err: err}
		}
	}
	l.ln = ln
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
// already accepted go on (see [Listener.Wait]).
func (l *Listener) Close() error {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	var err error
	l.once.Do(func() {
		close(l.quit)
		err = l.ln.Close()
	})
	l.loop.Wait()
	l.mu.Lock()
	l.done = true // the accept loop is gone: nothing more is admitted
	l.mu.Unlock()
	return err
}

// Wait waits until every connection handed to Serve has been released.
func (l *Listener) Wait() { l.conns.Wait() }

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
				l.h.Failed("accept", err)
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
		ip := remoteAddr(c)
		if err := l.admit(ip); err != nil {
			_ = c.Close()
			l.h.Failed("limit", fmt.Errorf("%w: refused %s", err, ip))
			continue
		}
		l.conns.Add(1)
		go l.serve(c, ip)
	}
}

func remoteAddr(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

func (l *Listener) admit(ip netip.Addr) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.MaxConns > 0 && l.open >= l.cfg.MaxConns {
		return ErrMaxConns
	}
	if l.perAddr != nil {
		if l.perAddr[ip] >= l.cfg.MaxConnsPerIP {
			return ErrMaxConnsPerIP
		}
		l.perAddr[ip]++
	}
	l.open++
	return nil
}

func (l *Listener) release(ip netip.Addr) {
	l.mu.Lock()
	l.open--
	if l.perAddr != nil {
		if n := l.perAddr[ip] - 1; n > 0 {
			l.perAddr[ip] = n
		} else {
			delete(l.perAddr, ip)
		}
	}
	l.mu.Unlock()
}

func (l *Listener) serve(c net.Conn, ip netip.Addr) {
	release := func() {
		l.release(ip)
		l.conns.Done()
	}
	if l.cfg.TLS != nil {
		tc, err := ServerHandshake(c, l.cfg.TLS, l.cfg.HandshakeTimeout)
		if err != nil {
			l.h.Failed("tls", err)
			release()
			return
		}
		c = tc
	}
	l.h.Serve(c, release)
}

// ServerHandshake runs a TLS server handshake on c bounded by timeout
// (zero means [DefaultHandshakeTimeout]). On failure c is closed.
func ServerHandshake(c net.Conn, cfg *tls.Config, timeout time.Duration) (*tls.Conn, error) {
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	tc := tls.Server(c, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("sock: tls handshake with %s: %w", c.RemoteAddr(), err)
	}
	return tc, nil
}

// Errno returns the system error number inside err, or 0.
func Errno(err error) int {
	var en syscall.Errno
	if errors.As(err, &en) {
		return int(en)
	}
	return 0
}
