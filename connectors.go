package ircsock

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/ircsock/ircsock/sock"
)

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

// cancelDials stops every dial still under way; their ConnectorFailure
// events follow.
func (b *Backend) cancelDials() {
	b.mu.RLock()
	for _, k := range b.connectors {
		k.cancel()
	}
	b.mu.RUnlock()
}
