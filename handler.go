package ircsock

// With Config.InputHandler a connection's reading goroutine handles its
// lines itself, the way one turn of an event loop does: it reads, calls
// the handler with each line of the read, and writes what was sent to the
// connection meanwhile, all before it reads again. The run of one read
// starts with its first line (beginRun), which corks the wheel
// (sock.Wheel.Cork): a Send to the connection, from the handler or from
// any other goroutine, then queues without waking a writer (up to the
// cork's 64 KiB, past which the writer takes over). The run ends
// when the read is decoded (connHandler.HandleReadEnd) or the connection
// closes, and the uncork writes everything queued on the reading
// goroutine, in one write(2) when the socket takes it. An echo thus
// costs no hand-over between goroutines at all: no channel, no
// controller, no writer woken. Where the events channel makes a line
// cross from the reader's core to the controller's and its reply cross
// back, here both stay where the bytes were read.
//
// The cork lives in the wheel, under its write lock, so a Send racing the
// end of a run either queues before the uncork, which writes it, or finds
// the wheel uncorked and wakes the writer itself.

// beginRun marks the reader inside a run and corks the wheel. Only the
// reading goroutine sets or clears flagInRun.
func (c *Conn) beginRun() {
	if !c.flags.Load(flagInRun) {
		c.flags.Store(flagInRun, true)
		c.w.Cork()
	}
}

// flushRun ends the run and writes what was queued during it.
func (c *Conn) flushRun() {
	c.flags.Store(flagInRun, false)
	c.w.Uncork()
}

// emit delivers an event of the connection's input from the flood gate:
// an Input to the InputHandler if there is one, on the calling goroutine,
// anything else to Events.
func (c *Conn) emit(ev Event) {
	if h := c.b.cfg.InputHandler; h != nil {
		if in, ok := ev.(Input); ok {
			h(in)
			return
		}
	}
	c.b.send(ev)
}
