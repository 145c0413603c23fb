package hostile

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/internal/ircd"
	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
)

// flooder sends 400-byte lines to one connection from its own goroutine
// until the Backend refuses (the connection is gone or over its send
// queue) or stop is closed.
type flooder struct {
	wg   sync.WaitGroup
	stop chan struct{}
	sent int
	err  error
}

func startFlood(s *server, id ircsock.ConnID) *flooder {
	f := &flooder{stop: make(chan struct{})}
	m := &ircmsg.Message{Command: "PRIVMSG", Params: []string{"#flood", strings.Repeat("f", 380) + " x"}}
	f.wg.Go(func() {
		for f.sent < 1_000_000 {
			select {
			case <-f.stop:
				return
			default:
			}
			if err := s.b.Send(m, id); err != nil {
				f.err = err
				return
			}
			f.sent++
		}
	})
	return f
}

func (f *flooder) halt() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	f.wg.Wait()
}

// TestSlowPeers covers peers that read too slowly, write too slowly, stop
// half-way or vanish, each against a Backend with a healthy client beside.
func TestSlowPeers(t *testing.T) {
	t.Run("reader that never reads", func(t *testing.T) {
		checkLeaks(t)
		const sendQ = 64 << 10
		s := newServer(t, ircsock.Config{MaxSendQ: sendQ}, ircsock.ListenerConfig{Idle: -1})
		good := dial(t, s.ctx, "good", s.addr())
		good.healthy("before")
		bad := dial(t, s.ctx, "never reads", s.addr())
		id := s.rec(bad).conn.ID()
		hw := watchHeap(t)
		pr := startProber(good)
		f := startFlood(s, id)
		d := s.disconnect(bad)
		f.halt()
		pr.stopProbe(t)
		hw.check(t, "never reads", 16<<20, 2<<20)
		t.Logf("flooder queued %d lines (%d KiB) before the drop", f.sent, f.sent*400>>10)
		if d.Reason != ircsock.ReasonSendQ || !errors.Is(d.Err, sock.ErrSendQExceeded) {
			t.Errorf("Disconnect = %q, %v; want %q, sock.ErrSendQExceeded", d.Reason, d.Err, ircsock.ReasonSendQ)
		}
		good.healthy("after")
	})

	t.Run("slowloris against the bare Backend gets idle events", func(t *testing.T) {
		checkLeaks(t)
		const idle = 150 * time.Millisecond
		s := newServer(t, ircsock.Config{}, ircsock.ListenerConfig{Idle: idle})
		// The controller's policy: drop a connection at its third idle
		// event. The Backend itself only reports.
		s.hook(func(h *hooks) {
			h.onIdle = func(c *ircsock.Conn) {
				s.mu.Lock()
				n := s.byID[c.ID()].idles
				s.mu.Unlock()
				if n == 3 {
					_ = s.b.DisconnectNow(c.ID(), "Idle timeout")
				}
			}
		})
		good := dial(t, s.ctx, "good", s.addr())
		good.healthy("before")
		bad := dial(t, s.ctx, "slowloris", s.addr())
		s.rec(bad)
		pr := startProber(good)
		// One byte every 2.5 idle periods, never a whole line.
		tk := time.NewTicker(idle * 5 / 2)
		defer tk.Stop()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, b := range []byte("NICK slowloris") {
				select {
				case <-tk.C:
				case <-s.ctx.Done():
					return
				}
				if bad.write([]byte{b}) != nil {
					return // dropped
				}
			}
		}()
		d := s.disconnect(bad)
		<-done
		pr.stopProbe(t)
		r := s.snapshot(bad)
		if d.Reason != "Idle timeout" || r.idles < 3 || r.inputs != 0 {
			t.Errorf("slowloris: reason %q, idle events %d, inputs %d; want \"Idle timeout\", >= 3, 0", d.Reason, r.idles, r.inputs)
		}
		good.healthy("after")
	})

	t.Run("peer that half-closes", func(t *testing.T) {
		checkLeaks(t)
		s := newServer(t, ircsock.Config{}, ircsock.ListenerConfig{Idle: -1})
		good := dial(t, s.ctx, "good", s.addr())
		good.healthy("before")
		bad := dial(t, s.ctx, "half-close", s.addr())
		s.rec(bad)
		var b strings.Builder
		for i := range 50 {
			b.WriteString(msgLine(fmt.Sprint(i)) + "\r\n")
		}
		bad.send(b.String())
		if err := bad.c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatalf("CloseWrite: %v", err)
		}
		echoed := bad.expectEOF()
		d := s.disconnect(bad)
		r := s.snapshot(bad)
		// Documented behaviour: end of stream from the peer closes the
		// connection (sock.ReasonPeerClosed) once what was queued for it
		// is written; every line read before it is delivered, and replies
		// the controller sends after the Backend began closing are
		// refused (ErrDisconnecting), never silently dropped.
		t.Logf("half-closed peer got %d of 50 echoes before the close", len(echoed))
		if r.inputs != 50 || d.Reason != sock.ReasonPeerClosed || d.Err != nil {
			t.Errorf("half-close: %d inputs, Disconnect %q, %v; want 50, %q, nil", r.inputs, d.Reason, d.Err, sock.ReasonPeerClosed)
		}
		for i, l := range echoed {
			if want := msgLine(fmt.Sprint(i)); l != want {
				t.Errorf("echo %d = %q, want %q (what is delivered is in order)", i, l, want)
			}
		}
		good.healthy("after")
	})

	t.Run("peer that resets mid-write", func(t *testing.T) {
		checkLeaks(t)
		s := newServer(t, ircsock.Config{MaxSendQ: 8 << 20}, ircsock.ListenerConfig{Idle: -1})
		good := dial(t, s.ctx, "good", s.addr())
		good.healthy("before")
		bad := dial(t, s.ctx, "reset", s.addr())
		id := s.rec(bad).conn.ID()
		pr := startProber(good)
		f := startFlood(s, id)
		if _, err := bad.readLine(); err != nil {
			t.Fatalf("reading the flood: %v", err)
		}
		tc := bad.c.(*net.TCPConn)
		_ = tc.SetLinger(0)
		_ = tc.Close() // RST, with the Backend's writes in flight
		d := s.disconnect(bad)
		f.halt()
		pr.stopProbe(t)
		t.Logf("reset: reason %q, err %v, %d lines queued", d.Reason, d.Err, f.sent)
		reset := errors.Is(d.Err, syscall.ECONNRESET) || errors.Is(d.Err, syscall.EPIPE)
		if !reset && d.Reason != sock.ReasonPeerClosed {
			t.Errorf("Disconnect = %q, %v; want ECONNRESET, EPIPE or %q", d.Reason, d.Err, sock.ReasonPeerClosed)
		}
		if d.Reason == "" {
			t.Errorf("Disconnect with an empty reason")
		}
		good.healthy("after")
	})
}

