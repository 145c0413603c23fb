package ircsock_test

// Every Backend event provoked for real over loopback and checked with its
// arguments (issue 3, "Tests"), plus the port of upstream t/backend.t.

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

var loopback4 = netip.MustParseAddr("127.0.0.1")

func TestBackendRegisteredFirst(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	ev := waitEvent(h, "Registered", func(ircsock.Registered) bool { return true })
	if ev.Backend != h.b {
		t.Errorf("Registered.Backend = %p, want %p", ev.Backend, h.b)
	}
	if first := h.snapshot()[0].ev; fmtEvent(first) != "Registered" {
		t.Errorf("first event = %s, want Registered", fmtEvent(first))
	}
	h.shutdown()
	if n := len(eventsOf[ircsock.Registered](h, nil)); n != 1 {
		t.Errorf("%d Registered events, want 1", n)
	}
}

func TestBackendListenerCreatedEphemeralPort(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Idle: -1})
	if l.Port() == 0 {
		t.Fatalf("Listener.Port() = 0, want the real bound port")
	}
	if l.Addr() != loopback4 {
		t.Errorf("Listener.Addr() = %v, want %v", l.Addr(), loopback4)
	}
	ev := waitEvent(h, "ListenerCreated", func(e ircsock.ListenerCreated) bool { return e.Listener.ID() == l.ID() })
	if ev.Listener.Port() != l.Port() {
		t.Errorf("ListenerCreated.Listener.Port() = %d, want %d", ev.Listener.Port(), l.Port())
	}
	// The reported port is the one really bound: a dial to it is accepted.
	c := dialRaw(t, h, listenAddr(l))
	h.accepted(c)
	found := false
	for _, x := range h.b.Listeners() {
		found = found || x.ID() == l.ID()
	}
	if !found {
		t.Errorf("Listeners() does not list listener %d", l.ID())
	}
	h.shutdown()
}

type argsT struct{ Tag string }

func TestBackendListenerOpen(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	args := &argsT{Tag: "listener-args"}
	l := h.listen(ircsock.ListenerConfig{Args: args, Idle: -1})
	c := dialRaw(t, h, listenAddr(l))
	ev := waitEvent(h, "ListenerOpen", func(e ircsock.ListenerOpen) bool { return true })
	conn := ev.Conn

	if ev.Listener == nil || ev.Listener.ID() != l.ID() {
		t.Errorf("ListenerOpen.Listener = %v, want listener %d", ev.Listener, l.ID())
	}
	if conn.Listener() == nil || conn.Listener().ID() != l.ID() {
		t.Errorf("Conn.Listener() = %v, want listener %d", conn.Listener(), l.ID())
	}
	if conn.Connector() != nil {
		t.Errorf("Conn.Connector() = %v, want nil for an accepted conn", conn.Connector())
	}
	if got, ok := conn.Args().(*argsT); !ok || got != args {
		t.Errorf("Conn.Args() = %#v, want the listener's args %p", conn.Args(), args)
	}
	if got := l.Args(); got != any(args) {
		t.Errorf("Listener.Args() = %#v, want %p", got, args)
	}
	if got, want := conn.Peer(), addrPort(c.LocalAddr()); got != want {
		t.Errorf("Conn.Peer() = %v, want the client's address %v", got, want)
	}
	if got, want := conn.Local(), addrPort(c.RemoteAddr()); got != want {
		t.Errorf("Conn.Local() = %v, want the listener's address %v", got, want)
	}
	if got, want := conn.Peer().String(), c.LocalAddr().String(); got != want {
		t.Errorf("Conn.Peer().String() = %q, want %q", got, want)
	}
	if got, want := conn.Local().String(), listenAddr(l); got != want {
		t.Errorf("Conn.Local().String() = %q, want %q", got, want)
	}
	if conn.IPv6() {
		t.Errorf("Conn.IPv6() = true, want false on 127.0.0.1")
	}
	if conn.TLS() != nil {
		t.Errorf("Conn.TLS() = %v, want nil on a plaintext listener", conn.TLS())
	}
	if conn.Compressed() || conn.Disconnecting() {
		t.Errorf("Compressed() = %v, Disconnecting() = %v, want false, false", conn.Compressed(), conn.Disconnecting())
	}
	if got, ok := h.b.Conn(conn.ID()); !ok || got.ID() != conn.ID() {
		t.Errorf("Backend.Conn(%d) = %v, %v, want the conn", conn.ID(), got, ok)
	}
	if _, ok := h.b.Conn(conn.ID() + 1000); ok {
		t.Errorf("Backend.Conn(unknown) ok = true, want false")
	}
	if n := len(h.b.Conns()); n != 1 {
		t.Errorf("len(Conns()) = %d, want 1", n)
	}
	h.shutdown()
}

