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
	"time"
)

// DefaultConnectTimeout bounds a dial and its TLS handshake when no
// timeout is set.
const DefaultConnectTimeout = 30 * time.Second

// DialConfig configures [Dial]. Addr and Port are required.
type DialConfig struct {
	Addr string // remote address or host name
	Port int
	// BindAddr is the optional local address.
	BindAddr string
	// IPv6 dials over IPv6 only; an IPv6 Addr or BindAddr implies it.
	IPv6 bool
	// TLS, when set, runs a TLS client handshake after connecting. An
	// empty ServerName becomes Addr (SNI); verification stays on unless
	// the config turns it off.
	TLS *tls.Config
	// Timeout bounds resolving, connecting and the TLS handshake
	// together. Zero means [DefaultConnectTimeout].
	Timeout time.Duration
	// Resolver resolves host names; nil means net.DefaultResolver. It
	// runs on the dialing goroutine, never blocking anyone else.
	Resolver *net.Resolver
}

// DialError is the error of a failed [Dial].
type DialError struct {
	Op   string // "resolve", "connect" or "tls"
	Addr string
	Err  error
}

func (e *DialError) Error() string {
	return fmt.Sprintf("sock: %s %s: %v", e.Op, e.Addr, e.Err)
}

// Unwrap returns the cause.
func (e *DialError) Unwrap() error { return e.Err }

// ErrNoAddress means a host name resolved to no usable address.
var ErrNoAddress = errors.New("sock: no address")

// Dial resolves, connects and, with TLS, completes the handshake, so a
// connection it returns is ready for records. An error is a *[DialError].
func Dial(ctx context.Context, cfg DialConfig) (net.Conn, error) {
	hp := net.JoinHostPort(cfg.Addr, strconv.Itoa(cfg.Port))
	if cfg.Addr == "" || cfg.Port <= 0 || cfg.Port > 65535 {
		return nil, &DialError{Op: "connect", Addr: hp, Err: errors.New("sock: remote address and port are required")}
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	v6 := cfg.IPv6 || strings.Contains(cfg.Addr, ":") || strings.Contains(cfg.BindAddr, ":")
	network := "ip"
	if v6 {
		network = "ip6"
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(cfg.Addr); err == nil {
		addrs = []netip.Addr{a}
	} else {
		r := cfg.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		addrs, err = r.LookupNetIP(ctx, network, cfg.Addr)
		if err != nil {
			return nil, &DialError{Op: "resolve", Addr: hp, Err: err}
		}
	}
	if cfg.BindAddr != "" && !v6 {
		// A v4 bind address can only reach v4 peers.
		kept := addrs[:0]
		for _, a := range addrs {
			if a.Unmap().Is4() {
				kept = append(kept, a)
			}
		}
		addrs = kept
	}
	if len(addrs) == 0 {
		return nil, &DialError{Op: "resolve", Addr: hp, Err: ErrNoAddress}
	}
	d := net.Dialer{}
	if cfg.BindAddr != "" {
		ba, err := netip.ParseAddr(cfg.BindAddr)
		if err != nil {
			return nil, &DialError{Op: "connect", Addr: hp, Err: fmt.Errorf("sock: bind address: %w", err)}
		}
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(ba, 0))
	}
	tcpnet := "tcp"
	if v6 {
		tcpnet = "tcp6"
	}
	var c net.Conn
	var err error
	for _, a := range addrs {
		c, err = d.DialContext(ctx, tcpnet, netip.AddrPortFrom(a, uint16(cfg.Port)).String())
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, &DialError{Op: "connect", Addr: hp, Err: err}
	}
	if cfg.TLS == nil {
		return c, nil
	}
	tcfg := cfg.TLS.Clone()
	if tcfg.ServerName == "" {
		tcfg.ServerName = cfg.Addr
	}
	tc := tls.Client(c, tcfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, &DialError{Op: "tls", Addr: hp, Err: err}
	}
	return tc, nil
}
