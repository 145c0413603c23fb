package ircd

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
)

// ErrNoListener is returned by [New] when the configuration asks for no
// listener at all.
var ErrNoListener = errors.New("ircd: no listener configured")

// A Server is an IRC server on an [ircsock.Backend]. [New] binds its
// listeners; [Server.Run] serves until its context is done.
type Server struct {
	cfg     Config
	b       *ircsock.Backend
	addr    netip.AddrPort
	tlsAddr netip.AddrPort
	wsAddr  netip.AddrPort
	wssAddr netip.AddrPort
	core    *core
	once    sync.Once
	adm     *sock.Admission // the listeners' shared limits, with ShareLimits
	// refusalLogged is when each listener's refusals were last summed
	// up at Warn level; only the Run loop touches it.
	refusalLogged map[ircsock.ListenerID]time.Time
}

// New starts a Backend and binds the configured listeners, so that
// [Server.Addr] reports the real ports before [Server.Run] is called. The
// caller must call Run or [Server.Close].
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.Listen == "none" && cfg.TLSListen == "" && cfg.WebSocketListen == "" && cfg.WebSocketTLSListen == "" {
		return nil, ErrNoListener
	}
	if cfg.TLSListen != "" && cfg.TLS == nil {
		return nil, errors.New("ircd: TLS listener " + cfg.TLSListen + " has no TLS configuration")
	}
	if cfg.WebSocketTLSListen != "" && cfg.TLS == nil {
		return nil, errors.New("ircd: secure WebSocket listener " + cfg.WebSocketTLSListen + " has no TLS configuration")
	}
	b := ircsock.New(ircsock.Config{
		Format:       ircmsg.Format{Colonify: true},
		MaxLine:      cfg.MaxLine,
		MaxSendQ:     cfg.MaxSendQ,
		DrainTimeout: cfg.DrainTimeout,
		// serve never switches a client's input to compression, so it
		// keeps no copy of each client's first lines to check a switch
		// against: they would be kept for the client's whole life.
		EarlyInput: -1,
	})
	s := &Server{cfg: cfg, b: b}
	if cfg.ShareLimits {
		adm, err := sock.NewAdmission(sock.AdmissionConfig{
			MaxConns: max(cfg.MaxConns, 0), MaxConnsPerIP: max(cfg.MaxConnsPerIP, 0),
			IPv6Prefix: cfg.IPv6Prefix, Throttle: cfg.Throttle, Exempt: cfg.Exempt,
		})
		if err != nil {
			_ = b.Close()
			return nil, fmt.Errorf("ircd: limits: %w", err)
		}
		s.adm = adm
	}
	s.core = newCore(cfg, b, time.Now())
	for _, ln := range []struct {
		hostport string
		tls, ws  bool
		addr     *netip.AddrPort
	}{
		{cfg.Listen, false, false, &s.addr},
		{cfg.TLSListen, true, false, &s.tlsAddr},
		{cfg.WebSocketListen, false, true, &s.wsAddr},
		{cfg.WebSocketTLSListen, true, true, &s.wssAddr},
	} {
		if ln.hostport == "" || ln.hostport == "none" {
			continue
		}
		ap, err := s.listen(ln.hostport, ln.tls, ln.ws)
		if err != nil {
			_ = b.Close()
			return nil, err
		}
		*ln.addr = ap
		if ln.addr == &s.tlsAddr && cfg.STSDuration > 0 {
			port := cfg.STSPort
			if port == 0 {
				port = int(ap.Port())
			}
			s.core.setSTS(port, cfg.STSDuration)
		}
	}
	return s, nil
}

// listen binds one listener, speaking TLS with Config.TLS if withTLS, IRC
// over WebSocket if ws.
func (s *Server) listen(hostport string, withTLS, ws bool) (netip.AddrPort, error) {
	_, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("ircd: listen address %q: %w", hostport, err)
	}
	if port, err := strconv.Atoi(portStr); err != nil || port < 0 || port > 65535 {
		return netip.AddrPort{}, fmt.Errorf("ircd: listen address %q: bad port", hostport)
	}
	lc := ircsock.ListenerConfig{
		Addr:          hostport,
		Idle:          s.cfg.PingInterval,
		MaxConns:      max(s.cfg.MaxConns, 0),
		MaxConnsPerIP: max(s.cfg.MaxConnsPerIP, 0),
		IPv6Prefix:    s.cfg.IPv6Prefix,
		Throttle:      s.cfg.Throttle,
		Exempt:        s.cfg.Exempt,
		RefuseLinger:  s.cfg.RefuseLinger,
		MaxRefusing:   s.cfg.MaxRefusing,
		Flood:         s.cfg.Flood,
		ProxyFrom:     s.cfg.ProxyFrom,
		ProxyOptional: s.cfg.ProxyOptional,
	}
	if s.adm != nil {
		// The shared Admission holds the limits; Exempt stays for Flood.
		lc.Admission = s.adm
		lc.MaxConns, lc.MaxConnsPerIP, lc.IPv6Prefix, lc.Throttle = 0, 0, 0, ircsock.Throttle{}
	}
	if withTLS {
		lc.TLS = s.cfg.TLS
		if lc.TLS.ClientAuth == tls.NoClientCert {
			// Request a client certificate without requiring or verifying
			// one: a self-signed certificate identifies its holder by its
			// fingerprint (Conn.CertFP), as on other IRC servers.
			lc.TLS = lc.TLS.Clone()
			lc.TLS.ClientAuth = tls.RequestClientCert
		}
		lc.UseTLS = true
	}
	if ws {
		lc.WebSocket = &ircsock.WebSocketConfig{Path: s.cfg.WebSocketPath, Origins: s.cfg.WebSocketOrigins}
	}
	l, err := s.b.CreateListener(lc)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("ircd: listen %s: %w", hostport, err)
	}
	ap := l.AddrPort()
	if ws {
		path := cmp.Or(lc.WebSocket.Path, "/")
		s.cfg.Logger.Info("listening", "addr", ap.String(), "tls", withTLS, "websocket", path)
	} else {
		s.cfg.Logger.Info("listening", "addr", ap.String(), "tls", withTLS)
	}
	return ap, nil
}

