//go:build linux

package ircsock_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// TestIdleConnsHoldNoGoroutine: plaintext connections that wait for
// input hold no goroutine of their own, and each still reads, answers and
// closes as before.
func TestIdleConnsHoldNoGoroutine(t *testing.T) {
	const n = 40
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{})
	base := runtime.NumGoroutine()
	conns := make([]*rawConn, n)
	ids := make([]ircsock.ConnID, n)
	for i := range conns {
		conns[i] = dialRaw(t, h, listenAddr(l))
		ids[i] = h.accepted(conns[i]).ID()
	}
	// Each has talked once, so each reader has run and gone idle since.
	for i, c := range conns {
		c.writeLines(t, fmt.Sprintf("PING :%d", i))
	}
	for i, id := range ids {
		h.expectInputs(fmt.Sprintf("conn %d", i), id, []string{fmt.Sprint(i)})
	}
	// Goroutines exit asynchronously: poll, with a bound, for the count
	// to come down to a few (the shared poller, a writer), not one each.
	const slack = 8
	deadline := time.Now().Add(testTimeout)
	for {
		extra := runtime.NumGoroutine() - base
		if extra <= slack {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines more than before %d idle connections, want at most %d", extra, n, slack)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Still connections: a line to each comes back.
	for _, id := range ids {
		h.send(&ircmsg.Message{Command: "PONG", Params: []string{"back"}}, id)
	}
	for i, c := range conns {
		if line, err := c.readLine(); err != nil || line != "PONG back" {
			t.Fatalf("conn %d read %q, %v; want %q", i, line, err, "PONG back")
		}
	}
	h.shutdown()
}
