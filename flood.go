package ircsock

import (
	"fmt"
	"sync"
	"time"

	"github.com/ircsock/ircsock/ircmsg"
	"golang.org/x/time/rate"
)

// Flood control defaults, used when a [FloodControl] field is zero.
const (
	DefaultFloodInterval = 500 * time.Millisecond
	DefaultFloodQueue    = 64
)

// ReasonExcessFlood is the Disconnect reason of a connection whose held
// back input went over [FloodControl].MaxQueued.
const ReasonExcessFlood = "Excess Flood"

// FloodControl slows down a connection that sends commands faster than a
// person types, the way ergo's "fake lag" and the ircds before it do:
// each connection may send Burst commands at once, then one per
// Interval. Commands beyond that are held back and delivered later, in
// order, never dropped; the connection's reading goes on meanwhile, so
// when more than MaxQueued commands are held back the connection is sent
// "ERROR :Excess Flood" and disconnected with [ReasonExcessFlood] and
// [ErrExcessFlood] (what it sends after that is not delivered).
//
// The waiting happens on a goroutine of the connection's own, started
// only while commands are held back: it never holds up other
// connections, nor the controller. Malformed lines (InputError events)
// count and wait like commands, so that events stay in wire order.
//
// Connections from [ListenerConfig].Exempt networks, connectors' and
// those the controller exempts with [Backend.ExemptFlood] (server links)
// are not slowed down. The zero value (Burst 0) is off.
type FloodControl struct {
	// Burst is how many commands pass at once before the lag starts;
	// zero or negative turns flood control off.
	Burst int
	// Interval is the steady rate after the burst: one command per
	// Interval. Zero or negative means DefaultFloodInterval (500 ms).
	Interval time.Duration
	// MaxQueued is the most commands held back at once; one more
	// disconnects the connection with ReasonExcessFlood. Zero or negative
	// means DefaultFloodQueue (64).
	MaxQueued int
}

// lagGate holds a connection's input back when it comes too fast. Its
// one producer is the connection's reading goroutine; a drain goroutine
// runs only while the queue is not empty.
type lagGate struct {
	lim *rate.Limiter
	max int

	mu     sync.Mutex
	q      []Event
	held   int           // 1 while the drain goroutine waits with the queue's head
	active bool          // a drain goroutine owns the queue
	off    bool          // exempted: deliver at once
	dead   bool          // disconnected for Excess Flood: deliver nothing more
	cause  error         // why dead: ErrExcessFlood naming MaxQueued
	idle   chan struct{} // closed by the drain goroutine when it ends
	wake   chan struct{} // cap 1: off or closing changed
}

func newLagGate(f FloodControl) *lagGate {
	iv := f.Interval
	if iv <= 0 {
		iv = DefaultFloodInterval
	}
	max := f.MaxQueued
	if max <= 0 {
		max = DefaultFloodQueue
	}
	return &lagGate{lim: rate.NewLimiter(rate.Every(iv), f.Burst), max: max, wake: make(chan struct{}, 1)}
}

// push delivers ev now if the budget allows and nothing is waiting, else
// queues it behind what is. It runs on the connection's reading
// goroutine.
func (g *lagGate) push(c *Conn, ev Event) {
	g.mu.Lock()
	switch {
	case g.dead:
		g.mu.Unlock()
		return
	case !g.active && (g.off || g.lim.Allow()):
		g.mu.Unlock()
		c.emit(ev)
		return
	case len(g.q)+g.held >= g.max:
		g.dead = true
		g.cause = fmt.Errorf("%w: MaxQueued=%d", ErrExcessFlood, g.max)
		g.q = nil
		g.mu.Unlock()
		c.excessFlood()
		return
	}
	g.q = append(g.q, ev)
	if !g.active {
		g.active = true
		g.idle = make(chan struct{})
		go g.drain(c, g.idle)
	}
	g.mu.Unlock()
}

// drain delivers the queue at the limiter's pace, and at once when the
// gate is turned off; it ends when the queue is empty, the gate is dead
// or the Backend closes.
func (g *lagGate) drain(c *Conn, idle chan struct{}) {
	defer close(idle)
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		g.mu.Lock()
		if len(g.q) == 0 || g.dead {
			g.active = false
			g.mu.Unlock()
			return
		}
		ev := g.q[0]
		g.q[0] = nil
		g.q = g.q[1:]
		g.held = 1
		off := g.off
		g.mu.Unlock()
		if !off {
			if d := g.lim.Reserve().Delay(); d > 0 {
				if t == nil {
					t = time.NewTimer(d)
				} else {
					t.Reset(d)
				}
				select {
				case <-t.C:
				case <-g.wake:
					if !t.Stop() {
						<-t.C
					}
				case <-c.b.quit:
					return
				}
			}
		}
		c.emit(ev)
		g.mu.Lock()
		g.held = 0
		g.mu.Unlock()
	}
}

// setOff exempts the connection: what is queued is delivered at once.
func (g *lagGate) setOff() {
	g.mu.Lock()
	g.off = true
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// closing delivers what is still queued, at once, before the connection's
// Disconnect: nothing a peer sent before it closed is lost. It waits for
// the drain goroutine, on the connection's reading goroutine.
func (g *lagGate) closing() {
	g.setOff()
	g.mu.Lock()
	idle, active := g.idle, g.active
	g.mu.Unlock()
	if active {
		<-idle
	}
}

// floodCause returns the error of an Excess Flood disconnect, or nil.
func (g *lagGate) floodCause() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cause
}

// excessFlood sends the ERROR line and disconnects c.
func (c *Conn) excessFlood() {
	_ = c.b.Send(&ircmsg.Message{Command: "ERROR", Params: []string{ReasonExcessFlood}}, c.id)
	_ = c.b.Disconnect(c.id, ReasonExcessFlood)
}

// ExemptFlood turns flood control off for one connection (a server link
// that registered on a client listener, say): what it has queued is
// delivered at once, and nothing it sends is held back again. A
// connection without flood control is left as it is.
func (b *Backend) ExemptFlood(id ConnID) error {
	c, err := b.lookup(id)
	if err != nil {
		return err
	}
	if c.lag != nil {
		c.lag.setOff()
	}
	return nil
}

// FloodExempt reports whether the connection's input is not subject to
// flood control: no FloodControl on its listener, an exempt address, a
// connector's connection, or [Backend.ExemptFlood].
func (c *Conn) FloodExempt() bool {
	if c == nil {
		return false // no connection: nothing to exempt
	}
	if c.lag == nil {
		return true
	}
	c.lag.mu.Lock()
	defer c.lag.mu.Unlock()
	return c.lag.off
}

// FloodQueued reports how many of the connection's commands flood
// control is holding back right now.
func (c *Conn) FloodQueued() int {
	if c == nil || c.lag == nil {
		return 0
	}
	c.lag.mu.Lock()
	defer c.lag.mu.Unlock()
	return len(c.lag.q) + c.lag.held
}
