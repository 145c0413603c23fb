package sock

import (
	"sync"
	"time"
)

// The idle clock keeps the next idle check of every wheel in one min-heap
// under one runtime timer. A time.Timer per wheel cost about 130 bytes of
// heap and an entry in the runtime's timer heap for each connection, the
// biggest part of an idle connection's cost after the connection itself.
// Input does not touch the clock (the reader only stores lastSeen); when
// a check comes due, a wheel that has heard from its peer since is put
// back for lastSeen+Idle without an event, as its own timer's Reset did.

// idleEntry is a wheel and the monotonic time (monoNow) of its next check.
type idleEntry struct {
	at int64
	w  *Wheel
}

type idleClock struct {
	mu    sync.Mutex
	h     []idleEntry // min-heap on at; w.idleIx is 1 + its index
	t     *time.Timer
	armed int64 // when t fires; 0 while it is stopped
}

var idles idleClock

// add schedules w's next check at at, unless w's idle checks are over.
// The caller holds w.idleMu.
func (c *idleClock) add(w *Wheel, at int64) {
	c.mu.Lock()
	if !w.idleOff && w.idleIx == 0 {
		c.push(idleEntry{at, w})
		c.armLocked()
	}
	c.mu.Unlock()
}

// stop ends w's idle checks for good. The caller holds w.idleMu.
func (c *idleClock) stop(w *Wheel) {
	c.mu.Lock()
	w.idleOff = true
	if w.idleIx != 0 {
		c.remove(int(w.idleIx) - 1)
		c.armLocked()
	}
	c.mu.Unlock()
}

// armLocked sets the timer for the earliest check, or stops it when no
// wheel waits. A timer set for a check since removed fires early, finds
// nothing due and sets itself again.
func (c *idleClock) armLocked() {
	if len(c.h) == 0 {
		if c.armed != 0 {
			c.t.Stop()
			c.armed = 0
		}
		return
	}
	at := c.h[0].at
	if c.armed != 0 && c.armed <= at {
		return
	}
	d := time.Duration(at - monoNow())
	if c.t == nil {
		c.t = time.AfterFunc(d, c.fire)
	} else {
		c.t.Reset(d)
	}
	c.armed = at
}

// fire takes the checks that are due: a wheel silent for its Idle gets
// its EventIdle on a goroutine of its own (a handler may block, and one
// wheel's must not hold up another's), any other is put back.
func (c *idleClock) fire() {
	var due []*Wheel
	c.mu.Lock()
	c.armed = 0
	now := monoNow()
	for len(c.h) > 0 && c.h[0].at <= now {
		w := c.h[0].w
		c.remove(0)
		if last := w.lastSeen.Load(); now-last < int64(w.idle) {
			c.push(idleEntry{last + int64(w.idle), w})
			continue
		}
		due = append(due, w)
	}
	c.armLocked()
	c.mu.Unlock()
	for _, w := range due {
		go w.idleEvent()
	}
}

// idleEvent delivers one EventIdle and schedules the next check. Under
// idleMu, so that once Close has set idleDone no event starts.
func (w *Wheel) idleEvent() {
	w.idleMu.Lock()
	defer w.idleMu.Unlock()
	if w.idleDone {
		return
	}
	now := monoNow()
	if last := w.lastSeen.Load(); now-last < int64(w.idle) {
		idles.add(w, last+int64(w.idle)) // input came since the check
		return
	}
	w.h.Handle(w, Event{Kind: EventIdle})
	idles.add(w, monoNow()+int64(w.idle))
}

func (c *idleClock) push(e idleEntry) {
	c.h = append(c.h, e)
	c.up(len(c.h) - 1)
}

// remove takes out the entry at i.
func (c *idleClock) remove(i int) {
	c.h[i].w.idleIx = 0
	last := len(c.h) - 1
	if i != last {
		c.set(i, c.h[last])
	}
	c.h[last] = idleEntry{}
	c.h = c.h[:last]
	if i < len(c.h) {
		c.down(i)
		c.up(i)
	}
	if cap(c.h) > 64 && len(c.h) < cap(c.h)/4 {
		c.h = append([]idleEntry(nil), c.h...) // let a storm's heap go
	}
}

func (c *idleClock) up(i int) {
	e := c.h[i]
	for i > 0 {
		p := (i - 1) / 2
		if c.h[p].at <= e.at {
			break
		}
		c.set(i, c.h[p])
		i = p
	}
	c.set(i, e)
}

func (c *idleClock) down(i int) {
	e := c.h[i]
	n := len(c.h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		if r := l + 1; r < n && c.h[r].at < c.h[l].at {
			l = r
		}
		if e.at <= c.h[l].at {
			break
		}
		c.set(i, c.h[l])
		i = l
	}
	c.set(i, e)
}

// set puts e at i and tells its wheel where it is.
func (c *idleClock) set(i int, e idleEntry) {
	c.h[i] = e
	e.w.idleIx = int32(i + 1)
}
