package ircsock_test

// Draining and closing: disconnect after flush, immediate disconnect, the
// send-queue limit with a reader that never reads, Shutdown under load,
// Close, and misuse of the API.

import (
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// readAll reads lines until EOF or an error and reports them on a channel.
type lineResult struct {
	lines []string
	err   error // io.EOF for a clean end
	bytes int
}

func readAllLines(c *rawConn, wg *sync.WaitGroup) <-chan lineResult {
	ch := make(chan lineResult, 1)
	c.claimed.Store(true)
	wg.Go(func() {
		var r lineResult
		for {
			s, err := c.r.ReadString('\n')
			r.bytes += len(s)
			if err != nil {
				r.err = err
				c.Close()
				ch <- r
				return
			}
			r.lines = append(r.lines, strings.TrimSuffix(s, "\r\n"))
		}
	})
	return ch
}

// payload is a parameter long enough that a few thousand lines are more
// than the kernel buffers a silent reader's connection can hold.
var payload = strings.Repeat("x", 400)

func floodLine(i int) string { return "PRIVMSG #flood " + numbered("f", i) + " " + payload }

func floodMsg(i int) *ircmsg.Message {
	return msg("PRIVMSG", "#flood", numbered("f", i), payload)
}

func TestBackendDisconnectAfterFlush(t *testing.T) {
	const n = 10000 // about 4.3 MB
	h := newHarness(t, ircsock.Config{MaxSendQ: 16 << 20})
	l := h.listen(ircsock.ListenerConfig{Idle: -1})
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)
	for i := range n {
		h.send(floodMsg(i), conn.ID())
	}
	if err := h.b.Disconnect(conn.ID(), "flushed"); err != nil {
		t.Fatalf("Disconnect = %v, want nil", err)
	}
	// The client has not read a byte, so most of the queue is still in the
	// Backend: the connection is marked, not yet closed.
	if !conn.Disconnecting() {
		select {
		case <-h.disconnected(conn.ID()):
		default:
			t.Errorf("Conn.Disconnecting() = false right after Disconnect with %d lines queued", n)
		}
	}
	var wg sync.WaitGroup
	res := <-readAllLines(c, &wg)
	wg.Wait()
	if res.err != io.EOF {
		t.Errorf("client read ended with %v, want EOF after every line", res.err)
	}
	want := make([]string, n)
	for i := range want {
		want[i] = floodLine(i)
	}
	checkSeq(t, "lines before EOF", res.lines, want)
	ev := waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](conn.ID()))
	if ev.Reason != "flushed" {
		t.Errorf("Disconnect.Reason = %q, want %q", ev.Reason, "flushed")
	}
	if ev.Err != nil {
		t.Errorf("Disconnect.Err = %v, want nil for a requested close", ev.Err)
	}
	h.shutdown()
}

func TestBackendDisconnectNothingQueued(t *testing.T) {
	// DrainTimeout is long, so a close that waited for it would show.
	h := newHarness(t, ircsock.Config{DrainTimeout: time.Minute})
	l := h.listen(ircsock.ListenerConfig{Idle: -1})
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)
	start := time.Now()
	if err := h.b.Disconnect(conn.ID(), "idle bye"); err != nil {
		t.Fatalf("Disconnect = %v, want nil", err)
	}
	c.readEOF(t, 3*time.Second)
	ev := waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](conn.ID()))
	if ev.Reason != "idle bye" {
		t.Errorf("Disconnect.Reason = %q, want %q", ev.Reason, "idle bye")
	}
	t.Logf("disconnect with nothing queued took %v", time.Since(start))
	h.shutdown()
}

func TestBackendDisconnectNow(t *testing.T) {
	const n = 10000 // about 4.3 MB, far more than the kernel buffers
	h := newHarness(t, ircsock.Config{MaxSendQ: 16 << 20, DrainTimeout: time.Minute})
	l := h.listen(ircsock.ListenerConfig{Idle: -1})
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)
	for i := range n {
		h.send(floodMsg(i), conn.ID())
	}
	if err := h.b.DisconnectNow(conn.ID(), "now"); err != nil {
		t.Fatalf("DisconnectNow = %v, want nil", err)
	}
	// The Disconnect event comes without the client reading anything.
	select {
	case <-h.disconnected(conn.ID()):
	case <-time.After(3 * time.Second):
		t.Fatalf("no Disconnect within 3s of DisconnectNow while the client reads nothing\n%s", h.dump())
	}
	ev := waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](conn.ID()))
	if ev.Reason != "now" {
		t.Errorf("Disconnect.Reason = %q, want %q", ev.Reason, "now")
	}
	var wg sync.WaitGroup
	res := <-readAllLines(c, &wg)
	wg.Wait()
	if !isClosedErr(res.err) {
		t.Errorf("client read ended with %v, want EOF or reset", res.err)
	}
	if len(res.lines) >= n {
		t.Errorf("client read all %d lines after DisconnectNow, want the queue dropped", len(res.lines))
	}
	t.Logf("client got %d of %d lines (%d bytes) after DisconnectNow", len(res.lines), n, res.bytes)
	h.shutdown()
}

