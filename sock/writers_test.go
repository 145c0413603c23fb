package sock

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// backedUp writes numbered 400-byte records to w until the socket under
// it is full and the queue stays non-empty, that is until the wheel's own
// goroutine has taken over from the shared writers and waits for the
// peer. It returns how many records it wrote.
func backedUp(t *testing.T, w *Wheel) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	n := 0
	for time.Now().Before(deadline) {
		for range 50 {
			if err := w.Queue(numbered(n)); err != nil {
				t.Fatalf("Queue(%d) = %v", n, err)
			}
			n++
		}
		w.Flush()
		if w.SendQ() > 0 && sharedIdle() {
			// Still queued with no shared writer running: only the
			// wheel's own goroutine can be holding it.
			return n
		}
	}
	t.Fatalf("SendQ() = %d after %d records: the socket never filled", w.SendQ(), n)
	return 0
}

func numbered(i int) []byte {
	return fmt.Appendf(nil, "%06d %s", i, strings.Repeat("r", 392))
}

// sharedIdle reports whether no shared writer is running and none is
// waited for.
func sharedIdle() bool {
	writers.mu.Lock()
	defer writers.mu.Unlock()
	return writers.running == 0 && len(writers.ready) == writers.head
}

// waitSharedIdle polls, with a bound, until no shared writer runs.
func waitSharedIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !sharedIdle() {
		if time.Now().After(deadline) {
			t.Fatal("shared writers still running after 10s")
		}
		time.Sleep(time.Millisecond) // polling with a bound, not synchronisation
	}
}

// readNumbered reads n numbered records from c and checks their order.
func readNumbered(t *testing.T, c net.Conn, n int) {
	t.Helper()
	// The socket filled through buffers of 4 KiB: a roomier receive
	// buffer now lets the kernel open its window in big steps instead of
	// leaving the sender to probe a zero window on its backing-off timer,
	// which on a loaded machine took most of the old 10 s bound.
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(1 << 20)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	for i := range n {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read record %d of %d: %v", i, n, err)
		}
		if want := string(numbered(i)) + "\n"; l != want {
			t.Fatalf("record %d = %.20q..., want %.20q...", i, l, want)
		}
	}
}

// TestWheelSharedWriterTakeover: a plaintext wheel whose peer stops
// reading fills its socket (partial writes, then EAGAIN); the shared
// writer hands the rest to the wheel's own goroutine and is free again,
// and when the peer reads, every record arrives once and in order, after
// which the wheel holds no writer and no buffer.
func TestWheelSharedWriterTakeover(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	_ = setWriteBuffer(s, 4<<10)
	_ = c.SetReadBuffer(4 << 10)
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{MaxSendQ: 16 << 20})
	defer stop()
	if w.raw == nil {
		t.Fatal("a *net.TCPConn wheel has no descriptor to write through")
	}
	n := backedUp(t, w)
	// More while the takeover waits, through both wake-ups: they queue
	// behind it.
	for i := range 100 {
		var err error
		if i%2 == 0 {
			err = w.Write(numbered(n))
		} else if err = w.Queue(numbered(n)); err == nil {
			w.Flush()
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	readNumbered(t, c, n)
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.wmu.Lock()
		idle := !w.writing && w.pend == nil && w.spare == nil
		w.wmu.Unlock()
		if idle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("wheel still writing or holding a buffer 10s after the peer read everything")
		}
		time.Sleep(time.Millisecond)
	}
	if q := w.SendQ(); q != 0 {
		t.Errorf("SendQ() = %d after the peer read everything, want 0", q)
	}
}

