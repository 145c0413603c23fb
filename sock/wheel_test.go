package sock

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ircsock/ircsock/filter"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if holderMain() {
		return
	}
	goleak.VerifyTestMain(m)
}

func TestWheelReadOrderAndSplit(t *testing.T) {
	cases := []struct {
		name  string
		chunk int
	}{
		{"whole", 0},
		{"byte", 1},
		{"seven", 7},
	}
	starts := []struct {
		name  string
		start func(*testing.T, net.Conn, Handler, WheelConfig) (*Wheel, func())
	}{
		{"Start", startWheel},
		{"Run", runWheel},
	}
	for _, st := range starts {
		for _, tc := range cases {
			t.Run(st.name+"/"+tc.name, func(t *testing.T) {
				readOrder(t, st.start, tc.chunk)
			})
		}
	}
}

func readOrder(t *testing.T, start func(*testing.T, net.Conn, Handler, WheelConfig) (*Wheel, func()), chunk int) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	_, stop := start(t, s, r, WheelConfig{})
	defer stop()
	var want []string
	var all strings.Builder
	for i := range 200 {
		l := fmt.Sprintf("line %d", i)
		want = append(want, l)
		all.WriteString(l + "\n")
	}
	data := all.String()
	go func() {
		if chunk == 0 {
			c.Write([]byte(data))
			return
		}
		for i := 0; i < len(data); i += chunk {
			c.Write([]byte(data[i:min(i+chunk, len(data))]))
		}
	}()
	for i, w := range want {
		select {
		case got := <-r.recs:
			if got != w {
				t.Fatalf("record %d = %q, want %q", i, got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("record %d: timeout", i)
		}
	}
}

func TestWheelRecordError(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	_, stop := startWheel(t, s, r, WheelConfig{})
	defer stop()
	c.Write([]byte("ok1\n" + strings.Repeat("x", 1500) + "\nok2\n"))
	for _, want := range []string{"ok1", "ok2"} {
		select {
		case got := <-r.recs:
			if got != want {
				t.Fatalf("record = %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("timeout")
		}
	}
	select {
	case err := <-r.errs:
		if !errors.Is(err, errTooLong) {
			t.Fatalf("RecordError(%v), want %v", err, errTooLong)
		}
	default:
		t.Fatal("no RecordError for the long line")
	}
}

// gateConn blocks its first Write until gate is closed and counts writes.
type gateConn struct {
	net.Conn
	gate   chan struct{}
	mu     sync.Mutex
	writes int
}

func (g *gateConn) Write(p []byte) (int, error) {
	g.mu.Lock()
	g.writes++
	first := g.writes == 1
	g.mu.Unlock()
	if first {
		<-g.gate
	}
	return g.Conn.Write(p)
}

func TestWheelWriteOrderAndBatching(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	gc := &gateConn{Conn: s, gate: make(chan struct{})}
	r := newRecorder()
	w, stop := startWheel(t, gc, r, WheelConfig{})
	defer stop()
	const n = 500
	for i := range n {
		if err := w.Write(fmt.Appendf(nil, "msg %d", i)); err != nil {
			t.Fatalf("Write(%d) = %v", i, err)
		}
	}
	close(gc.gate)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for i := range n {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read line %d: %v", i, err)
		}
		if want := fmt.Sprintf("msg %d\n", i); l != want {
			t.Fatalf("line %d = %q, want %q", i, l, want)
		}
	}
	gc.mu.Lock()
	writes := gc.writes
	gc.mu.Unlock()
	// The first record was taken alone before the gate; everything queued
	// while it was blocked must go out as one batch.
	if writes > 2 {
		t.Errorf("conn.Write called %d times for %d records, want at most 2", writes, n)
	}
}

func TestWheelConcurrentWriters(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{})
	defer stop()
	const writers, per = 4, 1000
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				w.Write(fmt.Appendf(nil, "%d %d", g, i))
			}
		}()
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	next := make([]int, writers)
	for range writers * per {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var g, i int
		if _, err := fmt.Sscanf(l, "%d %d", &g, &i); err != nil {
			t.Fatalf("bad line %q: %v", l, err)
		}
		if i != next[g] {
			t.Fatalf("writer %d: got record %d, want %d", g, i, next[g])
		}
		next[g]++
	}
	wg.Wait()
}