// kernelBufMax returns the largest TCP buffer the kernel may give one
// socket in the given direction ("wmem" or "rmem"), or def when unknown.
func kernelBufMax(which string, def int) int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_" + which)
	if err != nil {
		return def
	}
	f := strings.Fields(string(b))
	if len(f) != 3 {
		return def
	}
	v, err := strconv.Atoi(f[2])
	if err != nil {
		return def
	}
	return v
}

func TestBackendMaxSendQ(t *testing.T) {
	const maxSendQ = 64 << 10
	h := newHarness(t, ircsock.Config{MaxSendQ: maxSendQ})
	l := h.listen(ircsock.ListenerConfig{Idle: -1})

	// A client that never reads, with a small receive buffer set before
	// connecting so that the kernel holds little on its side.
	var rcvbuf int
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			if serr == nil {
				rcvbuf, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	raw, err := d.DialContext(h.ctx, "tcp", listenAddr(l))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	slow := wrapRaw(t, h, raw)
	sconn := h.accepted(slow)

	// A second, healthy client on the same Backend.
	good := dialRaw(t, h, listenAddr(l))
	gconn := h.accepted(good)

	// What the Backend may accept before it must have noticed: its queue,
	// plus at most what the kernel can hold on both ends, plus one line.
	line := floodMsg(0)
	lineLen := len(floodLine(0)) + 2
	bound := maxSendQ + kernelBufMax("wmem", 4<<20) + 2*max(rcvbuf, 4096) + lineLen
	accepted := 0
	done := h.disconnected(sconn.ID())
	var sendErr error
loop:
	for accepted <= bound {
		select {
		case <-done:
			break loop
		case <-h.ctx.Done():
			t.Fatalf("Send loop: %v after %d bytes accepted", h.ctx.Err(), accepted)
		default:
		}
		if sendErr = h.b.Send(line, sconn.ID()); sendErr != nil {
			break
		}
		accepted += lineLen
	}
	if accepted > bound {
		t.Fatalf("Send accepted %d bytes for a client that never reads without a disconnect; want at most %d (MaxSendQ %d + kernel buffers)", accepted, bound, maxSendQ)
	}
	ev := waitEvent(h, "Disconnect of the slow reader", forConn[ircsock.Disconnect](sconn.ID()))
	if ev.Reason != "Max SendQ exceeded" {
		t.Errorf("Disconnect.Reason = %q, want %q", ev.Reason, "Max SendQ exceeded")
	}
	if ev.Err != nil && !strings.Contains(strings.ToLower(ev.Err.Error()), "sendq") {
		t.Errorf("Disconnect.Err = %v, want it to name the send-queue limit", ev.Err)
	}
	if accepted < maxSendQ-lineLen {
		t.Errorf("disconnected after only %d bytes accepted, want at least MaxSendQ %d minus one line", accepted, maxSendQ)
	}
	t.Logf("accepted %d bytes before the disconnect (bound %d, client SO_RCVBUF %d, last Send err %v)", accepted, bound, rcvbuf, sendErr)
	if err := h.b.Send(line, sconn.ID()); err == nil {
		t.Errorf("Send to the dropped slow reader = nil, want an error")
	}
	// Nothing else lost: the healthy client still works both ways.
	h.send(msg("NOTICE", "good", "still fine"), gconn.ID())
	if s, err := good.readLine(); err != nil || s != "NOTICE good :still fine" {
		t.Errorf("healthy client read = %q, %v, want %q", s, err, "NOTICE good :still fine")
	}
	good.writeLines(t, "PING :alive")
	if m := h.inputs(gconn.ID(), 1)[0]; m.Command != "PING" {
		t.Errorf("healthy client input = %s, want PING", m.Command)
	}
	h.shutdown()
}

func TestBackendShutdownUnderLoad(t *testing.T) {
	const clients, n = 4, 3000 // 4 x 1.3 MB
	h := newHarness(t, ircsock.Config{MaxSendQ: 8 << 20})
	l := h.listen(ircsock.ListenerConfig{Idle: -1})
	var ids []ircsock.ConnID
	var raws []*rawConn
	for range clients {
		c := dialRaw(t, h, listenAddr(l))
		raws = append(raws, c)
		ids = append(ids, h.accepted(c).ID())
	}
	// A pending connector that Shutdown must cancel without a leak.
	if ap, ok := fullBacklog(t, h); ok {
		if _, err := h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: "127.0.0.1", Port: int(ap.Port()), Timeout: time.Minute}); err != nil {
			t.Fatalf("CreateConnector = %v, want nil", err)
		}
	}
	var wg sync.WaitGroup
	var results []<-chan lineResult
	for _, c := range raws {
		results = append(results, readAllLines(c, &wg))
	}
	for i := range n {
		h.send(floodMsg(i), ids...) // one Send to every client
	}
	h.shutdown()
	wg.Wait()

	want := make([]string, n)
	for i := range want {
		want[i] = floodLine(i)
	}
	for i, ch := range results {
		res := <-ch
		if res.err != io.EOF {
			t.Errorf("client %d: read ended with %v, want EOF after every line", i, res.err)
		}
		checkSeq(t, "client "+strconv.Itoa(i), res.lines, want)
	}
	var d net.Dialer
	if c, err := d.DialContext(h.ctx, "tcp", listenAddr(l)); err == nil {
		c.Close()
		t.Errorf("dial after Shutdown succeeded, want the listener closed")
	}
	// Every connection got exactly one Disconnect (the checker requires
	// it before the events channel closed).
	if n := len(eventsOf[ircsock.Disconnect](h, nil)); n != clients {
		t.Errorf("%d Disconnect events, want %d", n, clients)
	}
}

