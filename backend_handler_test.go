package ircsock_test

import (
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
)

// Config.InputHandler (handler.go): lines handled on the goroutine that
// read them. These tests check what the events channel guaranteed and the
// handler must keep: wire order, one call at a time per connection, the
// Disconnect after the last line, InputErrors still on Events; and that a
// line sent to a connection while its reader is inside a run is written
// when the run ends, whoever sent it.

// handled records the lines an InputHandler was called with, per
// connection, and reports a call made for a connection while another call
// for it is still running.
type handled struct {
	mu     sync.Mutex
	lines  map[ircsock.ConnID][]string
	inside map[ircsock.ConnID]bool
	errs   []string
	more   chan struct{} // closed and replaced on every line
}

func newHandled() *handled {
	return &handled{lines: map[ircsock.ConnID][]string{}, inside: map[ircsock.ConnID]bool{}, more: make(chan struct{})}
}

// enter records in's last parameter; leave must follow once the call is
// done with the connection.
func (hd *handled) enter(in ircsock.Input) {
	id := in.Conn().ID()
	p := in.Msg().Params
	hd.mu.Lock()
	defer hd.mu.Unlock()
	if hd.inside[id] {
		hd.errs = append(hd.errs, fmt.Sprintf("conn %d: handler called while a call for it was running", id))
	}
	hd.inside[id] = true
	hd.lines[id] = append(hd.lines[id], strings.Clone(p[len(p)-1])) // in is released after
	close(hd.more)
	hd.more = make(chan struct{})
}

func (hd *handled) leave(id ircsock.ConnID) {
	hd.mu.Lock()
	hd.inside[id] = false
	hd.mu.Unlock()
}

func (hd *handled) of(id ircsock.ConnID) []string {
	hd.mu.Lock()
	defer hd.mu.Unlock()
	return append([]string(nil), hd.lines[id]...)
}

// wait waits until id has had n lines handled.
func (hd *handled) wait(h *harness, id ircsock.ConnID, n int) []string {
	h.t.Helper()
	for {
		hd.mu.Lock()
		got, more := len(hd.lines[id]), hd.more
		hd.mu.Unlock()
		if got >= n {
			return hd.of(id)
		}
		select {
		case <-more:
		case <-h.ctx.Done():
			h.t.Fatalf("conn %d: %d of %d lines handled: %v", id, got, n, h.ctx.Err())
		}
	}
}

func (hd *handled) check(t *testing.T) {
	t.Helper()
	hd.mu.Lock()
	defer hd.mu.Unlock()
	for _, e := range hd.errs {
		t.Error(e)
	}
}

// noInputs fails the test if an Input reached the events channel.
func noInputs(h *harness) {
	h.t.Helper()
	if ins := eventsOf[ircsock.Input](h, nil); len(ins) > 0 {
		h.t.Errorf("%d Inputs on Events with an InputHandler, want none", len(ins))
	}
}