func TestBackendConnectorOpen(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Args: "L", Idle: -1})
	args := &argsT{Tag: "connector-args"}
	cn, err := h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: l.AddrPort().String(), Args: args, Idle: -1})
	if err != nil {
		t.Fatalf("CreateConnector = %v, want nil", err)
	}
	if cn.Addr() != l.AddrPort().String() || cn.Args() != any(args) {
		t.Errorf("Connector = (%q, %v), want (%s, %p)", cn.Addr(), cn.Args(), l.AddrPort(), args)
	}
	ev := waitEvent(h, "ConnectorOpen", func(e ircsock.ConnectorOpen) bool { return true })
	conn := ev.Conn
	if ev.Connector == nil || ev.Connector.ID() != cn.ID() {
		t.Errorf("ConnectorOpen.Connector = %v, want connector %d", ev.Connector, cn.ID())
	}
	if got, ok := conn.Args().(*argsT); !ok || got != args {
		t.Errorf("Conn.Args() = %#v, want the connector's args %p", conn.Args(), args)
	}
	if conn.Connector() == nil || conn.Connector().ID() != cn.ID() {
		t.Errorf("Conn.Connector() = %v, want connector %d", conn.Connector(), cn.ID())
	}
	if conn.Listener() != nil {
		t.Errorf("Conn.Listener() = %v, want nil for a connector conn", conn.Listener())
	}
	if got, want := conn.Peer(), netip.AddrPortFrom(loopback4, uint16(l.Port())); got != want {
		t.Errorf("Conn.Peer() = %v, want %v", got, want)
	}
	// The accepted side of the same connection sees the mirror image.
	acc := waitEvent(h, "ListenerOpen", func(e ircsock.ListenerOpen) bool { return true }).Conn
	if acc.Peer() != conn.Local() || acc.Local() != conn.Peer() {
		t.Errorf("accepted (peer %v, local %v), connector (peer %v, local %v): want mirrored", acc.Peer(), acc.Local(), conn.Peer(), conn.Local())
	}
	if acc.Args() != "L" {
		t.Errorf("accepted Conn.Args() = %v, want the listener's %q", acc.Args(), "L")
	}
	if acc.ID() == conn.ID() {
		t.Errorf("both ends have conn id %d, want distinct ids", acc.ID())
	}
	h.shutdown()
}

func TestBackendInputWireOrder(t *testing.T) {
	const n = 300
	var lines []string
	for i := range n {
		lines = append(lines, "PRIVMSG #chan :"+numbered("line", i)+" with spaces")
	}
	wire := []byte(strings.Join(lines, "\r\n") + "\r\n")
	cases := []struct {
		name  string
		chunk int // bytes per write; 0 means everything in one write
	}{
		{"one write", 0},
		{"7-byte writes", 7},
		{"line-sized writes", 40},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ircsock.Config{})
			l := h.listen(ircsock.ListenerConfig{Idle: -1})
			c := dialRaw(t, h, listenAddr(l))
			conn := h.accepted(c)
			rest := wire
			for len(rest) > 0 {
				k := len(rest)
				if tc.chunk > 0 {
					k = min(k, tc.chunk)
				}
				if _, err := c.Write(rest[:k]); err != nil {
					t.Fatalf("write: %v", err)
				}
				rest = rest[k:]
			}
			got := h.inputs(conn.ID(), n)
			var want, gotP []string
			for i, m := range got {
				if m.Command != "PRIVMSG" || len(m.Params) != 2 || m.Params[0] != "#chan" {
					t.Fatalf("input %d = %s %q, want PRIVMSG [#chan ...]", i, m.Command, m.Params)
				}
				gotP = append(gotP, m.Params[1])
				want = append(want, numbered("line", i)+" with spaces")
			}
			checkSeq(t, "inputs", gotP, want)
			if got := conn.LastSeen(); got.IsZero() {
				t.Errorf("Conn.LastSeen() is zero after input")
			}
			h.shutdown()
		})
	}
}

