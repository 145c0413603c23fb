package hostile

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// TestSlowController shows what a controller that stops reading events
// does, as Backend.Events documents it: the events channel fills, the
// goroutines reading connections wait on it and stop reading their
// sockets, and TCP flow control stops the peer. Nothing is buffered
// without bound and nothing is dropped: once the controller reads again,
// every line the flooder sent arrives, in order.
//
// A stalled controller stalls every connection of its Backend (there is one
// events channel), so the healthy client is checked before and after the
// stall, not during it.
func TestSlowController(t *testing.T) {
	checkLeaks(t)
	const (
		total   = 8 << 20 // bytes the flooder tries to send, twice what loopback buffers hold
		lineLen = 100
		lines   = total / lineLen
	)
	s := newServer(t, ircsock.Config{Events: 4}, ircsock.ListenerConfig{Idle: -1})
	var got, disorder atomic.Int64
	s.hook(func(h *hooks) {
		h.onInput = func(c *ircsock.Conn, m *ircmsg.Message) bool {
			if len(m.Params) != 2 || m.Params[0] != "#flood" {
				return true
			}
			n, err := strconv.Atoi(strings.Fields(m.Params[1])[0])
			if err != nil || int64(n) != got.Load() {
				disorder.Add(1)
			}
			got.Add(1)
			return false
		}
	})
	good := dial(t, s.ctx, "good", s.addr())
	good.healthy("before")
	flood := dial(t, s.ctx, "flooder", s.addr())
	s.rec(flood)

	hw := watchHeap(t)
	s.pause()
	var written atomic.Int64
	werr := make(chan error, 1)
	go func() {
		buf := make([]byte, 0, 64<<10)
		for i := range lines {
			l := fmt.Sprintf("PRIVMSG #flood :%d ", i)
			buf = append(buf, l...)
			buf = append(buf, strings.Repeat("x", lineLen-2-len(l))...)
			buf = append(buf, "\r\n"...)
			if len(buf) >= 60<<10 || i == lines-1 {
				if err := flood.write(buf); err != nil {
					werr <- err
					return
				}
				written.Add(int64(len(buf)))
				buf = buf[:0]
			}
		}
		werr <- nil
	}()

	// Wait until the flooder has made no progress for 500 ms: the
	// Backend has stopped reading it.
	var last int64 = -1
	stalled := time.Time{}
	tk := time.NewTicker(50 * time.Millisecond)
	for {
		select {
		case err := <-werr:
			t.Fatalf("flooder wrote all %d bytes (err %v) while the controller was stalled: input was buffered, not paused", total, err)
		case <-s.ctx.Done():
			t.Fatalf("flooder never stalled: %d bytes written", written.Load())
		case <-tk.C:
		}
		if w := written.Load(); w != last {
			last, stalled = w, time.Now()
			continue
		}
		if time.Since(stalled) > 500*time.Millisecond {
			break
		}
	}
	tk.Stop()
	t.Logf("flooder stalled after %d of %d bytes; controller had %d events", last, total, got.Load())
	// The Backend holds at most a few read buffers and 4 events, not the
	// megabytes the flooder pushed into the sockets.
	hw.check(t, "stalled controller", 4<<20, 2<<20)

	s.resume()
	if err := <-werr; err != nil {
		t.Fatalf("flooder after the controller resumed: %v", err)
	}
	s.waitFor("every flooded line", func() bool { return got.Load() == lines })
	if d := disorder.Load(); d != 0 {
		t.Errorf("%d flooded lines arrived out of order", d)
	}
	r := s.snapshot(flood)
	if r.nInErrs != 0 || r.disc != nil {
		t.Errorf("flooder: InputErrors %d, Disconnect %v; want none", r.nInErrs, r.disc)
	}
	good.healthy("after")
}
