package ircsock

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
)

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

// Refusals returns how many connections the listener's limits (MaxConns,
// MaxConnsPerIP, Throttle) refused since it was created, by limit; each
// was also a ListenerFailure with Op "limit". It is zero on a nil
// *Listener and may be called from any goroutine, also after the
// listener is removed.
func (l *Listener) Refusals() sock.Refusals {
	if l == nil || l.sl == nil {
		return sock.Refusals{}
	}
	return l.sl.Refusals()
}

// CreateListener binds and starts accepting. It reports the result both
// as its return value and as a ListenerCreated or ListenerFailure event;
// ListenerCreated is delivered before any ListenerOpen of the listener,
// and never for a listener that failed. Refused and failed connections
// are reported as ListenerFailure with Op "accept" (the listener backs
// off and goes on), "tls" (a failed handshake), "limit" (MaxConns,
// MaxConnsPerIP or Throttle, the last with sock.ErrThrottled or
// sock.ErrThrottleFull, with sock.ErrMaxRefusing joined when
// MaxRefusing refusals were lingering already), "proxy" (a PROXY
// protocol header missing, malformed, late or from an untrusted address)
// or "websocket" (a refused upgrade request).
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
		IPv6Prefix: cfg.IPv6Prefix, Throttle: cfg.Throttle, Exempt: limitExempt(cfg),
		Admission:    cfg.Admission,
		Refusal:      refusalLine,
		RefuseLinger: cfg.RefuseLinger, MaxRefusing: cfg.MaxRefusing,
		WebSocket: wsConfig(cfg.WebSocket),
		// No Backend API hands out the net.Conn, so every plaintext
		// connection can be a bare descriptor (see sock.FDConn).
		FDConns: true,
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

// refusalLine is what a listener sends a connection its limits refuse,
// before closing it: one ERROR line naming the limit, so that the person
// behind the client learns why (on a TLS listener after a handshake; see
// sock.ListenConfig.Refusal).
func refusalLine(err error) []byte {
	var le *sock.LimitError
	ip, why := "", err.Error()
	if errors.As(err, &le) {
		ip = le.Addr.String()
		switch {
		case errors.Is(err, sock.ErrThrottled):
			why = "Connecting too fast: " + le.Limit + "; try again in " + time.Until(le.Until).Round(time.Second).String()
		case errors.Is(err, sock.ErrThrottleFull):
			why = "Server busy, too many addresses connecting: " + le.Limit + "; try again in " + time.Until(le.Until).Round(time.Second).String()
		case errors.Is(err, sock.ErrMaxConnsPerIP):
			why = "Too many connections from your address: " + le.Limit
		case errors.Is(err, sock.ErrMaxConns):
			why = "Server full: " + le.Limit
		}
	}
	line, ferr := (ircmsg.Format{}).Append(nil, &ircmsg.Message{Command: "ERROR",
		Params: []string{"Closing Link: " + ip + " (" + why + ")"}})
	if ferr != nil {
		return []byte("ERROR :Closing Link (connection refused)\r\n")
	}
	return append(line, '\r', '\n')
}

// limitExempt is the Exempt list the listener's own limits take: none
// when it shares an Admission, which has its own.
func limitExempt(cfg ListenerConfig) []netip.Prefix {
	if cfg.Admission != nil {
		return nil
	}
	return cfg.Exempt
}

// exempt reports whether ip is in the listener's Exempt networks.
func (l *Listener) exempt(ip netip.Addr) bool {
	for _, p := range l.cfg.Exempt {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