func TestBackendDisconnectEvent(t *testing.T) {
	cases := []struct {
		name string
		// close ends the connection from one side; reason checks the
		// Disconnect's reason.
		close  func(h *harness, c *rawConn, id ircsock.ConnID)
		reason func(string) bool
		want   string
	}{
		{
			name:   "client EOF",
			close:  func(h *harness, c *rawConn, id ircsock.ConnID) { c.Close() },
			reason: func(r string) bool { return r != "" && r != ircsock.ReasonClientDisconnect },
			want:   "a non-empty reason saying the peer closed",
		},
		{
			name: "Disconnect",
			close: func(h *harness, c *rawConn, id ircsock.ConnID) {
				if err := h.b.Disconnect(id, "bye now"); err != nil {
					h.t.Fatalf("Disconnect = %v, want nil", err)
				}
			},
			reason: func(r string) bool { return r == "bye now" },
			want:   `"bye now"`,
		},
		{
			name: "DisconnectNow",
			close: func(h *harness, c *rawConn, id ircsock.ConnID) {
				if err := h.b.DisconnectNow(id, "right now"); err != nil {
					h.t.Fatalf("DisconnectNow = %v, want nil", err)
				}
			},
			reason: func(r string) bool { return r == "right now" },
			want:   `"right now"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ircsock.Config{})
			l := h.listen(ircsock.ListenerConfig{Idle: -1})
			c := dialRaw(t, h, listenAddr(l))
			conn := h.accepted(c)
			c.writeLines(t, "PING :a", "PING :b")
			h.inputs(conn.ID(), 2)
			tc.close(h, c, conn.ID())
			if tc.name != "client EOF" {
				// The client sees the close.
				c.readEOF(t, 3*time.Second)
			}
			ev := waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](conn.ID()))
			if !tc.reason(ev.Reason) {
				t.Errorf("Disconnect.Reason = %q, want %s", ev.Reason, tc.want)
			}
			if ev.Err != nil {
				t.Errorf("Disconnect.Err = %v, want nil for a requested or clean close", ev.Err)
			}
			if _, ok := h.b.Conn(conn.ID()); ok {
				t.Errorf("Backend.Conn(%d) still found after its Disconnect", conn.ID())
			}
			h.shutdown()
			if n := len(eventsOf(h, forConn[ircsock.Disconnect](conn.ID()))); n != 1 {
				t.Errorf("%d Disconnect events for conn %d, want exactly 1", n, conn.ID())
			}
		})
	}
}

func TestBackendConnectionIdle(t *testing.T) {
	const idle = 200 * time.Millisecond
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: idle})
	if l.Idle() != idle {
		t.Errorf("Listener.Idle() = %v, want %v", l.Idle(), idle)
	}
	dialed := time.Now()
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)

	// Silent: an idle event every idle period, each at least idle after
	// the last input (there was none: the connection's start).
	idles, at := waitN(h, "3 idle events while silent", 3, forConn[ircsock.ConnectionIdle](conn.ID()))
	if got := conn.IdleTime(); got != idle {
		t.Errorf("Conn.IdleTime() = %v, want the listener's %v", got, idle)
	}
	if got := conn.Idle(); got < 3*idle {
		t.Errorf("Conn.Idle() = %v after 3 idle events without input, want at least %v", got, 3*idle)
	}
	seen := idles[0].Conn.LastSeen()
	if seen.Before(dialed.Add(-time.Millisecond)) {
		t.Errorf("LastSeen() = %v before any input, want the connection's start (dialed at %v)", seen, dialed)
	}
	for i := range idles {
		if gap := at[i].Sub(seen); gap < idle {
			t.Errorf("idle event %d arrived %v after LastSeen, want at least %v", i, gap, idle)
		}
	}
	for i := 1; i < len(at); i++ {
		if at[i].Sub(at[0]) <= 0 {
			t.Errorf("idle events %d and 0 arrived at the same time: want one per period", i)
		}
	}

	// Active: a line every 10 ms for 40 lines; input resets the idle
	// clock, so no idle event falls between two inputs that were written
	// much less than an idle period apart. (A stalled test goroutine can
	// leave a real gap; only idle events inside short gaps count.)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	const active = 40
	written := make([]time.Time, active)
	for i := range active {
		<-tick.C
		written[i] = time.Now()
		c.writeLines(t, "PING :"+numbered("p", i))
	}
	lastWrite := written[active-1]
	h.inputs(conn.ID(), active)
	if got := conn.Idle(); got >= idle {
		t.Errorf("Conn.Idle() = %v right after input, want less than %v", got, idle)
	}
	k := -1 // index of the last input seen in the stream
	for _, s := range h.snapshot() {
		if !connIs(conn.ID())(s.ev) {
			continue
		}
		switch s.ev.(type) {
		case ircsock.Input:
			k++
		case ircsock.ConnectionIdle:
			if k < 0 || k >= active-1 {
				continue // before the first line or after the last
			}
			if gap := written[k+1].Sub(written[k]); gap < idle/2 {
				t.Errorf("idle event between lines %d and %d, written %v apart (idle %v): input must reset the idle clock", k, k+1, gap, idle)
			} else {
				t.Logf("idle event in a %v gap the test goroutine left between lines %d and %d: not counted", gap, k, k+1)
			}
		}
	}

	// Silent again: idle resumes, counted from the last input.
	if ls := conn.LastSeen(); ls.Before(lastWrite.Add(-time.Millisecond)) {
		t.Errorf("LastSeen() = %v, before the last line was written at %v", ls, lastWrite)
	}
	before := len(eventsOf(h, forConn[ircsock.ConnectionIdle](conn.ID())))
	_, atAfter := waitN(h, "idle after input", before+1, forConn[ircsock.ConnectionIdle](conn.ID()))
	if gap := atAfter[before].Sub(lastWrite); gap < idle {
		t.Errorf("idle event %v after the last input, want at least %v", gap, idle)
	}
	h.shutdown()
}

func TestBackendConnectorIdle(t *testing.T) {
	const idle = 100 * time.Millisecond
	h := newHarness(t, ircsock.Config{})
	// A silent raw server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	conn := h.connect(ircsock.ConnectorConfig{Addr: ln.Addr().String(), Idle: idle})
	select {
	case srv := <-accepted:
		wrapRaw(t, h, srv) // silent, closed at shutdown like a client
	case <-h.ctx.Done():
		t.Fatal("raw server never accepted")
	}
	_, at := waitN(h, "2 idle events on a connector conn", 2, forConn[ircsock.ConnectionIdle](conn.ID()))
	open := conn.LastSeen()
	for i, a := range at {
		if a.Sub(open) < idle {
			t.Errorf("connector idle event %d arrived %v after LastSeen, want at least %v", i, a.Sub(open), idle)
		}
	}
	h.shutdown()
}

func TestBackendCompressedEvent(t *testing.T) {
	cases := []struct {
		name string
		set  func(b *ircsock.Backend, id ircsock.ConnID) error
	}{
		{"SetCompressedLinkNow", (*ircsock.Backend).SetCompressedLinkNow},
		{"SetCompressedLink", (*ircsock.Backend).SetCompressedLink},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ircsock.Config{})
			l := h.listen(ircsock.ListenerConfig{Idle: -1})
			c := dialRaw(t, h, listenAddr(l))
			conn := h.accepted(c)
			if err := tc.set(h.b, conn.ID()); err != nil {
				t.Fatalf("%s = %v, want nil", tc.name, err)
			}
			ev := waitEvent(h, "Compressed", forConn[ircsock.Compressed](conn.ID()))
			if !ev.Conn.Compressed() {
				t.Errorf("Conn.Compressed() = false after the Compressed event")
			}
			h.shutdown()
		})
	}
}

func TestBackendListenerFailureAddrInUse(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := addrPort(busy.Addr()).Port()

	l, err := h.b.CreateListener(ircsock.ListenerConfig{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))})
	if err == nil {
		t.Fatalf("CreateListener on a busy port: err = nil, want EADDRINUSE")
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("CreateListener err = %v, want errors.Is EADDRINUSE", err)
	}
	ev := waitEvent(h, "ListenerFailure", func(ircsock.ListenerFailure) bool { return true })
	if ev.Op != "bind" {
		t.Errorf("ListenerFailure.Op = %q, want %q", ev.Op, "bind")
	}
	if ev.Errno != int(syscall.EADDRINUSE) {
		t.Errorf("ListenerFailure.Errno = %d, want %d (EADDRINUSE)", ev.Errno, int(syscall.EADDRINUSE))
	}
	if ev.Err == nil || !errors.Is(ev.Err, syscall.EADDRINUSE) {
		t.Errorf("ListenerFailure.Err = %v, want errors.Is EADDRINUSE", ev.Err)
	}
	if l != nil && ev.Listener != nil && ev.Listener.ID() != l.ID() {
		t.Errorf("ListenerFailure.Listener = %d, want the returned listener %d", ev.Listener.ID(), l.ID())
	}
	// A later listener is a barrier: anything about the failed one would
	// have been delivered before its ListenerCreated.
	h.listen(ircsock.ListenerConfig{Idle: -1})
	for _, c := range eventsOf[ircsock.ListenerCreated](h, nil) {
		if c.Listener.Port() == int(port) {
			t.Errorf("ListenerCreated for the busy port %d: want none before or after a ListenerFailure", port)
		}
	}
	if n := len(h.b.Listeners()); n != 1 {
		t.Errorf("len(Listeners()) = %d, want 1 (the failed one is not kept)", n)
	}
	h.shutdown()
}

// closedPort returns a loopback port that was bound and then closed, so
// that a connection to it is refused.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := int(addrPort(ln.Addr()).Port())
	ln.Close()
	return port
}

// fullBacklog returns the address of a loopback socket that listens with a
// backlog of 0 and whose accept queue has been filled, so that a further
// SYN is dropped and a connect can only time out. Closing it is the
// caller's cleanup.
// skipUnlessCI skips t with why, except under CI=true, where Linux (the
// CI machine) does drop the SYN and a skip would hide an untested path.
func skipUnlessCI(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: %s", why)
	}
	t.Skip("skipped: " + why)
}

func fullBacklog(t *testing.T, h *harness) (netip.AddrPort, bool) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.AddrPortFrom(loopback4, uint16(sa.(*syscall.SockaddrInet4).Port))
	// Fill the queue until a probe dial times out.
	for range 8 {
		d := net.Dialer{Timeout: 300 * time.Millisecond}
		c, err := d.DialContext(h.ctx, "tcp", ap.String())
		if err != nil {
			var ne net.Error
			return ap, errors.As(err, &ne) && ne.Timeout()
		}
		t.Cleanup(func() { c.Close() })
	}
	return ap, false
}

func TestBackendConnectorFailure(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		port := closedPort(t)
		args := "refused-args"
		cn, err := h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Args: args})
		if err != nil {
			t.Fatalf("CreateConnector = %v, want nil (the failure is an event)", err)
		}
		ev := waitEvent(h, "ConnectorFailure", func(ircsock.ConnectorFailure) bool { return true })
		if ev.Connector == nil || ev.Connector.ID() != cn.ID() {
			t.Errorf("ConnectorFailure.Connector = %v, want connector %d", ev.Connector, cn.ID())
		} else if ev.Connector.Args() != args {
			t.Errorf("ConnectorFailure.Connector.Args() = %v, want %q", ev.Connector.Args(), args)
		}
		if ev.Op != "connect" {
			t.Errorf("ConnectorFailure.Op = %q, want %q", ev.Op, "connect")
		}
		if ev.Errno != int(syscall.ECONNREFUSED) {
			t.Errorf("ConnectorFailure.Errno = %d, want %d (ECONNREFUSED)", ev.Errno, int(syscall.ECONNREFUSED))
		}
		if !errors.Is(ev.Err, syscall.ECONNREFUSED) {
			t.Errorf("ConnectorFailure.Err = %v, want errors.Is ECONNREFUSED", ev.Err)
		}
		if n := len(h.b.Connectors()); n != 0 {
			t.Errorf("len(Connectors()) = %d after the failure, want 0", n)
		}
		h.shutdown()
	})
	t.Run("timeout", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		ap, ok := fullBacklog(t, h)
		if !ok {
			skipUnlessCI(t, "a full accept queue does not drop SYNs here, so a connect timeout cannot be provoked on loopback")
		}
		start := time.Now()
		const timeout = 300 * time.Millisecond
		_, err := h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: ap.String(), Timeout: timeout})
		if err != nil {
			t.Fatalf("CreateConnector = %v, want nil", err)
		}
		ev := waitEvent(h, "ConnectorFailure", func(ircsock.ConnectorFailure) bool { return true })
		took := time.Since(start)
		if ev.Op != "connect" {
			t.Errorf("ConnectorFailure.Op = %q, want %q", ev.Op, "connect")
		}
		var ne net.Error
		if !(errors.As(ev.Err, &ne) && ne.Timeout()) && !errors.Is(ev.Err, context.DeadlineExceeded) {
			t.Errorf("ConnectorFailure.Err = %v, want a timeout", ev.Err)
		}
		if took < timeout || took > 10*time.Second {
			t.Errorf("connect failed after %v, want after the %v timeout (and well before 10s)", took, timeout)
		}
		h.shutdown()
	})
	t.Run("context canceled", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		ap, ok := fullBacklog(t, h)
		if !ok {
			skipUnlessCI(t, "a full accept queue does not drop SYNs here, so a dial cannot be held pending")
		}
		ctx, cancel := context.WithCancel(h.ctx)
		_, err := h.b.CreateConnector(ctx, ircsock.ConnectorConfig{Addr: ap.String(), Timeout: 15 * time.Second})
		if err != nil {
			cancel()
			t.Fatalf("CreateConnector = %v, want nil", err)
		}
		cancel()
		ev := waitEvent(h, "ConnectorFailure", func(ircsock.ConnectorFailure) bool { return true })
		if !errors.Is(ev.Err, context.Canceled) {
			t.Errorf("ConnectorFailure.Err = %v, want errors.Is context.Canceled", ev.Err)
		}
		if ev.Op != "connect" {
			t.Errorf("ConnectorFailure.Op = %q, want %q", ev.Op, "connect")
		}
		h.shutdown()
	})
}

func TestBackendRemoveListener(t *testing.T) {
	type setup struct {
		a, b *ircsock.Listener // two listeners on 127.0.0.1
	}
	cases := []struct {
		name string
		// remove removes listener a (and, by address, b too) and returns how
		// many listeners the call reports removed (1 for RemoveListener).
		remove func(t *testing.T, be *ircsock.Backend, s setup) int
		want   int  // removals reported
		bGone  bool // whether b is removed too
	}{
		{"by id", func(t *testing.T, be *ircsock.Backend, s setup) int {
			if err := be.RemoveListener(s.a.ID()); err != nil {
				t.Fatalf("RemoveListener(%d) = %v, want nil", s.a.ID(), err)
			}
			return 1
		}, 1, false},
		{"by address", func(t *testing.T, be *ircsock.Backend, s setup) int {
			return be.RemoveListeners(loopback4, 0)
		}, 2, true},
		{"by port", func(t *testing.T, be *ircsock.Backend, s setup) int {
			return be.RemoveListeners(netip.Addr{}, s.a.Port())
		}, 1, false},
		{"by address and port", func(t *testing.T, be *ircsock.Backend, s setup) int {
			if n := be.RemoveListeners(netip.MustParseAddr("::1"), s.a.Port()); n != 0 {
				t.Errorf("RemoveListeners(::1, %d) = %d, want 0 (address differs)", s.a.Port(), n)
			}
			return be.RemoveListeners(loopback4, s.a.Port())
		}, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ircsock.Config{})
			s := setup{
				a: h.listen(ircsock.ListenerConfig{Idle: -1}),
				b: h.listen(ircsock.ListenerConfig{Idle: -1}),
			}
			c := dialRaw(t, h, listenAddr(s.a))
			conn := h.accepted(c)

			if got := tc.remove(t, h.b, s); got != tc.want {
				t.Errorf("removed %d listeners, want %d", got, tc.want)
			}
			waitEvent(h, "ListenerRemoved", func(e ircsock.ListenerRemoved) bool { return e.Listener.ID() == s.a.ID() })

			// A removed listener stops accepting.
			var d net.Dialer
			if x, err := d.DialContext(h.ctx, "tcp", listenAddr(s.a)); err == nil {
				x.Close()
				t.Errorf("dial to removed listener %s succeeded, want refused", listenAddr(s.a))
			}
			// The other listener accepts unless it was removed too.
			if !tc.bGone {
				h.accepted(dialRaw(t, h, listenAddr(s.b)))
			} else {
				waitEvent(h, "ListenerRemoved for b", func(e ircsock.ListenerRemoved) bool { return e.Listener.ID() == s.b.ID() })
			}
			// Its accepted connection stays open both ways.
			h.send(msg("NOTICE", "still", "here"), conn.ID())
			if line, err := c.readLine(); err != nil || line != "NOTICE still here" {
				t.Errorf("read on kept conn = %q, %v, want %q", line, err, "NOTICE still here")
			}
			c.writeLines(t, "PING :kept")
			if m := h.inputs(conn.ID(), 1)[0]; m.Command != "PING" {
				t.Errorf("input on kept conn = %s, want PING", m.Command)
			}

			// Removing again: an error by id, zero by address/port, and no
			// second ListenerRemoved (the checker counts them).
			if err := h.b.RemoveListener(s.a.ID()); err == nil {
				t.Errorf("second RemoveListener(%d) = nil, want an error", s.a.ID())
			}
			if n := h.b.RemoveListeners(loopback4, s.a.Port()); n != 0 {
				t.Errorf("second RemoveListeners = %d, want 0", n)
			}
			wantLeft := 1
			if tc.bGone {
				wantLeft = 0
			}
			if n := len(h.b.Listeners()); n != wantLeft {
				t.Errorf("len(Listeners()) = %d, want %d", n, wantLeft)
			}
			h.shutdown()
			if n := len(eventsOf(h, func(e ircsock.ListenerRemoved) bool { return e.Listener.ID() == s.a.ID() })); n != 1 {
				t.Errorf("%d ListenerRemoved for listener %d, want 1", n, s.a.ID())
			}
		})
	}
}

// TestBackendUpstreamFlow ports t/backend.t of POEx::IRC::Backend:
// a listener with args, a connector with args to it, messages both ways,
// three "testing" inputs, remove_listener by address, shutdown.
func TestBackendUpstreamFlow(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	waitEvent(h, "Registered", func(ircsock.Registered) bool { return true })

	largs := map[string]int{"foo": 1}
	l := h.listen(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Args: largs, Idle: -1})
	cargs := map[string]string{"tag": "foo"}
	cconn := h.connect(ircsock.ConnectorConfig{Addr: l.AddrPort().String(), Args: cargs, Idle: -1})
	if got, ok := cconn.Args().(map[string]string); !ok || got["tag"] != "foo" || len(got) != 1 {
		t.Errorf("connector Conn.Args() = %v, want {tag: foo}", cconn.Args())
	}
	if cconn.TLS() != nil {
		t.Errorf("connector Conn.TLS() = %v, want nil", cconn.TLS())
	}
	h.send(msg("CONNECTOR", "testing"), cconn.ID())
	h.send(&ircmsg.Message{Source: "test", Command: "CONNECTOR", Params: []string{"testing"}}, cconn.ID())

	lo := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true })
	lconn := lo.Conn
	if got, ok := lconn.Args().(map[string]int); !ok || got["foo"] != 1 || len(got) != 1 {
		t.Errorf("listener Conn.Args() = %v, want {foo: 1}", lconn.Args())
	}
	if lo.Listener.ID() != l.ID() {
		t.Errorf("ListenerOpen.Listener = %d, want %d", lo.Listener.ID(), l.ID())
	}
	if lconn.Local().Addr() != loopback4 || int(lconn.Local().Port()) != l.Port() {
		t.Errorf("listener Conn.Local() = %v, want 127.0.0.1:%d", lconn.Local(), l.Port())
	}
	if lconn.Peer().Addr() != loopback4 || lconn.Peer().Port() == 0 {
		t.Errorf("listener Conn.Peer() = %v, want 127.0.0.1 with a port", lconn.Peer())
	}
	if lconn.Disconnecting() || lconn.Compressed() {
		t.Errorf("listener conn disconnecting=%v compressed=%v, want false, false", lconn.Disconnecting(), lconn.Compressed())
	}
	h.send(&ircmsg.Message{Source: "listener", Command: "test", Params: []string{"testing", "stuff"}}, lconn.ID())

	// Three inputs with params[0] "testing": two on the listener side, one
	// on the connector side.
	ins, _ := waitN(h, "3 testing inputs", 3, func(e ircsock.Input) bool {
		return len(e.Msg().Params) > 0 && e.Msg().Params[0] == "testing"
	})
	onL, onC := 0, 0
	for _, in := range ins {
		switch in.Conn().ID() {
		case lconn.ID():
			onL++
		case cconn.ID():
			onC++
			if in.Msg().Source != "listener" || in.Msg().Command != "TEST" || len(in.Msg().Params) != 2 || in.Msg().Params[1] != "stuff" {
				t.Errorf("connector input = %q %s %q, want listener TEST [testing stuff]", in.Msg().Source, in.Msg().Command, in.Msg().Params)
			}
		}
	}
	if onL != 2 || onC != 1 {
		t.Errorf("testing inputs: %d on the listener side, %d on the connector side, want 2 and 1", onL, onC)
	}
	if n := h.b.RemoveListeners(loopback4, 0); n != 1 {
		t.Errorf("RemoveListeners(127.0.0.1) = %d, want 1", n)
	}
	waitEvent(h, "ListenerRemoved", func(e ircsock.ListenerRemoved) bool { return e.Listener.ID() == l.ID() })
	h.shutdown()
	if n := len(eventsOf[ircsock.ListenerRemoved](h, nil)); n != 1 {
		t.Errorf("%d ListenerRemoved, want 1", n)
	}
}

func TestBackendIPv6(t *testing.T) {
	requireIPv6(t)
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Addr: "[::1]:0", Idle: -1})
	v6 := netip.MustParseAddr("::1")
	if l.Addr() != v6 {
		t.Errorf("Listener.Addr() = %v, want ::1", l.Addr())
	}
	cconn := h.connect(ircsock.ConnectorConfig{Addr: l.AddrPort().String(), Idle: -1})
	lconn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn
	for _, side := range []struct {
		name string
		c    *ircsock.Conn
	}{{"listener", lconn}, {"connector", cconn}} {
		if !side.c.IPv6() {
			t.Errorf("%s Conn.IPv6() = false, want true", side.name)
		}
		for _, ap := range []netip.AddrPort{side.c.Peer(), side.c.Local()} {
			if ap.Addr() != v6 {
				t.Errorf("%s address %v, want ::1", side.name, ap.Addr())
			}
			// Printable text, not 16 raw bytes.
			if s := ap.String(); !strings.HasPrefix(s, "[::1]:") {
				t.Errorf("%s address prints as %q, want [::1]:port", side.name, s)
			}
		}
	}
	if got, want := lconn.Local().Port(), uint16(l.Port()); got != want {
		t.Errorf("listener Conn.Local().Port() = %d, want %d", got, want)
	}
	if lconn.Peer() != cconn.Local() || lconn.Local() != cconn.Peer() {
		t.Errorf("listener (peer %v, local %v), connector (peer %v, local %v): want mirrored", lconn.Peer(), lconn.Local(), cconn.Peer(), cconn.Local())
	}
	// A raw IPv6 client too.
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)
	if got, want := conn.Peer().String(), c.LocalAddr().String(); got != want {
		t.Errorf("Conn.Peer().String() = %q, want %q", got, want)
	}
	c.writeLines(t, "PING :v6")
	if m := h.inputs(conn.ID(), 1)[0]; m.Params[0] != "v6" {
		t.Errorf("input over IPv6 = %q, want [v6]", m.Params)
	}
	h.shutdown()
}

func TestBackendListenerLimits(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1, MaxConns: 1})
	first := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(first)
	second := dialRaw(t, h, listenAddr(l))
	ev := waitEvent(h, "ListenerFailure limit", func(ircsock.ListenerFailure) bool { return true })
	if ev.Op != "limit" || ev.Listener == nil || ev.Listener.ID() != l.ID() || ev.Err == nil {
		t.Errorf("ListenerFailure = %s, want op \"limit\" on listener %d with an error", fmtEvent(ev), l.ID())
	}
	// One line says which limit refused it, then the connection ends.
	second.SetReadDeadline(time.Now().Add(3 * time.Second))
	if line, err := second.readLine(); err != nil || line != "ERROR :Closing Link: 127.0.0.1 (Server full: MaxConns=1)" {
		t.Errorf("refused client read %q, %v; want the ERROR line naming MaxConns=1", line, err)
	}
	second.readEOF(t, 3*time.Second)
	if n := len(eventsOf[ircsock.ListenerOpen](h, nil)); n != 1 {
		t.Errorf("%d ListenerOpen events with MaxConns 1, want 1", n)
	}
	// When the first leaves, a new client gets in.
	first.Close()
	waitEvent(h, "Disconnect of the first", forConn[ircsock.Disconnect](conn.ID()))
	h.accepted(dialRaw(t, h, listenAddr(l)))
	h.shutdown()
}

func TestBackendCallerListener(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := h.listen(ircsock.ListenerConfig{Listener: ln, Idle: -1, Args: "mine"})
	if want := int(addrPort(ln.Addr()).Port()); l.Port() != want || l.Addr() != loopback4 {
		t.Errorf("Listener = %v:%d, want the supplied listener's 127.0.0.1:%d", l.Addr(), l.Port(), want)
	}
	c := dialRaw(t, h, ln.Addr().String())
	conn := h.accepted(c)
	if conn.Args() != "mine" {
		t.Errorf("Conn.Args() = %v, want %q", conn.Args(), "mine")
	}
	c.writeLines(t, "PING :supplied")
	if m := h.inputs(conn.ID(), 1)[0]; m.Params[0] != "supplied" {
		t.Errorf("input = %q, want [supplied]", m.Params)
	}
	if err := h.b.RemoveListener(l.ID()); err != nil {
		t.Errorf("RemoveListener = %v, want nil", err)
	}
	waitEvent(h, "ListenerRemoved", func(e ircsock.ListenerRemoved) bool { return e.Listener.ID() == l.ID() })
	var d net.Dialer
	if x, err := d.DialContext(h.ctx, "tcp", ln.Addr().String()); err == nil {
		x.Close()
		t.Errorf("dial after RemoveListener succeeded, want the supplied listener closed")
	}
	h.shutdown()
}
