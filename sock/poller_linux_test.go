//go:build linux

package sock

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ircsock/ircsock/filter"
)

// loopGoroutines counts the goroutines running a wheel's read loop.
func loopGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "sock.(*Wheel).loop(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// waitFor polls cond until it holds, for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func recv(t *testing.T, r *recorder, want string) {
	t.Helper()
	select {
	case got := <-r.recs:
		if got != want {
			t.Fatalf("record = %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("record %q: timeout", want)
	}
}

// TestWheelStartParks: idle started wheels hold no goroutine, wake for
// input, a ReadOp, a close and the peer's end of stream, each deliver
// EventClosed once, and the shared poller is gone once the last is.
func TestWheelStartParks(t *testing.T) {
	const n = 40
	type peer struct {
		w    *Wheel
		c    *net.TCPConn
		r    *recorder
		stop func()
		seen int // touched only by the wheel's handler: -race checks the hand-over
	}
	peers := make([]*peer, n)
	for i := range peers {
		s, c := tcpPair(t)
		p := &peer{c: c, r: newRecorder()}
		p.r.onRec = func(*Wheel, []byte) { p.seen++ }
		p.w, p.stop = startWheel(t, s, p.r, WheelConfig{})
		peers[i] = p
	}
	if loops := loopGoroutines(); loops > n {
		t.Fatalf("%d read loops for %d wheels", loops, n)
	}
	// Several bursts each, so that each wheel parks and resumes often.
	for round := range 3 {
		for i, p := range peers {
			fmt.Fprintf(p.c, "r%d w%d\n", round, i)
		}
		for i, p := range peers {
			recv(t, p.r, fmt.Sprintf("r%d w%d", round, i))
		}
	}
	for _, p := range peers {
		waitParked(t, p.w)
	}
	waitFor(t, "read loops gone", func() bool { return loopGoroutines() == 0 })
	pollMu.Lock()
	registered := 0
	if curPoll != nil {
		registered = curPoll.n
	}
	pollMu.Unlock()
	if registered != n {
		t.Errorf("poller holds %d wheels, want %d", registered, n)
	}

	// A ReadOp wakes a parked wheel while the peer is silent.
	p0 := peers[0]
	ran := make(chan struct{})
	p0.w.ReadOp(func(in filter.Filter) filter.Filter {
		close(ran)
		return in
	})
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("ReadOp did not run on a parked wheel")
	}
	waitParked(t, p0.w)

	// Closed while parked: half by Close, half by the peer.
	for i, p := range peers {
		if i%2 == 0 {
			p.w.Close("closed while parked", nil)
		} else {
			p.c.Close()
		}
	}
	for i, p := range peers {
		ci := waitClosed(t, p.r)
		want := ReasonPeerClosed
		if i%2 == 0 {
			want = "closed while parked"
		}
		if ci.reason != want {
			t.Errorf("wheel %d closed with %q, want %q", i, ci.reason, want)
		}
		p.stop() // done exactly once
		p.c.Close()
		if want := 3; i > 0 && p.seen != want {
			t.Errorf("wheel %d handled %d records, want %d", i, p.seen, want)
		}
	}
	pollMu.Lock()
	left := curPoll
	pollMu.Unlock()
	if left != nil {
		t.Errorf("poller still running with %d wheels after every wheel closed", left.n)
	}
}

// TestWheelParkedDrain: a graceful close of a parked wheel writes the
// queue, goes on delivering what the peer sends, and ends when the peer
// closes.
func TestWheelParkedDrain(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{})
	defer stop()
	c.Write([]byte("hello\n"))
	recv(t, r, "hello")
	waitParked(t, w)
	w.Write([]byte("bye"))
	w.Disconnect("done")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	got := ""
	for !strings.HasSuffix(got, "\n") {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("client read after %q: %v", got, err)
		}
		got += string(buf[:n])
	}
	if got != "bye\n" {
		t.Fatalf("client got %q, want %q", got, "bye\n")
	}
	c.Write([]byte("late\n"))
	recv(t, r, "late")
	c.Close()
	ci := waitClosed(t, r)
	if ci.reason != "done" || ci.err != nil {
		t.Errorf("closed (%q, %v), want (%q, nil)", ci.reason, ci.err, "done")
	}
}

