package sock

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// idleWheel is a wheel with nothing but what the idle clock touches.
func idleWheel(idle time.Duration, h Handler) *Wheel {
	w := &Wheel{idle: idle, h: h}
	w.lastSeen.Store(monoNow())
	return w
}

func startIdleOf(w *Wheel) { w.startIdle() }

func stopIdleOf(w *Wheel) {
	w.idleMu.Lock()
	w.idleDone = true
	idles.stop(w)
	w.idleMu.Unlock()
}

// checkIdleHeap verifies the heap order and that every wheel knows its
// place in it.
func checkIdleHeap(t *testing.T) int {
	t.Helper()
	idles.mu.Lock()
	defer idles.mu.Unlock()
	for i, e := range idles.h {
		if int(e.w.idleIx) != i+1 {
			t.Fatalf("entry %d: wheel says it is at %d", i, e.w.idleIx-1)
		}
		if i > 0 && idles.h[(i-1)/2].at > e.at {
			t.Fatalf("entry %d is due before its parent", i)
		}
	}
	return len(idles.h)
}

// TestIdleClockHeap adds and stops wheels in random order and checks the
// heap after every step; all stopped, the clock holds none of them.
func TestIdleClockHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var live []*Wheel
	for step := range 2000 {
		if len(live) > 0 && rng.IntN(3) == 0 {
			i := rng.IntN(len(live))
			stopIdleOf(live[i])
			live = append(live[:i], live[i+1:]...)
		} else {
			// Far off, so that no check comes due during the test.
			w := idleWheel(time.Hour+time.Duration(rng.IntN(1000))*time.Second, HandlerFunc(func(*Wheel, Event) {}))
			startIdleOf(w)
			live = append(live, w)
		}
		if n := checkIdleHeap(t); n != len(live) {
			t.Fatalf("step %d: %d wheels in the clock, want %d", step, n, len(live))
		}
	}
	for _, w := range live {
		stopIdleOf(w)
	}
	if n := checkIdleHeap(t); n != 0 {
		t.Fatalf("%d wheels left in the clock after every one stopped", n)
	}
	idles.mu.Lock()
	armed := idles.armed
	idles.mu.Unlock()
	if armed != 0 {
		t.Fatal("the clock's timer is still set with no wheel in it")
	}
}

// TestIdleClockEvents runs 100 wheels with idle times from 20 to 120 ms:
// each gets its events no sooner than its idle time after the last, a
// wheel whose input keeps coming (wheel 0, idle 250 ms, input every 5 ms)
// gets none, and none comes after stop.
func TestIdleClockEvents(t *testing.T) {
	type rec struct {
		mu    sync.Mutex
		times []int64
	}
	const n = 100
	recs := make([]*rec, n)
	ws := make([]*Wheel, n)
	start := monoNow()
	for i := range n {
		r := &rec{}
		recs[i] = r
		idle := time.Duration(20+i) * time.Millisecond
		if i == 0 {
			idle = 250 * time.Millisecond
		}
		ws[i] = idleWheel(idle, HandlerFunc(func(_ *Wheel, ev Event) {
			if ev.Kind == EventIdle {
				r.mu.Lock()
				r.times = append(r.times, monoNow())
				r.mu.Unlock()
			}
		}))
	}
	for _, w := range ws {
		startIdleOf(w)
	}
	// Wheel 0 hears from its peer every 5 ms for 300 ms: only a stall
	// of 250 ms could make it idle.
	busy := ws[0]
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		busy.lastSeen.Store(monoNow())
		time.Sleep(5 * time.Millisecond)
	}
	// Every other wheel has had two events by now, or will soon.
	waitUntil := time.Now().Add(10 * time.Second)
	for i := 1; i < n; i++ {
		for {
			recs[i].mu.Lock()
			got := len(recs[i].times)
			recs[i].mu.Unlock()
			if got >= 2 {
				break
			}
			if time.Now().After(waitUntil) {
				t.Fatalf("wheel %d (idle %v): %d idle events in %v", i, ws[i].idle, got, time.Duration(monoNow()-start))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, w := range ws {
		stopIdleOf(w)
	}
	for i, r := range recs {
		r.mu.Lock()
		prev := start
		for k, at := range r.times {
			if at-prev < int64(ws[i].idle) {
				t.Errorf("wheel %d: event %d came %v after the last, idle is %v", i, k, time.Duration(at-prev), ws[i].idle)
			}
			if i == 0 && at-start < int64(300*time.Millisecond) {
				t.Errorf("wheel 0 got an idle event while its input kept coming")
			}
			prev = at
		}
		r.mu.Unlock()
	}
	counts := make([]int, n)
	for i, r := range recs {
		r.mu.Lock()
		counts[i] = len(r.times)
		r.mu.Unlock()
	}
	time.Sleep(600 * time.Millisecond) // more than twice the longest idle
	for i, r := range recs {
		r.mu.Lock()
		if len(r.times) != counts[i] {
			t.Errorf("wheel %d: an idle event after its checks were stopped", i)
		}
		r.mu.Unlock()
	}
	if n := checkIdleHeap(t); n != 0 {
		t.Fatalf("%d wheels left in the clock", n)
	}
}