func TestWheelSendQOverflow(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	// Small kernel buffers so the queue fills quickly; the client never reads.
	setWriteBuffer(s, 4096)
	c.SetReadBuffer(4096)
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{MaxSendQ: 64 << 10})
	defer stop()
	rec := []byte(strings.Repeat("y", 500))
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for err == nil && time.Now().Before(deadline) {
		err = w.Write(rec)
	}
	if !errors.Is(err, ErrSendQExceeded) {
		t.Fatalf("Write error = %v, want %v", err, ErrSendQExceeded)
	}
	ci := waitClosed(t, r)
	if ci.reason != ReasonSendQ || !errors.Is(ci.err, ErrSendQExceeded) {
		t.Fatalf("Closed(%q, %v), want (%q, %v)", ci.reason, ci.err, ReasonSendQ, ErrSendQExceeded)
	}
	if q := w.SendQ(); q > 64<<10 {
		t.Errorf("SendQ() = %d after close, want <= %d", q, 64<<10)
	}
}

func TestWheelDisconnectAfterFlush(t *testing.T) {
	cases := []struct {
		name string
		n    int
	}{
		{"nothing_queued", 0},
		{"many_queued", 20000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := tcpPair(t)
			defer c.Close()
			r := newRecorder()
			w, stop := startWheel(t, s, r, WheelConfig{})
			defer stop()
			for i := range tc.n {
				if err := w.Write(fmt.Appendf(nil, "queued %d", i)); err != nil {
					t.Fatalf("Write(%d) = %v", i, err)
				}
			}
			if !w.Disconnect("bye") {
				t.Fatal("Disconnect() = false, want true")
			}
			if w.Disconnect("again") {
				t.Error("second Disconnect() = true, want false")
			}
			if err := w.Write([]byte("late")); !errors.Is(err, ErrClosing) {
				t.Errorf("Write after Disconnect = %v, want %v", err, ErrClosing)
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			for i := range tc.n {
				l, err := br.ReadString('\n')
				if want := fmt.Sprintf("queued %d\n", i); l != want || err != nil {
					t.Fatalf("line %d = %q, %v; want %q", i, l, err, want)
				}
			}
			if b, err := br.ReadByte(); err != io.EOF {
				t.Fatalf("after the queue: ReadByte() = %q, %v; want EOF", b, err)
			}
			c.Close()
			ci := waitClosed(t, r)
			if ci.reason != "bye" || ci.err != nil {
				t.Fatalf("Closed(%q, %v), want (%q, nil)", ci.reason, ci.err, "bye")
			}
		})
	}
}

func TestWheelDisconnectDrainTimeout(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{DrainTimeout: 100 * time.Millisecond})
	defer stop()
	w.Disconnect("bye")
	// The client never closes: the drain timeout must close anyway, and
	// say so.
	ci := waitClosed(t, r)
	if ci.reason != "bye" || !errors.Is(ci.err, ErrDrainTimeout) {
		t.Fatalf("Closed(%q, %v), want (%q, %v)", ci.reason, ci.err, "bye", ErrDrainTimeout)
	}
}

func TestWheelCloseNow(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	setWriteBuffer(s, 4096)
	c.SetReadBuffer(4096)
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{MaxSendQ: 8 << 20})
	defer stop()
	for range 10000 {
		w.Write([]byte(strings.Repeat("z", 400)))
	}
	w.Close("now", nil)
	ci := waitClosed(t, r)
	if ci.reason != "now" {
		t.Fatalf("Closed reason = %q, want %q", ci.reason, "now")
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("client read: %v", err)
	}
	if n >= 10000*401 {
		t.Errorf("client got %d bytes after Close, want fewer than the %d queued", n, 10000*401)
	}
}

func TestWheelPeerClose(t *testing.T) {
	s, c := tcpPair(t)
	r := newRecorder()
	_, stop := startWheel(t, s, r, WheelConfig{})
	defer stop()
	c.Write([]byte("last\n"))
	c.Close()
	ci := waitClosed(t, r)
	if ci.reason != ReasonPeerClosed || ci.err != nil {
		t.Fatalf("Closed(%q, %v), want (%q, nil)", ci.reason, ci.err, ReasonPeerClosed)
	}
	if got := <-r.recs; got != "last" {
		t.Fatalf("record = %q, want %q", got, "last")
	}
}

