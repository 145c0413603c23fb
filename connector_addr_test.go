package ircsock_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/sock"
)

// TestConnectorBindAddr checks that ConnectorConfig.BindAddr is the local
// address of the connection: the listener sees the peer at 127.0.0.2.
func TestConnectorBindAddr(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Idle: -1})
	c := h.connect(ircsock.ConnectorConfig{Addr: l.AddrPort().String(), BindAddr: "127.0.0.2", Idle: -1})
	want := netip.MustParseAddr("127.0.0.2")
	if got := c.Local().Addr(); got != want {
		t.Errorf("connector Conn.Local() = %v, want address %v", c.Local(), want)
	}
	ev := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true })
	if got := ev.Conn.Peer().Addr(); got != want {
		t.Errorf("listener Conn.Peer() = %v, want address %v", ev.Conn.Peer(), want)
	}
}

// TestConnectorAddrChecked checks that an address that is not host:port,
// a port out of range and a bad BindAddr are errors of CreateConnector
// itself, with no event.
func TestConnectorAddrChecked(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	for _, cfg := range []ircsock.ConnectorConfig{
		{Addr: "127.0.0.1"},
		{Addr: "127.0.0.1:0"},
		{Addr: "127.0.0.1:65536"},
		{Addr: "[::1]:http-not-a-number"},
		{Addr: "127.0.0.1:6667", BindAddr: "not-an-ip"},
	} {
		if k, err := h.b.CreateConnector(h.ctx, cfg); err == nil || k != nil {
			t.Errorf("CreateConnector(%q, bind %q) = %v, %v; want nil and an error", cfg.Addr, cfg.BindAddr, k, err)
		}
	}
}

// TestListenerAddrFailure checks that a listener address that cannot be
// bound is a *sock.OpError naming the operation and the address, also in
// the ListenerFailure event.
func TestListenerAddrFailure(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	busy := h.listen(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Idle: -1})
	_, err := h.b.CreateListener(ircsock.ListenerConfig{Addr: busy.AddrPort().String()})
	var oe *sock.OpError
	if !errors.As(err, &oe) || oe.Op != sock.OpBind || oe.Addr != busy.AddrPort().String() {
		t.Fatalf("CreateListener on a busy address = %v, want a *sock.OpError with OpBind and %s", err, busy.AddrPort())
	}
	ev := waitEvent(h, "ListenerFailure", func(ircsock.ListenerFailure) bool { return true })
	if ev.Op != sock.OpBind || !errors.Is(ev.Err, oe.Err) {
		t.Errorf("ListenerFailure = {Op %q, Err %v}, want OpBind and the same cause", ev.Op, ev.Err)
	}
}