// Addr is the plain listener's bound address (invalid if there is none).
func (s *Server) Addr() netip.AddrPort { return s.addr }

// TLSAddr is the TLS listener's bound address (invalid if there is none).
func (s *Server) TLSAddr() netip.AddrPort { return s.tlsAddr }

// WebSocketAddr is the WebSocket listener's bound address (invalid if
// there is none).
func (s *Server) WebSocketAddr() netip.AddrPort { return s.wsAddr }

// WebSocketTLSAddr is the secure WebSocket listener's bound address
// (invalid if there is none).
func (s *Server) WebSocketTLSAddr() netip.AddrPort { return s.wssAddr }

// Run is the event loop: it owns every piece of IRC state and serves until
// ctx is done. Then it sends every client ERROR :Server shutting down,
// shuts the Backend down (bounded by Config.ShutdownTimeout, after which
// connections are closed at once) and returns once the Backend's last
// event is handled. A shutdown that had to cut connections short returns
// the Backend's error.
func (s *Server) Run(ctx context.Context) error {
	events := s.b.Events()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var armed time.Time // the deadline the timer is set for, zero if none
	done := ctx.Done()
	shutdownErr := make(chan error, 1)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				if done != nil {
					// The Backend stopped without being asked.
					return errors.New("ircd: backend closed its events")
				}
				return <-shutdownErr
			}
			s.handle(ev, time.Now())
		case now := <-timer.C:
			armed = time.Time{}
			s.core.expire(now)
		case <-done:
			done = nil
			s.cfg.Logger.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
			s.core.shutdown(time.Now())
			go func() { shutdownErr <- s.shutdownBackend() }()
		}
		if d, ok := s.core.nextDeadline(); ok && (armed.IsZero() || d.Before(armed)) {
			armed = d
			timer.Reset(time.Until(d))
		}
	}
}

// shutdownBackend runs beside the loop, which keeps draining events so
// that the Backend can deliver its last ones.
func (s *Server) shutdownBackend() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.b.Shutdown(ctx)
	if err != nil {
		_ = s.b.Close()
		return fmt.Errorf("ircd: shutdown: %w", err)
	}
	return nil
}

// Close stops a Server whose Run was never called (or has returned).
func (s *Server) Close() error {
	var err error
	s.once.Do(func() { err = s.b.Close() })
	return err
}

// handle turns one Backend event into a call on the core.
func (s *Server) handle(ev ircsock.Event, now time.Time) {
	switch ev := ev.(type) {
	case ircsock.ListenerOpen:
		s.core.open(ev.Conn.ID(), ev.Conn.Peer().Addr(), ev.Conn.TLS() != nil, now)
		if fp := ev.Conn.CertFP(); fp != "" {
			s.core.setCertFP(ev.Conn.ID(), fp)
		}
	case ircsock.Input:
		s.core.input(ev.Conn().ID(), ev.Msg(), now)
		// The core copies what it keeps (keep, cleanUser, ...) and
		// Send has formatted every reply, so the line's block goes
		// back to the Backend: a client's input then allocates nothing
		// on the read path, and a registration leaves no garbage there.
		ev.Release()
	case ircsock.InputError:
		s.core.inputError(ev.Conn.ID(), ev.Err, now)
	case ircsock.ConnectionIdle:
		s.core.idle(ev.Conn.ID(), now)
	case ircsock.Disconnect:
		s.core.closed(ev.Conn.ID(), ev.Reason, now)
	case ircsock.ListenerFailure:
		// A connection storm or a TLS scanner makes one of these per
		// connection: at Warn they would flood the log. Refusals are
		// summed up at Warn instead, at most once per interval.
		level := slog.LevelWarn
		if ev.Op == sock.OpTLS || ev.Op == sock.OpLimit {
			level = slog.LevelDebug
		}
		s.cfg.Logger.Log(context.Background(), level, "listener failure", "op", ev.Op, "err", ev.Err)
		if ev.Op == sock.OpLimit {
			s.logRefusals(ev, now)
		}
	}
}

// logRefusals says at Warn level that ev's listener is refusing
// connections, unless it said so less than Config.RefusalLogInterval ago.
func (s *Server) logRefusals(ev ircsock.ListenerFailure, now time.Time) {
	every := s.cfg.RefusalLogInterval
	if every < 0 {
		return
	}
	id := ev.Listener.ID()
	if last, ok := s.refusalLogged[id]; ok && now.Sub(last) < every {
		return
	}
	if s.refusalLogged == nil {
		s.refusalLogged = make(map[ircsock.ListenerID]time.Time)
	}
	s.refusalLogged[id] = now
	r := ev.Listener.Refusals()
	s.cfg.Logger.Warn("refusing connections", "addr", ev.Listener.AddrPort().String(), "err", ev.Err,
		"refused", r.Total(), "max_conns", r.MaxConns, "max_conns_per_ip", r.MaxConnsPerIP,
		"throttled", r.Throttled, "throttle_full", r.ThrottleFull, "over_max_refusing", r.OverMaxRefusing,
		"next_within", every)
}