func TestBackendClose(t *testing.T) {
	const clients, n = 3, 3000
	h := newHarness(t, ircsock.Config{MaxSendQ: 8 << 20})
	l := h.listen(ircsock.ListenerConfig{Idle: -1})
	var ids []ircsock.ConnID
	var raws []*rawConn
	for range clients {
		c := dialRaw(t, h, listenAddr(l))
		raws = append(raws, c)
		ids = append(ids, h.accepted(c).ID())
	}
	if ap, ok := fullBacklog(t, h); ok {
		if _, err := h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: "127.0.0.1", Port: int(ap.Port()), Timeout: time.Minute}); err != nil {
			t.Fatalf("CreateConnector = %v, want nil", err)
		}
	}
	for i := range n {
		h.send(floodMsg(i), ids...)
	}
	start := time.Now()
	closed := make(chan error, 1)
	go func() { closed <- h.b.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close() = %v, want nil", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("Close() still running after 3s with %d clients not reading", clients)
	}
	h.waitClosed("after Close")
	t.Logf("Close took %v", time.Since(start))
	// The clients see the end without having read: Close does not drain.
	var wg sync.WaitGroup
	for i, c := range raws {
		res := <-readAllLines(c, &wg)
		if !isClosedErr(res.err) {
			t.Errorf("client %d: read ended with %v, want EOF or reset", i, res.err)
		}
	}
	wg.Wait()
	if err := h.b.Close(); err != nil && !isClosedAPIErr(err) {
		t.Errorf("second Close() = %v, want nil or ErrClosed", err)
	}
}

