package ircsock

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
)

// Send formats m once (with Config.Format) and queues the line to each
// connection in ids, in the order given. Targets that are unknown, gone or
// disconnecting are skipped and listed in a *SendError (errors.Is(err,
// ErrUnknownConn), ErrDisconnecting, ...); the others still get the
// message. A message that cannot be formatted is an error and nothing is
// sent.
func (b *Backend) Send(m *ircmsg.Message, ids ...ConnID) error {
	if b.closing.Load() {
		return ErrClosed
	}
	if m == nil {
		return errors.New("ircsock: send: nil message")
	}
	// One read lock for the whole call, not one per id: for a message to
	// a thousand connections the lock word's cache line would otherwise
	// bounce between this goroutine and every reader registering or
	// forgetting a connection. Wheel.Write never waits on b.mu.
	b.mu.RLock()
	defer b.mu.RUnlock()
	// More events waiting for the controller: queue now, write with the
	// rest of the burst (coalesce.go). The format buffer then is the one
	// b.dmu guards, which costs no atomic operation beyond the lock
	// itself; otherwise it comes from getScratch. With an InputHandler
	// the channel holds no Inputs and says nothing about bursts; a line
	// to a connection whose reader is handling a read waits for the end
	// of that read instead (handler.go).
	deferred := b.cfg.InputHandler == nil && len(b.events) > 0
	var bp *[]byte
	if deferred {
		b.dmu.Lock()
		bp = &b.dbuf
	} else {
		bp = b.getScratch()
	}
	line, err := b.cfg.Format.Append((*bp)[:0], m)
	if err != nil {
		if deferred {
			b.dmu.Unlock()
		} else {
			b.putScratch(bp)
		}
		return fmt.Errorf("ircsock: send %s: %w", m.Command, err)
	}
	var se *SendError
	for _, id := range ids {
		c := b.conns[id]
		var werr error
		switch {
		case c == nil:
			werr = ErrUnknownConn
		case deferred:
			werr = b.queueDeferred(c, line)
		default:
			werr = c.w.Write(line)
		}
		if errors.Is(werr, sock.ErrClosing) {
			werr = ErrDisconnecting
		}
		if werr != nil {
			if se == nil {
				se = &SendError{}
			}
			se.IDs = append(se.IDs, id)
			se.Errs = append(se.Errs, werr)
		}
	}
	if cap(line) <= 64<<10 {
		*bp = line[:0]
	} else {
		*bp = nil // one huge message does not pin its buffer
	}
	if deferred {
		b.armFlushLocked()
		b.dmu.Unlock()
	} else {
		b.putScratch(bp)
		if b.hasDirty.Load() {
			b.flushDirty()
		}
	}
	if se != nil {
		return se
	}
	return nil
}

// Disconnect closes id gracefully, the way a lingering close in a web
// server does: everything queued before it is written, the write side is
// shut (for TLS a close_notify, then the TCP FIN), and the connection is
// read until the peer closes its side, so that a peer still talking while
// it reads its last replies gets every byte instead of a reset. Input read
// meanwhile is still delivered. Config.DrainTimeout bounds it all; past it
// the connection is closed and the Disconnect event's Err is a *DrainError
// and its Undelivered the bytes the peer had not acknowledged. An empty
// reason means ReasonClientDisconnect. A second call returns
// ErrDisconnecting.
func (b *Backend) Disconnect(id ConnID, reason string) error {
	c, err := b.lookup(id)
	if err != nil {
		return err
	}
	if reason == "" {
		reason = ReasonClientDisconnect
	}
	if !c.w.Disconnect(reason) {
		return ErrDisconnecting
	}
	return nil
}

// DisconnectNow closes id at once, dropping its queue. Its Disconnect event
// carries reason unless a Disconnect was already under way (the first
// reason wins).
func (b *Backend) DisconnectNow(id ConnID, reason string) error {
	c, err := b.lookup(id)
	if err != nil {
		return err
	}
	if reason == "" {
		reason = ReasonClientDisconnect
	}
	c.w.Close(reason, nil)
	return nil
}

// sendBufs are the format buffers of Sends made with an InputHandler, or
// made while another Send holds the scratch slot: per-P, where the one
// slot would make every handler's Send take its cache line from the last
// core that sent.
var sendBufs = sync.Pool{New: func() any { return new([]byte) }}

// getScratch returns a format buffer for a Send that does not coalesce.
func (b *Backend) getScratch() *[]byte {
	if b.cfg.InputHandler == nil {
		if bp := b.scratch.Swap(nil); bp != nil {
			return bp
		}
	}
	return sendBufs.Get().(*[]byte)
}

// putScratch gives back a buffer of getScratch.
func (b *Backend) putScratch(bp *[]byte) {
	if b.cfg.InputHandler != nil || !b.scratch.CompareAndSwap(nil, bp) {
		sendBufs.Put(bp)
	}
}