// TestWheelSharedWritersNotBlocked: wheels whose peers stop reading, more
// of them than there can be shared writers, do not hold up another
// wheel's writes.
func TestWheelSharedWritersNotBlocked(t *testing.T) {
	var stuck []net.Conn
	defer func() {
		for _, c := range stuck {
			c.Close()
		}
	}()
	for range 4 {
		s, c := tcpPair(t)
		stuck = append(stuck, c)
		_ = setWriteBuffer(s, 4<<10)
		_ = c.SetReadBuffer(4 << 10)
		w, stop := startWheel(t, s, newRecorder(), WheelConfig{MaxSendQ: 16 << 20})
		defer stop()
		backedUp(t, w)
	}
	s, c := tcpPair(t)
	defer c.Close()
	w, stop := startWheel(t, s, newRecorder(), WheelConfig{})
	defer stop()
	for i := range 10 {
		if err := w.Write(numbered(i)); err != nil {
			t.Fatal(err)
		}
	}
	readNumbered(t, c, 10)
}

// TestWheelSharedWritersManyWheels: a burst queued to more wheels than a
// shared writer takes at once, from several goroutines at the same time,
// reaches every peer whole and in each goroutine's order.
func TestWheelSharedWritersManyWheels(t *testing.T) {
	const wheels, senders, per = 3*writerChunk + 5, 3, 200
	ws := make([]*Wheel, wheels)
	cs := make([]net.Conn, wheels)
	for i := range ws {
		s, c := tcpPair(t)
		defer c.Close()
		w, stop := startWheel(t, s, newRecorder(), WheelConfig{MaxSendQ: 16 << 20})
		defer stop()
		ws[i], cs[i] = w, c
	}
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				rec := fmt.Appendf(nil, "%d %d", g, i)
				for _, w := range ws {
					if err := w.Queue(rec); err != nil {
						t.Errorf("Queue: %v", err)
						return
					}
				}
				if i%7 == 6 || i == per-1 {
					for _, w := range ws {
						w.Flush()
					}
				}
			}
		}()
	}
	errs := make(chan error, wheels)
	for _, c := range cs {
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			br := bufio.NewReader(c)
			next := make([]int, senders)
			for range senders * per {
				l, err := br.ReadString('\n')
				if err != nil {
					errs <- err
					return
				}
				var g, i int
				if _, err := fmt.Sscanf(l, "%d %d", &g, &i); err != nil || i != next[g] {
					errs <- fmt.Errorf("line %q: want record %d of sender %d (%v)", l, next[g], g, err)
					return
				}
				next[g]++
			}
			errs <- nil
		}()
	}
	for range cs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	waitSharedIdle(t)
}

// TestWheelCloseDuringTakeover: Close while the wheel's own goroutine
// waits for a full socket ends it, reports the bytes never written, and
// leaves no goroutine behind (TestMain's goleak checks the last part).
func TestWheelCloseDuringTakeover(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	_ = setWriteBuffer(s, 4<<10)
	_ = c.SetReadBuffer(4 << 10)
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{MaxSendQ: 16 << 20})
	defer stop()
	n := backedUp(t, w)
	w.Close("enough", nil)
	ci := waitClosed(t, r)
	if ci.reason != "enough" {
		t.Fatalf("Closed(%q, %v), want reason %q", ci.reason, ci.err, "enough")
	}
	total := int64(n * 400)
	if u := w.Undelivered(); u <= 0 || u > total {
		t.Errorf("Undelivered() = %d, want in (0, %d]", u, total)
	}
	waitSharedIdle(t)
}

// TestWheelCutDuringTakeover: a graceful close stuck behind a full socket
// is cut, and its DrainError counts what the peer never got.
func TestWheelCutDuringTakeover(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	_ = setWriteBuffer(s, 4<<10)
	_ = c.SetReadBuffer(4 << 10)
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{MaxSendQ: 16 << 20, DrainTimeout: -1})
	defer stop()
	n := backedUp(t, w)
	w.Disconnect("bye")
	boom := errors.New("owner gave up")
	w.Cut(boom)
	ci := waitClosed(t, r)
	var de *DrainError
	if ci.reason != "bye" || !errors.As(ci.err, &de) || !errors.Is(ci.err, boom) {
		t.Fatalf("Closed(%q, %v), want (%q, a *DrainError wrapping %v)", ci.reason, ci.err, "bye", boom)
	}
	total := int64(n * 400)
	if de.Undelivered <= 0 || de.Undelivered > total || w.Undelivered() != de.Undelivered {
		t.Fatalf("Undelivered = %d (Wheel says %d), want in (0, %d] and the same", de.Undelivered, w.Undelivered(), total)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.Copy(io.Discard, c)
	if got < total-de.Undelivered {
		t.Errorf("client got %d of %d bytes, but only %d were reported undelivered", got, total, de.Undelivered)
	}
}

