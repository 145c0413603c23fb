package ircsock_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ircsock/ircsock"
)

// The reading goroutine hands its Inputs over in runs (batch.go). These
// tests check what the runs must not change: wire order across runs and
// against InputErrors, the Disconnect last, and no line held back for the
// peer's next bytes.

// TestRunsKeepWireOrder sends, in one write, more lines than several runs
// hold, with a malformed line (an InputError) at irregular places, then
// closes: the connection's events must be exactly the lines and errors in
// wire order, then its Disconnect.
func TestRunsKeepWireOrder(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
	c := dialRaw(t, h, listenAddr(l))
	open := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true })
	id := open.Conn.ID()

	const n = 1000
	var lines, want []string
	for i := range n {
		if i%7 == 3 || i%61 == 0 {
			lines = append(lines, ":prefix.only") // no command: an InputError
			want = append(want, "error")
			continue
		}
		p := numbered("line", i)
		lines = append(lines, "PRIVMSG #c :"+p)
		want = append(want, p)
	}
	c.writeLines(t, lines...)
	c.Close()
	select {
	case <-h.disconnected(id):
	case <-h.ctx.Done():
		t.Fatalf("no Disconnect: %v\n%s", h.ctx.Err(), h.dump())
	}
	var got []string
	last := ""
	for _, s := range h.snapshot() {
		switch ev := s.ev.(type) {
		case ircsock.Input:
			if ev.Conn().ID() == id {
				got = append(got, ev.Msg().Params[1])
				last = "Input"
			}
		case ircsock.InputError:
			if ev.Conn.ID() == id {
				got = append(got, "error")
				last = "InputError"
			}
		case ircsock.Disconnect:
			if ev.Conn.ID() == id {
				last = "Disconnect"
			}
		}
	}
	checkSeq(t, "events of the connection", got, want)
	if last != "Disconnect" {
		t.Errorf("last event of the connection = %s, want Disconnect", last)
	}
}

// TestRunsNotHeldForMore sends fewer lines than a run holds, in pieces,
// and keeps the connection open: every line must arrive without the peer
// sending more.
func TestRunsNotHeldForMore(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
	c := dialRaw(t, h, listenAddr(l))
	open := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true })
	id := open.Conn.ID()
	var want []string
	for round := range 3 {
		var lines []string
		for i := range round + 1 {
			p := numbered(fmt.Sprintf("r%d", round), i)
			lines = append(lines, "PRIVMSG #c :"+p)
			want = append(want, p)
		}
		c.writeLines(t, lines...)
		// Each round's lines arrive before the next round is sent.
		h.expectInputs(fmt.Sprintf("round %d", round), id, want)
	}
	// A line without its end is not a line yet; its end completes it.
	if _, err := c.Write([]byte("PRIVMSG #c :tail")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte(strings.Repeat("x", 3) + "\r\n")); err != nil {
		t.Fatal(err)
	}
	h.expectInputs("the line written in two pieces", id, append(want, "tailxxx"))
}
