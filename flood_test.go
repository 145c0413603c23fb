package ircsock_test

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
)

// pings returns n PING lines with numbered tokens.
func pings(prefix string, n int) (lines, tokens []string) {
	for i := range n {
		tok := numbered(prefix, i)
		lines = append(lines, "PING :"+tok)
		tokens = append(tokens, tok)
	}
	return lines, tokens
}

// waitQueued polls conn's FloodQueued until it is n, within the
// harness's deadline.
func waitQueued(t *testing.T, h *harness, conn *ircsock.Conn, n int) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for conn.FloodQueued() != n {
		select {
		case <-tick.C:
		case <-h.ctx.Done():
			t.Fatalf("FloodQueued() = %d, want %d", conn.FloodQueued(), n)
		}
	}
}

// TestFloodHoldsBackInOrder: past the burst, commands are held (an
// Interval of an hour lets none through on its own), not dropped; when
// the controller exempts the connection they come, in order.
func TestFloodHoldsBackInOrder(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1, Flood: ircsock.FloodControl{Burst: 3, Interval: time.Hour, MaxQueued: 20}})
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)
	if conn.FloodExempt() {
		t.Fatal("FloodExempt() = true on a flood-controlled listener")
	}
	lines, toks := pings("f", 10)
	c.writeLines(t, lines...)
	h.expectInputs("the burst", conn.ID(), toks[:3])
	waitQueued(t, h, conn, 7)
	if n := len(eventsOf(h, forConn[ircsock.Input](conn.ID()))); n != 3 {
		t.Fatalf("%d inputs delivered past a burst of 3, want 3", n)
	}
	if err := h.b.ExemptFlood(conn.ID()); err != nil {
		t.Fatalf("ExemptFlood = %v", err)
	}
	h.expectInputs("all, in order", conn.ID(), toks)
	if !conn.FloodExempt() {
		t.Error("FloodExempt() = false after ExemptFlood")
	}
	more, moreToks := pings("g", 10)
	c.writeLines(t, more...)
	h.expectInputs("after the exemption", conn.ID(), append(toks, moreToks...))
	h.shutdown()
}

// TestFloodSteadyRate: without an exemption the held commands come on
// their own at the steady rate, every one and in order.
func TestFloodSteadyRate(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1, Flood: ircsock.FloodControl{Burst: 2, Interval: time.Millisecond, MaxQueued: 50}})
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)
	lines, toks := pings("r", 40)
	c.writeLines(t, lines...)
	h.expectInputs("every command", conn.ID(), toks)
	h.shutdown()
}

// TestExcessFlood: one command over MaxQueued held back and the client
// gets ERROR :Excess Flood and is disconnected with that reason.
func TestExcessFlood(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1, Flood: ircsock.FloodControl{Burst: 1, Interval: time.Hour, MaxQueued: 3}})
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)
	lines, toks := pings("x", 5)
	c.writeLines(t, lines...)
	h.expectInputs("the burst", conn.ID(), toks[:1])
	// The client reads its ERROR and closes at EOF, as a real one does,
	// so the graceful close ends without waiting for DrainTimeout.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := c.readLine(); err != nil || line != "ERROR :Excess Flood" {
		t.Errorf("flooder read %q, %v; want ERROR :Excess Flood", line, err)
	}
	c.readEOF(t, 5*time.Second)
	ev := waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](conn.ID()))
	if ev.Reason != ircsock.ReasonExcessFlood {
		t.Errorf("Disconnect reason %q, want %q", ev.Reason, ircsock.ReasonExcessFlood)
	}
	if !errors.Is(ev.Err, ircsock.ErrExcessFlood) || ev.Err.Error() != "ircsock: too many commands held back by flood control (FloodControl.MaxQueued): MaxQueued=3" {
		t.Errorf("Disconnect Err %v, want %v naming MaxQueued=3 and nothing else", ev.Err, ircsock.ErrExcessFlood)
	}
	h.shutdown()
}

// TestFloodExempt: an exempt address is never held back, nor is a
// connector's connection.
func TestFloodExempt(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1,
		Flood:  ircsock.FloodControl{Burst: 1, Interval: time.Hour, MaxQueued: 2},
		Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)
	if !conn.FloodExempt() {
		t.Error("FloodExempt() = false for an exempt address")
	}
	lines, toks := pings("e", 30)
	c.writeLines(t, lines...)
	h.expectInputs("every command at once", conn.ID(), toks)
	h.shutdown()
}

// TestFloodCloseDelivers: a client that closes with commands held back
// loses none of them: they come before its Disconnect.
func TestFloodCloseDelivers(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1, Flood: ircsock.FloodControl{Burst: 1, Interval: time.Hour, MaxQueued: 10}})
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)
	lines, toks := pings("q", 6)
	c.writeLines(t, lines...)
	waitQueued(t, h, conn, 5)
	c.Close()
	waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](conn.ID()))
	h.expectInputs("everything sent before closing", conn.ID(), toks)
	h.shutdown()
}

// TestFloodOtherConnsFlow: a connection held back does not hold up
// another one on the same listener.
func TestFloodOtherConnsFlow(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1, Flood: ircsock.FloodControl{Burst: 1, Interval: time.Hour, MaxQueued: 100}})
	flooder := dialRaw(t, h, listenAddr(l))
	fconn := h.accepted(flooder)
	lines, _ := pings("flood", 50)
	flooder.writeLines(t, lines...)
	waitQueued(t, h, fconn, 49)
	other := dialRaw(t, h, listenAddr(l))
	oconn := h.accepted(other)
	other.writeLines(t, "PING :me")
	h.expectInputs("the other client", oconn.ID(), []string{"me"})
	if err := h.b.ExemptFlood(ircsock.ConnID(1 << 60)); err == nil {
		t.Error("ExemptFlood of an unknown connection = nil, want an error")
	}
	h.shutdown()
}
