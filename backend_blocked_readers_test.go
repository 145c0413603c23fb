package ircsock_test

import (
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ircsock/ircsock"
)

// TestBlockedReadersHoldLittle: a connection whose reader waits for room
// in a full events channel holds what it read until then. When many
// clients send a few bytes at once (a server's clients all quitting), each
// must hold a buffer of about that size, not a 16 KiB read buffer: the
// heap may grow by at most 4 KiB per connection while 200 readers wait.
func TestBlockedReadersHoldLittle(t *testing.T) {
	// Before too: an earlier test's connections still closing would
	// allocate during the measurement.
	goleak.VerifyNone(t)
	defer goleak.VerifyNone(t)
	const n = 200
	b := ircsock.New(ircsock.Config{Events: 1})
	l, err := b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port()))
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for opened := 0; opened < n; {
		if len(conns) < n {
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		select {
		case ev := <-b.Events():
			if _, ok := ev.(ircsock.ListenerOpen); ok {
				opened++
			}
		case <-time.After(time.Until(deadline)):
			t.Fatalf("%d of %d connections opened within 20s", opened, n)
		}
	}
	// The events channel is no longer read from here on.
	runtime.GC()
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	for _, c := range conns {
		if _, err := c.Write([]byte("QUIT :bye\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	// Every reader but the one whose Input fills the channel waits with
	// its bytes in Backend.send: wait (bounded) until all of them do, as
	// their stacks show. A reader that has been started but has not read
	// yet would take its read buffer during the measurement.
	buf := make([]byte, 1<<22)
	for {
		stacks := string(buf[:runtime.Stack(buf, true)])
		waiting := strings.Count(stacks, "ircsock.(*Backend).send(")
		if waiting >= n-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d readers wait in Backend.send, want %d", waiting, n-1)
		}
		time.Sleep(5 * time.Millisecond)
	}
	buf = nil
	// Three times: what went back to a sync.Pool lives through one
	// collection as the pool's victim, and through the next if it was
	// put back meanwhile.
	runtime.GC()
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	per := (int64(ms.HeapAlloc) - int64(before)) / n
	t.Logf("heap grew by %d bytes per waiting reader", per)
	if per > 4<<10 {
		t.Errorf("heap grew by %d bytes per waiting reader, want at most 4096: a reader holds a big buffer for a few bytes", per)
	}
	b.Close()
	// Close drops what waits; the readers end.
	for range b.Events() {
	}
}
