package ircsock

import "time"

// coalesceDelay bounds how long Send leaves lines queued and unwritten
// while the controller still has events to handle (see Backend.Send): the
// longest a line can wait for its write when no later Send flushes it.
const coalesceDelay = 200 * time.Microsecond

// Send coalesces writes the way an event loop does. While events wait in
// the channel, the controller is in the middle of a burst and will most
// likely send again soon, so Send queues each line on its wheels without
// waking their writers (sock.Wheel.Queue) and notes the wheels as dirty.
// The first Send made with the channel empty, or a timer coalesceDelay
// after the first deferred line, wakes every dirty writer at once, and
// each writes everything the burst gave it in one system call. Without
// this a channel message to a thousand clients started a thousand writers
// that each wrote that one line before the next message came.

// queueDeferred queues line on c without waking its writer and notes c
// as dirty. b.dmu must be held.
func (b *Backend) queueDeferred(c *Conn, line []byte) error {
	if err := c.w.Queue(line); err != nil {
		return err
	}
	if !c.dirty {
		c.dirty = true
		b.dirty = append(b.dirty, c)
		b.hasDirty.Store(true)
	}
	return nil
}

// armFlushLocked makes sure the dirty wheels are flushed within
// coalesceDelay. b.dmu must be held.
func (b *Backend) armFlushLocked() {
	if b.flushArmed || len(b.dirty) == 0 {
		return
	}
	b.flushArmed = true
	if b.flushT == nil {
		b.flushT = time.AfterFunc(coalesceDelay, b.flushDirty)
	} else {
		b.flushT.Reset(coalesceDelay)
	}
}

// flushDirty wakes the writer of every dirty wheel.
func (b *Backend) flushDirty() {
	b.fmu.Lock()
	defer b.fmu.Unlock()
	b.dmu.Lock()
	list := b.dirty
	b.dirty = b.spareDirty
	b.hasDirty.Store(false)
	if b.flushArmed {
		b.flushT.Stop()
		b.flushArmed = false
	}
	for _, c := range list {
		c.dirty = false
	}
	b.dmu.Unlock()
	for _, c := range list {
		c.w.Flush()
	}
	clear(list)
	b.spareDirty = list[:0]
}
