package sock

import (
	"bufio"
	"fmt"
	"io"
	"testing"
	"time"
)

// TestWheelQueueWaitsForFlush checks that Queue encodes and counts at once
// but leaves the writing to Flush, which sends everything queued in one
// write, and that a Disconnect after Queue loses nothing.
func TestWheelQueueWaitsForFlush(t *testing.T) {
	for _, end := range []string{"flush", "write", "disconnect"} {
		t.Run(end, func(t *testing.T) {
			s, c := tcpPair(t)
			defer c.Close()
			gc := &gateConn{Conn: s, gate: make(chan struct{})}
			close(gc.gate)
			r := newRecorder()
			w, stop := startWheel(t, gc, r, WheelConfig{})
			defer stop()
			const n = 100
			want := 0
			for i := range n {
				rec := fmt.Appendf(nil, "msg %d", i)
				if err := w.Queue(rec); err != nil {
					t.Fatalf("Queue(%d) = %v", i, err)
				}
				want += len(rec) + 1
			}
			if got := w.SendQ(); got != want {
				t.Errorf("SendQ() after Queue = %d, want %d", got, want)
			}
			gc.mu.Lock()
			writes := gc.writes
			gc.mu.Unlock()
			if writes != 0 {
				t.Fatalf("conn.Write called %d times before Flush, want 0", writes)
			}
			lines := n
			switch end {
			case "flush":
				w.Flush()
			case "write":
				if err := w.Write([]byte("last")); err != nil {
					t.Fatal(err)
				}
				lines++
			case "disconnect":
				w.Disconnect("bye")
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			for i := range lines {
				l, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("read line %d: %v", i, err)
				}
				want := fmt.Sprintf("msg %d\n", i)
				if i == n {
					want = "last\n"
				}
				if l != want {
					t.Fatalf("line %d = %q, want %q", i, l, want)
				}
			}
			if end == "disconnect" {
				if _, err := br.ReadByte(); err != io.EOF {
					t.Errorf("after the queue: %v, want EOF", err)
				}
				waitClosed(t, r)
			}
			gc.mu.Lock()
			writes = gc.writes
			gc.mu.Unlock()
			if writes != 1 {
				t.Errorf("conn.Write called %d times for the queued records, want 1", writes)
			}
		})
	}
}