// TestSlowlorisServe sends a registration one byte at a time to `ircsock
// serve`'s server: its registration deadline drops the connection with an
// ERROR line naming the reason, while a client that registers normally is
// served.
func TestSlowlorisServe(t *testing.T) {
	checkLeaks(t)
	const regTimeout = 500 * time.Millisecond
	srv, err := ircd.New(ircd.Config{Listen: "127.0.0.1:0", RegisterTimeout: regTimeout, PingInterval: -1})
	if err != nil {
		t.Fatalf("ircd.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rowTimeout)
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- srv.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-runDone:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return 10s after its context ended")
		}
	}()
	addr := srv.Addr().String()

	good := dial(t, ctx, "good", addr)
	good.send("NICK good\r\nUSER good 0 * :Good\r\n")
	waitPrefix(t, good, ":ircsock.localhost 001 good ")

	// The server starts the registration clock when it accepts, which is
	// after the dial begins: the drop cannot come sooner than regTimeout
	// after this instant, however the scheduler delays either side.
	start := time.Now()
	bad := dial(t, ctx, "slowloris", addr)
	tk := time.NewTicker(100 * time.Millisecond)
	defer tk.Stop()
	stop, wdone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(wdone)
		for _, b := range []byte("NICK slowloris\r\nUSER s 0 * :S\r\n") {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			if bad.write([]byte{b}) != nil {
				return
			}
		}
	}()
	var got []string
	for {
		l, err := bad.readLine()
		if err != nil {
			break
		}
		got = append(got, l)
	}
	close(stop)
	<-wdone
	took := time.Since(start)
	if len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "ERROR :") || !strings.Contains(got[len(got)-1], "Registration timeout") {
		t.Errorf("slowloris read %q, want a last line ERROR naming \"Registration timeout\"", got)
	}
	// The deadline is a promise not to drop a client early; how late the
	// drop comes on a loaded machine is not asserted (readLine's deadline
	// bounds the wait). The 32 bytes at 100 ms apart take over 3 s, so
	// the drop did come from the deadline, not from a finished
	// registration.
	if took < regTimeout {
		t.Errorf("slowloris dropped %v after the dial began, before its %v registration timeout", took, regTimeout)
	}
	t.Logf("slowloris dropped %v after the dial began (RegisterTimeout %v)", took, regTimeout)
	good.send("PING :still-here\r\n")
	waitPrefix(t, good, ":ircsock.localhost PONG ")
}

// waitPrefix reads c's lines until one starts with prefix.
func waitPrefix(t *testing.T, c *client, prefix string) {
	t.Helper()
	var seen []string
	for {
		l, err := c.readLine()
		if err != nil {
			t.Fatalf("%s: waiting for %q: %v (read %q)", c.name, prefix, err, seen)
		}
		if strings.HasPrefix(l, prefix) {
			return
		}
		seen = append(seen, l)
	}
}