func TestBackendAPIMisuse(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1})
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)
	gone := dialRaw(t, h, listenAddr(l))
	goneConn := h.accepted(gone)
	gone.Close()
	waitEvent(h, "Disconnect of the closed client", forConn[ircsock.Disconnect](goneConn.ID()))
	const unknown = ircsock.ConnID(1 << 40)

	errCases := []struct {
		name string
		call func() error
	}{
		{"Send to an unknown id", func() error { return h.b.Send(msg("PING", "x"), unknown) }},
		{"Send to a closed id", func() error { return h.b.Send(msg("PING", "x"), goneConn.ID()) }},
		{"Send a nil message", func() error { return h.b.Send(nil, conn.ID()) }},
		{"Send without a command", func() error { return h.b.Send(&ircmsg.Message{Params: []string{"x"}}, conn.ID()) }},
		{"Send a CR LF injection", func() error { return h.b.Send(msg("PRIVMSG", "#c", "hi\r\nQUIT :injected"), conn.ID()) }},
		{"Disconnect an unknown id", func() error { return h.b.Disconnect(unknown, "x") }},
		{"Disconnect a closed id", func() error { return h.b.Disconnect(goneConn.ID(), "x") }},
		{"DisconnectNow an unknown id", func() error { return h.b.DisconnectNow(unknown, "x") }},
		{"SetCompressedLink an unknown id", func() error { return h.b.SetCompressedLink(unknown) }},
		{"SetCompressedLinkNow an unknown id", func() error { return h.b.SetCompressedLinkNow(unknown) }},
		{"UnsetCompressedLink an unknown id", func() error { return h.b.UnsetCompressedLink(unknown) }},
		{"UnsetCompressedLink an uncompressed link", func() error { return h.b.UnsetCompressedLink(conn.ID()) }},
		{"CompressInputAfter an unknown id", func() error { return h.b.CompressInputAfter(unknown, isStart) }},
		{"RemoveListener an unknown id", func() error { return h.b.RemoveListener(ircsock.ListenerID(1 << 40)) }},
		{"CreateConnector without a port", func() error {
			_, err := h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: "127.0.0.1"})
			return err
		}},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil {
				t.Errorf("%s = nil, want an error", tc.name)
			}
		})
	}
	// Nothing of the rejected messages reached the wire: the next line the
	// client reads is the next valid message.
	h.send(msg("NOTICE", "after", "rejects"), conn.ID())
	if s, err := c.readLine(); err != nil || s != "NOTICE after rejects" {
		t.Errorf("client read = %q, %v, want %q (rejected messages must not be written)", s, err, "NOTICE after rejects")
	}
	// Send to many ids reaches the live ones even when one is unknown.
	_ = h.b.Send(msg("NOTICE", "many", "ids"), unknown, conn.ID(), goneConn.ID())
	if s, err := c.readLine(); err != nil || s != "NOTICE many ids" {
		t.Errorf("client read after a Send to mixed ids = %q, %v, want %q", s, err, "NOTICE many ids")
	}

	// Disconnect twice: the second call must not produce a second event.
	if err := h.b.Disconnect(conn.ID(), "first"); err != nil {
		t.Fatalf("first Disconnect = %v, want nil", err)
	}
	_ = h.b.Disconnect(conn.ID(), "second")
	c.readEOF(t, 3*time.Second)
	ev := waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](conn.ID()))
	if ev.Reason != "first" {
		t.Errorf("Disconnect.Reason = %q, want %q (the first call's)", ev.Reason, "first")
	}
	if err := h.b.Disconnect(conn.ID(), "third"); err == nil {
		t.Errorf("Disconnect after the Disconnect event = nil, want an error")
	}

	h.shutdown()
	after := []struct {
		name string
		call func() error
	}{
		{"Send", func() error { return h.b.Send(msg("PING", "x"), conn.ID()) }},
		{"Disconnect", func() error { return h.b.Disconnect(conn.ID(), "x") }},
		{"CreateListener", func() error {
			_, err := h.b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1", Idle: -1})
			return err
		}},
		{"CreateConnector", func() error {
			_, err := h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: "127.0.0.1", Port: l.Port()})
			return err
		}},
		{"Shutdown", func() error { return h.b.Shutdown(context.Background()) }},
	}
	for _, tc := range after {
		t.Run(tc.name+" after Shutdown", func(t *testing.T) {
			if err := tc.call(); err == nil {
				t.Errorf("%s after Shutdown = nil, want an error", tc.name)
			} else if !isClosedAPIErr(err) {
				t.Errorf("%s after Shutdown = %v, want errors.Is ErrClosed", tc.name, err)
			}
		})
	}
	if n := len(h.b.Listeners()) + len(h.b.Conns()) + len(h.b.Connectors()); n != 0 {
		t.Errorf("after Shutdown: %d listeners, conns and connectors left, want 0", n)
	}
	if n := len(eventsOf(h, forConn[ircsock.Disconnect](conn.ID()))); n != 1 {
		t.Errorf("%d Disconnect events after Disconnect twice, want 1", n)
	}
}

// isClosedAPIErr reports whether err says the Backend is closed.
func isClosedAPIErr(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "closed")
}