// TestWheelParkedDrainTimeout: the drain limit cuts a parked wheel whose
// peer never closes.
func TestWheelParkedDrainTimeout(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{DrainTimeout: 50 * time.Millisecond})
	defer stop()
	c.Write([]byte("x\n"))
	recv(t, r, "x")
	waitParked(t, w)
	w.Disconnect("going")
	ci := waitClosed(t, r)
	var de *DrainError
	if ci.reason != "going" || !errors.As(ci.err, &de) || de.Limit != 50*time.Millisecond {
		t.Errorf("closed (%q, %v), want (%q, a DrainError with its limit)", ci.reason, ci.err, "going")
	}
}

// TestWheelParkedIdle: a parked wheel still reports idleness.
func TestWheelParkedIdle(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, s, r, WheelConfig{Idle: 20 * time.Millisecond})
	defer stop()
	waitParked(t, w)
	select {
	case <-r.idle:
	case <-time.After(10 * time.Second):
		t.Fatal("no idle event while parked")
	}
}

// hiddenConn hides the socket of the conn it wraps, as a TLS or
// WebSocket connection does.
type hiddenConn struct{ net.Conn }

// TestWheelStartUnparkable: a wheel whose connection does not hand out
// its socket keeps a reading goroutine, and works as under Run.
func TestWheelStartUnparkable(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	r := newRecorder()
	w, stop := startWheel(t, hiddenConn{s}, r, WheelConfig{})
	c.Write([]byte("one\n"))
	recv(t, r, "one")
	if w.poll != nil {
		t.Error("wheel over a conn without its socket registered with the poller")
	}
	if loops := loopGoroutines(); loops != 1 {
		t.Errorf("%d read loops, want 1", loops)
	}
	stop()
	if ci := waitClosed(t, r); ci.reason != "test end" {
		t.Errorf("closed with %q, want %q", ci.reason, "test end")
	}
}

// TestWheelStartTLSKeepsReader: a TLS wheel does not park (its bytes pass
// through crypto/tls, not the socket alone) and reads as under Run.
func TestWheelStartTLSKeepsReader(t *testing.T) {
	s, c := tcpPair(t)
	defer c.Close()
	cert := selfSignedCert(t)
	ts := tls.Server(s, &tls.Config{Certificates: []tls.Certificate{cert}})
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	_ = ts.SetDeadline(time.Now().Add(10 * time.Second))
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	hs := make(chan error, 1)
	go func() { hs <- tc.Handshake() }()
	if err := ts.Handshake(); err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if err := <-hs; err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	_ = ts.SetDeadline(time.Time{})
	r := newRecorder()
	w, stop := startWheel(t, ts, r, WheelConfig{})
	if _, err := tc.Write([]byte("secret\n")); err != nil {
		t.Fatal(err)
	}
	recv(t, r, "secret")
	if w.poll != nil {
		t.Error("TLS wheel registered with the poller")
	}
	if loops := loopGoroutines(); loops != 1 {
		t.Errorf("%d read loops, want 1", loops)
	}
	stop()
	if ci := waitClosed(t, r); ci.reason != "test end" {
		t.Errorf("closed with %q, want %q", ci.reason, "test end")
	}
}

// TestPollerSlotReuse: a slot freed by a wheel and taken by another
// answers only to the new wheel's id, so that an event still in flight
// for the first cannot resume the second.
func TestPollerSlotReuse(t *testing.T) {
	p := &poller{}
	w1, w2, w3 := new(Wheel), new(Wheel), new(Wheel)
	id1 := p.take()
	p.slots[uint32(id1)].w = w1
	id3 := p.take()
	p.slots[uint32(id3)].w = w3
	p.put(id1)
	id2 := p.take()
	p.slots[uint32(id2)].w = w2
	if uint32(id2) != uint32(id1) || id2 == id1 {
		t.Fatalf("ids %#x then %#x: want the same slot under a new generation", id1, id2)
	}
	for _, c := range []struct {
		id   uint64
		want *Wheel
	}{{id1, nil}, {id2, w2}, {id3, w3}, {uint64(len(p.slots)), nil}, {id3 + 1<<32, nil}} {
		if got := p.wheel(c.id); got != c.want {
			t.Errorf("wheel(%#x) = %p, want %p", c.id, got, c.want)
		}
	}
}
