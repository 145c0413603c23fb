package ircsock_test

// Draining and closing: disconnect after flush, immediate disconnect, the
// send-queue limit with a reader that never reads, Shutdown under load,
// Close, and misuse of the API.

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
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

// slowStart, when positive, makes the reader wait that long before its
// first read: a deliberately slow client, so that data really waits in the
// Backend's queue (not a synchronisation).
func readAllLines(c *rawConn, wg *sync.WaitGroup, slowStart time.Duration) <-chan lineResult {
	ch := make(chan lineResult, 1)
	c.claimed.Store(true)
	wg.Go(func() {
		if slowStart > 0 {
			time.Sleep(slowStart)
		}
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

// queueBeyondKernel returns how many flood lines are twice what the kernel
// can hold for one connection whose client has receive buffer rcvbuf, so
// that most of them can only be in the Backend's queue.
func queueBeyondKernel(rcvbuf int) int {
	return 2*(kernelBufMax("wmem", 4<<20)+2*rcvbuf)/(len(floodLine(0))+2) + 1
}

func TestBackendDisconnectAfterFlush(t *testing.T) {
	// DrainTimeout is far longer than the drain should take even on a
	// loaded machine: this test is about flushing, not the timeout.
	h := newHarness(t, ircsock.Config{MaxSendQ: 64 << 20, DrainTimeout: time.Minute})
	l := h.listen(ircsock.ListenerConfig{Idle: -1})
	c, rcvbuf := dialSmallRcv(t, h, listenAddr(l))
	conn := h.accepted(c)
	n := queueBeyondKernel(rcvbuf)
	start := time.Now()
	for i := range n {
		h.send(floodMsg(i), conn.ID())
	}
	queued := time.Since(start)
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
	res := <-readAllLines(c, &wg, 200*time.Millisecond)
	wg.Wait()
	t.Logf("%d lines (%d bytes): queued in %v, read to EOF after %v", n, res.bytes, queued, time.Since(start))
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
	h := newHarness(t, ircsock.Config{MaxSendQ: 64 << 20, DrainTimeout: time.Minute})
	l := h.listen(ircsock.ListenerConfig{Idle: -1})
	c, rcvbuf := dialSmallRcv(t, h, listenAddr(l))
	conn := h.accepted(c)
	// Queue twice what the kernel can hold on both ends: the rest can only
	// be in the Backend's queue when DisconnectNow drops it.
	lineLen := len(floodLine(0)) + 2
	kernel := kernelBufMax("wmem", 4<<20) + 2*rcvbuf
	n := 2*kernel/lineLen + 1
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
	res := <-readAllLines(c, &wg, 0)
	wg.Wait()
	if !isClosedErr(res.err) {
		t.Errorf("client read ended with %v, want EOF or reset", res.err)
	}
	if res.bytes > kernel {
		t.Errorf("client read %d bytes after DisconnectNow, want at most %d (what the kernel can hold): the queue must be dropped", res.bytes, kernel)
	}
	t.Logf("client got %d of %d lines (%d bytes, kernel bound %d) after DisconnectNow", len(res.lines), n, res.bytes, kernel)
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

	// A client that never reads, with a small receive buffer so that the
	// kernel holds little on its side.
	slow, rcvbuf := dialSmallRcv(t, h, listenAddr(l))
	sconn := h.accepted(slow)

	// A second, healthy client on the same Backend.
	good := dialRaw(t, h, listenAddr(l))
	gconn := h.accepted(good)

	// What the Backend may accept before it must have noticed: its queue,
	// plus at most what the kernel can hold on both ends, plus one line.
	line := floodMsg(0)
	lineLen := len(floodLine(0)) + 2
	bound := maxSendQ + kernelBufMax("wmem", 4<<20) + 2*rcvbuf + lineLen
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
		t.Errorf("Disconnect.Reason = %q, want %q (ReasonSendQ)", ev.Reason, "Max SendQ exceeded")
	}
	if ev.Err == nil || !strings.Contains(strings.ToLower(ev.Err.Error()), "sendq") {
		t.Errorf("Disconnect.Err = %v, want an error naming the send-queue limit", ev.Err)
	}
	if sendErr != nil && !strings.Contains(strings.ToLower(sendErr.Error()), "sendq") {
		t.Errorf("the Send that overflowed returned %v, want an error naming the send-queue limit", sendErr)
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
	const clients = 2
	h := newHarness(t, ircsock.Config{MaxSendQ: 64 << 20, DrainTimeout: time.Minute})
	l := h.listen(ircsock.ListenerConfig{Idle: -1})
	var ids []ircsock.ConnID
	var raws []*rawConn
	n := 0
	for range clients {
		c, rcvbuf := dialSmallRcv(t, h, listenAddr(l))
		raws = append(raws, c)
		ids = append(ids, h.accepted(c).ID())
		n = queueBeyondKernel(rcvbuf)
	}
	// A pending connector that Shutdown must cancel without a leak.
	if ap, ok := fullBacklog(t, h); ok {
		if _, err := h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ap.Port()))), Timeout: time.Minute}); err != nil {
			t.Fatalf("CreateConnector = %v, want nil", err)
		}
	}
	for i := range n {
		h.send(floodMsg(i), ids...) // one Send to every client
	}
	// The clients start reading, slowly, only now: most of the flood is
	// still queued in the Backend when Shutdown is called.
	var wg sync.WaitGroup
	var results []<-chan lineResult
	for _, c := range raws {
		results = append(results, readAllLines(c, &wg, 200*time.Millisecond))
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
	// it before the events channel closed), with the shutdown reason.
	discs := eventsOf[ircsock.Disconnect](h, nil)
	if len(discs) != clients {
		t.Errorf("%d Disconnect events, want %d", len(discs), clients)
	}
	for _, d := range discs {
		if d.Reason != ircsock.ReasonShutdown {
			t.Errorf("conn %d: Disconnect.Reason = %q, want %q", d.Conn.ID(), d.Reason, ircsock.ReasonShutdown)
		}
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
		if _, err := h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(int(ap.Port()))), Timeout: time.Minute}); err != nil {
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
		res := <-readAllLines(c, &wg, 0)
		if !isClosedErr(res.err) {
			t.Errorf("client %d: read ended with %v, want EOF or reset", i, res.err)
		}
	}
	wg.Wait()
	if err := h.b.Close(); !errors.Is(err, ircsock.ErrClosed) {
		t.Errorf("second Close() = %v, want ErrClosed", err)
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
	zc := dialRaw(t, h, listenAddr(l))
	zconn := h.accepted(zc)
	if err := h.b.SetCompressedLink(zconn.ID()); err != nil {
		t.Fatalf("SetCompressedLink = %v, want nil", err)
	}
	const unknown = ircsock.ConnID(1 << 40)

	errCases := []struct {
		name string
		call func() error
		want error // nil: any error, as long as there is one
	}{
		{"Send to an unknown id", func() error { return h.b.Send(msg("PING", "x"), unknown) }, ircsock.ErrUnknownConn},
		{"Send to a closed id", func() error { return h.b.Send(msg("PING", "x"), goneConn.ID()) }, ircsock.ErrUnknownConn},
		{"Send a nil message", func() error { return h.b.Send(nil, conn.ID()) }, nil},
		{"Send without a command", func() error { return h.b.Send(&ircmsg.Message{Params: []string{"x"}}, conn.ID()) }, nil},
		{"Send a CR LF injection", func() error { return h.b.Send(msg("PRIVMSG", "#c", "hi\r\nQUIT :injected"), conn.ID()) }, nil},
		{"Send a NUL", func() error { return h.b.Send(msg("PRIVMSG", "#c", "a\x00b"), conn.ID()) }, nil},
		{"Disconnect an unknown id", func() error { return h.b.Disconnect(unknown, "x") }, ircsock.ErrUnknownConn},
		{"Disconnect a closed id", func() error { return h.b.Disconnect(goneConn.ID(), "x") }, ircsock.ErrUnknownConn},
		{"DisconnectNow an unknown id", func() error { return h.b.DisconnectNow(unknown, "x") }, ircsock.ErrUnknownConn},
		{"SetCompressedLink an unknown id", func() error { return h.b.SetCompressedLink(unknown) }, ircsock.ErrUnknownConn},
		{"SetCompressedLink twice", func() error { return h.b.SetCompressedLink(zconn.ID()) }, ircsock.ErrAlreadyCompressed},
		{"SetCompressedLinkNow an unknown id", func() error { return h.b.SetCompressedLinkNow(unknown) }, ircsock.ErrUnknownConn},
		{"UnsetCompressedLink an unknown id", func() error { return h.b.UnsetCompressedLink(unknown) }, ircsock.ErrUnknownConn},
		{"UnsetCompressedLink an uncompressed link", func() error { return h.b.UnsetCompressedLink(conn.ID()) }, ircsock.ErrNotCompressed},
		{"CompressInputAfter an unknown id", func() error { return h.b.CompressInputAfter(unknown, isStart) }, ircsock.ErrUnknownConn},
		{"RemoveListener an unknown id", func() error { return h.b.RemoveListener(ircsock.ListenerID(1 << 40)) }, ircsock.ErrUnknownListener},
		{"CreateConnector without a port", func() error {
			_, err := h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: "127.0.0.1"})
			return err
		}, nil},
		{"CreateListener with UseTLS and no config", func() error {
			_, err := h.b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0", UseTLS: true})
			return err
		}, ircsock.ErrNoTLSConfig},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			switch {
			case err == nil:
				t.Errorf("%s = nil, want an error", tc.name)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("%s = %v, want errors.Is %v", tc.name, err, tc.want)
			}
		})
	}
	// Nothing of the rejected messages reached the wire: the next line the
	// client reads is the next valid message.
	h.send(msg("NOTICE", "after", "rejects"), conn.ID())
	if s, err := c.readLine(); err != nil || s != "NOTICE after rejects" {
		t.Errorf("client read = %q, %v, want %q (rejected messages must not be written)", s, err, "NOTICE after rejects")
	}
	// Send to many ids reaches the live ones and names the others.
	err := h.b.Send(msg("NOTICE", "many", "ids"), unknown, conn.ID(), goneConn.ID())
	var se *ircsock.SendError
	if !errors.As(err, &se) || !errors.Is(err, ircsock.ErrUnknownConn) {
		t.Errorf("Send to mixed ids = %v, want a *SendError with ErrUnknownConn", err)
	} else if len(se.IDs) != 2 || se.IDs[0] != unknown || se.IDs[1] != goneConn.ID() {
		t.Errorf("SendError.IDs = %v, want [%d %d]", se.IDs, unknown, goneConn.ID())
	}
	if s, err := c.readLine(); err != nil || s != "NOTICE many ids" {
		t.Errorf("client read after a Send to mixed ids = %q, %v, want %q", s, err, "NOTICE many ids")
	}

	// Disconnect twice: ErrDisconnecting, and one event with the first
	// reason.
	if err := h.b.Disconnect(conn.ID(), "first"); err != nil {
		t.Fatalf("first Disconnect = %v, want nil", err)
	}
	if err := h.b.Disconnect(conn.ID(), "second"); !errors.Is(err, ircsock.ErrDisconnecting) {
		t.Errorf("second Disconnect = %v, want ErrDisconnecting", err)
	}
	if err := h.b.Send(msg("PING", "late"), conn.ID()); !errors.Is(err, ircsock.ErrDisconnecting) && !errors.Is(err, ircsock.ErrUnknownConn) {
		t.Errorf("Send while disconnecting = %v, want ErrDisconnecting (or ErrUnknownConn once gone)", err)
	}
	_ = h.b.DisconnectNow(conn.ID(), "now wins?")
	c.readEOF(t, 3*time.Second)
	ev := waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](conn.ID()))
	if ev.Reason != "first" {
		t.Errorf("Disconnect.Reason = %q, want %q (the first call's)", ev.Reason, "first")
	}
	if err := h.b.Disconnect(conn.ID(), "third"); !errors.Is(err, ircsock.ErrUnknownConn) {
		t.Errorf("Disconnect after the Disconnect event = %v, want ErrUnknownConn", err)
	}

	h.shutdown()
	after := []struct {
		name string
		call func() error
	}{
		{"Send", func() error { return h.b.Send(msg("PING", "x"), zconn.ID()) }},
		{"Disconnect", func() error { return h.b.Disconnect(zconn.ID(), "x") }},
		{"SetCompressedLinkNow", func() error { return h.b.SetCompressedLinkNow(zconn.ID()) }},
		{"RemoveListener", func() error { return h.b.RemoveListener(l.ID()) }},
		{"CreateListener", func() error {
			_, err := h.b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Idle: -1})
			return err
		}},
		{"CreateConnector", func() error {
			_, err := h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: l.AddrPort().String()})
			return err
		}},
		{"Shutdown", func() error { return h.b.Shutdown(context.Background()) }},
		{"Close", func() error { return h.b.Close() }},
	}
	for _, tc := range after {
		t.Run(tc.name+" after Shutdown", func(t *testing.T) {
			if err := tc.call(); err == nil {
				t.Errorf("%s after Shutdown = nil, want an error", tc.name)
			} else if !errors.Is(err, ircsock.ErrClosed) && !(tc.name == "RemoveListener" && errors.Is(err, ircsock.ErrUnknownListener)) {
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
	if n := len(eventsOf[ircsock.ListenerCreated](h, nil)); n != 1 {
		t.Errorf("%d ListenerCreated events, want 1 (nothing after Shutdown)", n)
	}
}