// TestInputHandlerEcho: three clients pipeline lines in pieces cut
// anywhere, a handler echoes each on the reading goroutine and releases
// it; every client reads its own lines back, all of them, in order, and
// the events channel carries no Input. Over TLS the replies go out through
// the wheel's writer goroutine instead of the reader's own write.
func TestInputHandlerEcho(t *testing.T) {
	p := pki()
	for _, tc := range []struct {
		name string
		lc   ircsock.ListenerConfig
		dial func(h *harness, addr string) *rawConn
	}{
		{"plaintext", ircsock.ListenerConfig{Addr: "127.0.0.1:0"}, func(h *harness, addr string) *rawConn { return dialRaw(h.t, h, addr) }},
		{"TLS", ircsock.ListenerConfig{Addr: "127.0.0.1:0", TLS: &tls.Config{Certificates: []tls.Certificate{p.server}}}, func(h *harness, addr string) *rawConn {
			d := tls.Dialer{Config: &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"}}
			c, err := d.DialContext(h.ctx, "tcp", addr)
			if err != nil {
				h.t.Fatalf("tls dial: %v", err)
			}
			return wrapRaw(h.t, h, c)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hd := newHandled()
			var h *harness
			h = newHarness(t, ircsock.Config{InputHandler: func(in ircsock.Input) {
				id := in.Conn().ID()
				hd.enter(in)
				if err := h.b.Send(in.Msg(), id); err != nil {
					h.t.Errorf("conn %d: Send from the handler = %v", id, err)
				}
				in.Release()
				hd.leave(id)
			}})
			defer hd.check(t)
			l := h.listen(tc.lc)
			echoPipelined(t, 3, 3000, func() *rawConn { return tc.dial(h, listenAddr(l)) })
			noInputs(h)
		})
	}
}

// echoPipelined runs clients clients, each from dial, that write n
// numbered lines in pieces cut anywhere while they read the echoes back
// and check them.
func echoPipelined(t *testing.T, clients, n int, dial func() *rawConn) {
	t.Helper()
	var wg sync.WaitGroup
	for k := range clients {
		c := dial()
		prefix := fmt.Sprintf("c%d", k)
		var stream strings.Builder
		for i := range n {
			stream.WriteString("PRIVMSG #c :" + numbered(prefix, i) + "\r\n")
		}
		wg.Go(func() {
			b := []byte(stream.String())
			for cut := 1; len(b) > 0; cut = cut*7%1500 + 1 {
				m := min(cut, len(b))
				if _, err := c.Write(b[:m]); err != nil {
					t.Errorf("%s: write: %v", prefix, err)
					return
				}
				b = b[m:]
			}
		})
		wg.Go(func() {
			for i := range n {
				line, err := c.readLine()
				if err != nil {
					t.Errorf("%s: echo %d: %v", prefix, i, err)
					return
				}
				if want := "PRIVMSG #c " + numbered(prefix, i); line != want {
					t.Errorf("%s: echo %d = %q, want %q", prefix, i, line, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestInputHandlerDisconnectLast: a client writes its lines, some
// malformed, and closes at once. The handler sees every good line once, in
// order, none after the connection's Disconnect reached the controller;
// when the Disconnect arrives every line has been handled; the malformed
// lines are InputErrors on Events.
func TestInputHandlerDisconnectLast(t *testing.T) {
	hd := newHandled()
	var h *harness
	h = newHarness(t, ircsock.Config{InputHandler: func(in ircsock.Input) {
		id := in.Conn().ID()
		select {
		case <-h.disconnected(id):
			h.t.Errorf("conn %d: line %q handled after its Disconnect", id, in.Msg().Params)
		default:
		}
		hd.enter(in)
		in.Release()
		hd.leave(id)
	}})
	defer hd.check(t)
	l := h.listen(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
	c := dialRaw(t, h, listenAddr(l))
	id := h.accepted(c).ID()

	const n = 5000
	var lines, want []string
	bad := 0
	for i := range n {
		if i%97 == 5 {
			lines = append(lines, ":prefix.only")
			bad++
			continue
		}
		lines = append(lines, "PRIVMSG #c :"+numbered("line", i))
		want = append(want, numbered("line", i))
	}
	c.writeLines(t, lines...)
	c.Close()
	waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](id))
	checkSeq(t, "lines handled when the Disconnect arrived", hd.of(id), want)
	if errs := eventsOf(h, forConn[ircsock.InputError](id)); len(errs) != bad {
		t.Errorf("%d InputErrors on Events, want %d", len(errs), bad)
	}
	noInputs(h)
}

// TestInputHandlerSendDuringRun: while a connection's handler is inside a
// call, another goroutine sends to it; that line is written with the
// handler's own reply when the call returns, before it, and nothing else
// from the peer is needed to get either out.
func TestInputHandlerSendDuringRun(t *testing.T) {
	entered, release := make(chan ircsock.ConnID, 1), make(chan struct{})
	var h *harness
	h = newHarness(t, ircsock.Config{InputHandler: func(in ircsock.Input) {
		id := in.Conn().ID()
		entered <- id
		<-release
		if err := h.b.Send(msg("NOTICE", "*", "reply"), id); err != nil {
			h.t.Errorf("Send from the handler = %v", err)
		}
		in.Release()
	}})
	l := h.listen(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
	c := dialRaw(t, h, listenAddr(l))
	c.writeLines(t, "WAIT")
	var id ircsock.ConnID
	select {
	case id = <-entered:
	case <-h.ctx.Done():
		t.Fatal("handler not called")
	}
	h.send(msg("NOTICE", "*", "outside"), id)
	close(release)
	for _, want := range []string{"NOTICE * outside", "NOTICE * reply"} {
		line, err := c.readLine()
		if err != nil {
			t.Fatalf("reading %q: %v", want, err)
		}
		if line != want {
			t.Fatalf("read %q, want %q", line, want)
		}
	}
}

// TestInputHandlerSendsAcrossRuns: a client streams lines, so that its
// reader starts and ends runs all the time, while the test sends it one
// numbered line at a time and waits for each: every line must get out by
// itself, however its Send and the end of a run fall against each other
// (a line queued just as a run ended, and flushed by nobody, would be
// the last one and never arrive).
func TestInputHandlerSendsAcrossRuns(t *testing.T) {
	h := newHarness(t, ircsock.Config{InputHandler: func(in ircsock.Input) { in.Release() }})
	l := h.listen(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
	c := dialRaw(t, h, listenAddr(l))
	id := h.accepted(c).ID()

	const n = 5000
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := c.Write([]byte("PING " + numbered("p", i) + "\r\n")); err != nil {
				t.Errorf("write: %v", err)
				return
			}
		}
	})
	for i := range n {
		h.send(msg("NOTICE", "*", numbered("n", i)), id)
		line, err := c.readLine()
		if err != nil {
			t.Fatalf("line %d of %d: %v", i, n, err)
		}
		if want := "NOTICE * " + numbered("n", i); line != want {
			t.Fatalf("line %d = %q, want %q", i, line, want)
		}
	}
}

// TestInputHandlerFlood: with flood control the lines held back reach the
// handler from the gate's own goroutine, still one call at a time and in
// wire order.
func TestInputHandlerFlood(t *testing.T) {
	hd := newHandled()
	h := newHarness(t, ircsock.Config{InputHandler: func(in ircsock.Input) {
		id := in.Conn().ID()
		hd.enter(in)
		time.Sleep(50 * time.Microsecond) // widen the window for an overlapping call
		in.Release()
		hd.leave(id)
	}})
	defer hd.check(t)
	l := h.listen(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Flood: ircsock.FloodControl{Burst: 5, Interval: time.Millisecond}})
	c := dialRaw(t, h, listenAddr(l))
	id := h.accepted(c).ID()

	const n = 60 // under the gate's default MaxQueued
	var lines, want []string
	for i := range n {
		lines = append(lines, "PRIVMSG #c :"+numbered("f", i))
		want = append(want, numbered("f", i))
	}
	c.writeLines(t, lines...)
	checkSeq(t, "lines handled", hd.wait(h, id, n), want)
	noInputs(h)
}