func TestWheelIdle(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{Idle: 50 * time.Millisecond})
	for i := range 2 {
		select {
		case <-r.idle:
		case <-time.After(5 * time.Second):
			t.Fatalf("idle event %d: none within 5s", i)
		}
	}
	if d := w.IdleFor(); d < 50*time.Millisecond {
		t.Errorf("IdleFor() = %v after two idle events, want >= 50ms", d)
	}
	stop()
	waitClosed(t, r)
	// Events sent before Closed may still sit in the channel, more than
	// one if the test was descheduled for an idle period or two: drain
	// them all. The Wheel marks its idle timer done before Closed, so
	// anything arriving after this is an event after Closed.
	for drained := false; !drained; {
		select {
		case <-r.idle:
		default:
			drained = true
		}
	}
	// Two idle periods: a timer that outlived Closed would fire in them.
	select {
	case <-r.idle:
		t.Fatal("idle event after Closed")
	case <-time.After(120 * time.Millisecond):
	}
}

func TestWheelIdleResetByInput(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{Idle: time.Hour})
	defer stop()
	before := w.LastSeen()
	c.Write([]byte("hi\n"))
	<-r.recs
	if !w.LastSeen().After(before) {
		t.Errorf("LastSeen() = %v, not after %v", w.LastSeen(), before)
	}
}

func TestWheelHoldsNoBuffersWhileIdle(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{})
	defer stop()
	c.Write([]byte("a partial line without end"))
	c.Write([]byte("\nfull\nand a partial tail"))
	for _, want := range []string{"a partial line without end", "full"} {
		if got := <-r.recs; got != want {
			t.Fatalf("record = %q, want %q", got, want)
		}
	}
	w.Write([]byte("reply"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if l, err := bufio.NewReader(c).ReadString('\n'); l != "reply\n" || err != nil {
		t.Fatalf("client read %q, %v", l, err)
	}
	// Wait until the writer has released its buffers.
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.wmu.Lock()
		held := w.pend != nil || w.spare != nil || w.writing
		w.wmu.Unlock()
		if !held {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("write buffers still held 5s after the queue drained")
		}
		time.Sleep(time.Millisecond)
	}
	if w.raw == nil {
		t.Fatal("wheel over *net.TCPConn does not use the fd read path")
	}
	if canPark {
		// The loop's last store before it leaves: what it wrote before
		// is safe to read once parked is seen.
		waitParked(t, w)
	} else {
		// Without parking the reader cannot be observed waiting: read
		// only what is safe to read.
		return
	}
	// The wheel has no field for a read buffer (a pooled rawOp carries
	// it from the fd callback to process); what could still hold it is
	// the decoder, which must have copied its tail out.
	tail := string(w.in.(*nlFilter).tail)
	if tail != "and a partial tail" {
		t.Errorf("decoder tail = %q, want %q (copied out of the read buffer)", tail, "and a partial tail")
	}
}

func TestWheelReadOp(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{})
	defer stop()
	applied := make(chan struct{})
	w.ReadOp(func(in filter.Filter) filter.Filter {
		close(applied)
		return in
	})
	c.Write([]byte("x\n"))
	select {
	case <-applied:
	case <-time.After(10 * time.Second):
		t.Fatal("ReadOp not applied")
	}
}

