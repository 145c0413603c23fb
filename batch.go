package ircsock

import (
	"sync"

	"github.com/ircsock/ircsock/sock"
)

// A connection's reading goroutine hands its Inputs to the events channel
// in runs, not one by one as it decodes them: it holds back the lines of
// one read, up to inputBatchMax of them, and sends them together when the
// read is decoded (HandleReadEnd), before it reads again or waits for
// input. Sending a line between the parse of one and the next made the
// reader and the controller take the channel's lock in turn on every
// line, each from its own core, so that the lock and the channel's
// counters moved from one core's cache to the other's twice a line; in
// runs, the reader fills the channel while the controller works through
// what it already has. It pays where both cores are free and the two
// goroutines run side by side, and costs a little on one core; see
// BENCHMARKS.md, "Echo: lines handed over in runs", for BenchmarkEcho's
// figures.
//
// Nothing waits for the peer meanwhile: the run is sent before the next
// read, so a line is never held back for input that has not come. The
// order is the wire order; any other event of the connection from the
// reading goroutine (an InputError, the Disconnect) sends the run first.

// inputBatchMax is the most Inputs a reading goroutine holds back. It
// bounds what a reader blocked on a full events channel holds beyond the
// channel's own Config.Events: at most this many decoded lines.
const inputBatchMax = 16

// inputBatch is a run of Inputs held back by one reading goroutine.
type inputBatch struct {
	n   int
	evs [inputBatchMax]Input
}

// inputBatches hold the batches of readers between reads, so that an idle
// connection holds none.
var inputBatches = sync.Pool{New: func() any { return new(inputBatch) }}

// hold adds in to the reader's run, sending the run when it is full.
func (c *Conn) hold(in Input) {
	bt := c.batch
	if bt == nil {
		bt = inputBatches.Get().(*inputBatch)
		c.batch = bt
	}
	bt.evs[bt.n] = in
	bt.n++
	if bt.n == inputBatchMax {
		c.sendHeld()
	}
}

// sendHeld sends the Inputs held back, in order.
func (c *Conn) sendHeld() {
	bt := c.batch
	for i := range bt.evs[:bt.n] {
		c.b.send(bt.evs[i])
		bt.evs[i] = Input{}
	}
	bt.n = 0
}

// HandleReadEnd sends the run of Inputs of the read just decoded and
// gives its batch back (sock.ReadEndHandler).
func (h connHandler) HandleReadEnd(*sock.Wheel) { h.c.endRun() }

// endRun sends the Inputs held back, if any, and gives their batch back;
// with an InputHandler it writes what the read's lines queued instead
// (handler.go).
func (c *Conn) endRun() {
	if c.flags.Load(flagInRun) {
		c.flushRun()
	}
	if c.batch == nil {
		return
	}
	c.sendHeld()
	inputBatches.Put(c.batch)
	c.batch = nil
}

var _ sock.ReadEndHandler = connHandler{}
