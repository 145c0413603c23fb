package sock

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"
)

// DefaultConnectTimeout bounds a dial and its TLS handshake when the
// dialer sets no timeout.
const DefaultConnectTimeout = 30 * time.Second

// Dial connects to addr, a "host:port" string as for net.Dial (an IPv6
// literal in brackets), with d, and, when tlsConfig is not nil, completes
// a TLS client handshake, so a connection it returns is ready for records.
//
// d is used as given and not changed: its LocalAddr binds the local side
// (and makes a host name resolve to addresses of the same family), its
// Resolver resolves host names, on the dialing goroutine only. A nil d is
// a zero net.Dialer. d.Timeout bounds resolving, connecting and the TLS
// handshake together; zero means [DefaultConnectTimeout]. ctx cancels it
// all.
//
// With TLS, an empty tlsConfig.ServerName becomes addr's host (SNI), and
// certificates are verified unless tlsConfig turns it off.
//
// An error is an *[OpError] with [OpResolve], [OpDial] or [OpTLS].
func Dial(ctx context.Context, d *net.Dialer, addr string, tlsConfig *tls.Config) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &OpError{Op: OpDial, Addr: addr, Err: err}
	}
	if d == nil {
		d = &net.Dialer{}
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		op := OpDial
		var dnsErr *net.DNSError
		var addrErr *net.AddrError
		if errors.As(err, &dnsErr) || errors.As(err, &addrErr) {
			op = OpResolve // no such host, or none of its addresses usable
		}
		return nil, &OpError{Op: op, Addr: addr, Err: err}
	}
	if tlsConfig == nil {
		return c, nil
	}
	tcfg := tlsConfig
	if tcfg.ServerName == "" {
		tcfg = tlsConfig.Clone()
		tcfg.ServerName = host
	}
	tc := tls.Client(c, tcfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, &OpError{Op: OpTLS, Addr: addr, Err: err}
	}
	return tc, nil
}