// TestWheelSharedWriteError: a write the peer has reset fails on the
// shared writer's path with the same reason and cause a net.Conn.Write
// would give. No reader runs, so the write is what finds the reset.
func TestWheelSharedWriteError(t *testing.T) {
	s, c := tcpPair(t)
	w := NewWheel(s, &nlFilter{}, &nlFilter{}, newRecorder(), WheelConfig{})
	defer w.Close("test end", nil)
	_ = c.SetLinger(0)
	c.Close() // RST
	deadline := time.Now().Add(10 * time.Second)
	for !w.Disconnecting() {
		if err := w.Queue([]byte("ping")); err != nil && !errors.Is(err, ErrClosing) {
			t.Fatalf("Queue = %v", err)
		}
		w.Flush()
		if time.Now().After(deadline) {
			t.Fatal("wheel not closed within 10s of writing to a reset connection")
		}
		time.Sleep(time.Millisecond) // polling with a bound
	}
	waitSharedIdle(t)
	w.wmu.Lock()
	reason, cause := w.reason, w.cause
	w.wmu.Unlock()
	var oe *OpError
	if !errors.As(cause, &oe) || oe.Op != OpWrite {
		t.Fatalf("cause %v: want an *OpError of Op %q", cause, OpWrite)
	}
	if !errors.Is(cause, syscall.ECONNRESET) && !errors.Is(cause, syscall.EPIPE) {
		t.Errorf("cause %v: want ECONNRESET or EPIPE", cause)
	}
	var ne *net.OpError
	if !errors.As(cause, &ne) || ne.Op != "write" || ne.Net != "tcp" {
		t.Errorf("cause %v: want a *net.OpError of op write on tcp, as net.Conn.Write gives", cause)
	}
	if !strings.HasPrefix(reason, "Write error: write tcp 127.0.0.1:") {
		t.Errorf("reason %q, want it to start %q", reason, "Write error: write tcp 127.0.0.1:")
	}
}

// holdFilter keeps what is put until Flush, as a compressor does.
type holdFilter struct {
	nlFilter
	held []byte
}

func (f *holdFilter) Put(dst, rec []byte) ([]byte, error) {
	f.held = append(append(f.held, rec...), '\n')
	return dst, nil
}

func (f *holdFilter) Flush(dst []byte) ([]byte, error) {
	dst = append(dst, f.held...)
	f.held = f.held[:0]
	return dst, nil
}

// TestWheelSharedWriterFlushesHeldOutput: records an output filter holds
// back, put while a shared writer was writing, are flushed and written
// too, not left inside the filter.
func TestWheelSharedWriterFlushesHeldOutput(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	w := NewWheel(s, &nlFilter{}, &holdFilter{}, newRecorder(), WheelConfig{MaxSendQ: 16 << 20})
	defer w.Close("test end", nil)
	// Rounds of a burst, each read whole before the next: a burst whose
	// last Flush came while its writer was writing, and whose records
	// the writer then left in the filter, never arrives.
	const rounds, burst = 100, 50
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	for r := range rounds {
		for i := r * burst; i < (r+1)*burst; i++ {
			if err := w.Queue(numbered(i)); err != nil {
				t.Fatalf("Queue(%d) = %v", i, err)
			}
			w.Flush()
		}
		for i := r * burst; i < (r+1)*burst; i++ {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("read record %d: %v", i, err)
			}
			if want := string(numbered(i)) + "\n"; l != want {
				t.Fatalf("record %d = %.20q..., want %.20q...", i, l, want)
			}
		}
	}
}