func TestWheelDrainTimeoutCountsUndelivered(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	setWriteBuffer(s, 8<<10)
	c.SetReadBuffer(4 << 10)
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{MaxSendQ: 8 << 20, DrainTimeout: 200 * time.Millisecond})
	defer stop()
	line := []byte(strings.Repeat("d", 399))
	const n = 5000
	for range n {
		if err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	w.Disconnect("bye")
	// The client reads nothing until the drain limit has closed the wheel.
	ci := waitClosed(t, r)
	var de *DrainError
	if ci.reason != "bye" || !errors.As(ci.err, &de) || !errors.Is(ci.err, ErrDrainTimeout) {
		t.Fatalf("Closed(%q, %v), want (%q, a *DrainError wrapping ErrDrainTimeout)", ci.reason, ci.err, "bye")
	}
	total := int64(n * 400)
	if de.Undelivered <= 0 || de.Undelivered > total || w.Undelivered() != de.Undelivered {
		t.Fatalf("Undelivered = %d (Wheel says %d), want in (0, %d] and the same", de.Undelivered, w.Undelivered(), total)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.Copy(io.Discard, c)
	if got < total-de.Undelivered {
		t.Errorf("client got %d of %d bytes, but only %d were reported undelivered", got, total, de.Undelivered)
	}
}

func TestWheelCut(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{DrainTimeout: -1})
	defer stop()
	w.Write([]byte("queued"))
	w.DisconnectWithin("bye", 0)
	// No limit: the client never closes, so only the cut ends it.
	select {
	case ci := <-r.closed:
		t.Fatalf("Closed(%q, %v) before the cut with no drain limit", ci.reason, ci.err)
	default:
	}
	// The client reads the queue and the end of stream, and stays.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := io.ReadAll(c); string(b) != "queued\n" || err != nil {
		t.Fatalf("client read %q, %v; want %q, then EOF", b, err, "queued\n")
	}
	boom := errors.New("owner gave up")
	w.Cut(boom)
	ci := waitClosed(t, r)
	var de *DrainError
	if ci.reason != "bye" || !errors.As(ci.err, &de) || !errors.Is(ci.err, boom) || de.Limit != 0 {
		t.Fatalf("Closed(%q, %v), want (%q, a *DrainError wrapping %v, no limit)", ci.reason, ci.err, "bye", boom)
	}
	if de.Undelivered != 0 {
		t.Errorf("Undelivered = %d after the client read everything, want 0", de.Undelivered)
	}
}

// TestWheelPeerHalfCloseFlushes: when the peer ends its stream, what is
// queued for it is still written, then the wheel shuts its side.
func TestWheelPeerHalfCloseFlushes(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	// A small send buffer on the Wheel's side keeps most of the queue in
	// the Wheel, not the kernel, when the peer half-closes. (A small
	// receive buffer on the client did the same, but its window stayed
	// under one loopback segment and TCP then sent at the pace of its
	// persist timer: 6 s for these 290 KB, near the old single deadline.)
	if err := setWriteBuffer(s, 4<<10); err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{MaxSendQ: 8 << 20})
	defer stop()
	const n = 20000
	for i := range n {
		if err := w.Write(fmt.Appendf(nil, "queued %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	// The client has read nothing yet, so the kernel's buffers cannot
	// hold the 290 KB: part of the queue must still wait in the Wheel,
	// which is what this test is about.
	if q := w.SendQ(); q == 0 {
		t.Fatalf("SendQ() = 0 when the peer half-closed, want bytes still queued in the Wheel")
	} else {
		t.Logf("%d bytes still queued in the Wheel at the half-close", q)
	}
	br := bufio.NewReader(c)
	for i := range n {
		c.SetReadDeadline(time.Now().Add(10 * time.Second)) // per line: the whole read may take longer
		l, err := br.ReadString('\n')
		if want := fmt.Sprintf("queued %d\n", i); l != want || err != nil {
			t.Fatalf("line %d = %q, %v; want %q", i, l, err, want)
		}
	}
	if b, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the queue: ReadByte() = %q, %v; want EOF", b, err)
	}
	ci := waitClosed(t, r)
	if ci.reason != ReasonPeerClosed || ci.err != nil || w.Undelivered() != 0 {
		t.Fatalf("Closed(%q, %v), %d undelivered; want (%q, nil), 0", ci.reason, ci.err, w.Undelivered(), ReasonPeerClosed)
	}
	if err := w.Write([]byte("late")); !errors.Is(err, ErrClosing) {
		t.Errorf("Write after the peer's end = %v, want %v", err, ErrClosing)
	}
}

func TestWheelPartialRecordAtEOF(t *testing.T) {
	s, c := tcpPair(t)
	r := newRecorder()
	_, stop := startWheel(t, s, r, WheelConfig{})
	defer stop()
	c.Write([]byte("whole\nhalf"))
	c.Close()
	ci := waitClosed(t, r)
	if ci.reason != ReasonPeerClosed {
		t.Fatalf("Closed reason = %q, want %q", ci.reason, ReasonPeerClosed)
	}
	if got := <-r.recs; got != "whole" {
		t.Fatalf("record = %q, want %q", got, "whole")
	}
	select {
	case err := <-r.errs:
		if !errors.Is(err, ErrPartialRecord) || !filter.IsRecordError(err) || !strings.Contains(err.Error(), "4 bytes") {
			t.Fatalf("RecordError(%v), want a record error wrapping ErrPartialRecord naming 4 bytes", err)
		}
	default:
		t.Fatal("no RecordError for the last 4 bytes without a line end")
	}
}

// eachByte is a test filter whose records are single bytes.
type eachByte struct{ p []byte }

func (f *eachByte) Feed(p []byte) { f.p = append(f.p, p...) }
func (f *eachByte) Next() ([]byte, bool, error) {
	if len(f.p) == 0 {
		return nil, false, nil
	}
	rec := f.p[:1]
	f.p = f.p[1:]
	return rec, true, nil
}
func (f *eachByte) Pending() []byte                     { p := f.p; f.p = nil; return p }
func (f *eachByte) Put(dst, rec []byte) ([]byte, error) { return append(dst, rec...), nil }
func (f *eachByte) Flush(dst []byte) ([]byte, error)    { return dst, nil }

// TestWheelReadOpWakesReader: a ReadOp queued while the reader waits for
// input applies at once, and the bytes the old filter held (a partial
// record) are decoded through the new one without waiting for the peer.
func TestWheelReadOpWakesReader(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{})
	defer stop()
	c.Write([]byte("whole\nabc"))
	if got := <-r.recs; got != "whole" {
		t.Fatalf("record = %q, want %q", got, "whole")
	}
	w.ReadOp(func(in filter.Filter) filter.Filter {
		f := &eachByte{}
		f.Feed(in.Pending())
		return f
	})
	for _, want := range []string{"a", "b", "c"} {
		select {
		case got := <-r.recs:
			if got != want {
				t.Fatalf("record = %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("record %q: not decoded while the peer is silent", want)
		}
	}
	// The wheel reads on as before.
	c.Write([]byte("d"))
	select {
	case got := <-r.recs:
		if got != "d" {
			t.Fatalf("record = %q, want %q", got, "d")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no record after the wake-up")
	}
}

// TestWheelDisconnectLinger: the writing of a DisconnectLinger has no
// limit (a paced reader takes far longer than the linger to get it all),
// and the wait for a peer that never closes is bounded by the linger.
func TestWheelDisconnectLinger(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{MaxSendQ: 8 << 20, DrainTimeout: -1})
	defer stop()
	const n = 10000
	line := []byte(strings.Repeat("l", 399))
	for range n {
		if err := w.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	const linger = time.Second
	w.DisconnectLinger("bye", linger)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	tk := time.NewTicker(4 * time.Millisecond)
	defer tk.Stop()
	start := time.Now()
	got, err := io.Copy(io.Discard, &tickReader{c, tk.C, 16 << 10})
	took := time.Since(start)
	if err != nil || got != n*400 {
		t.Fatalf("client read %d bytes, %v; want %d, then EOF", got, err, n*400)
	}
	// The client stays: the linger ends the wait, with nothing lost.
	ci := waitClosed(t, r)
	var de *DrainError
	if !errors.As(ci.err, &de) || de.Limit != linger || de.Undelivered != 0 {
		t.Fatalf("Closed(%q, %v), want a *DrainError with limit %v and 0 undelivered", ci.reason, ci.err, linger)
	}
	t.Logf("writing took %v with a linger of %v", took, linger)
}

// tickReader reads at most n bytes per tick: a slow reader whose pace is
// the load, not a synchronisation.
type tickReader struct {
	r    io.Reader
	tick <-chan time.Time
	n    int
}

func (p *tickReader) Read(b []byte) (int, error) {
	<-p.tick
	return p.r.Read(b[:min(len(b), p.n)])
}
