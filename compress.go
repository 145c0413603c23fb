package ircsock

import (
	"bytes"
	"fmt"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
)

func newZlib() filter.Filter { return &filter.Zlib{} }

// withZlib returns a Stack that decodes (or encodes) through a new zlib
// layer nearest the wire and then through f. A connection starts with a
// bare Line on each side, which costs less memory than a Stack; building
// the Stack on f keeps the bytes f holds, and Unshift hands them to zlib.
func withZlib(f filter.Filter) *filter.Stack {
	st, ok := f.(*filter.Stack)
	if !ok {
		if f == lineOut {
			f = &filter.Line{} // the shared one must not become a layer
		}
		st = filter.NewStack(f)
	}
	st.Unshift(newZlib())
	return st
}

// SetCompressedLink compresses id's output from the current point of its
// send queue on: everything queued before is flushed uncompressed, every
// message sent after goes through zlib (the original's "on next flush",
// made exact). A Compressed event follows. The input side is not changed:
// arrange it with CompressInputAfter (exact) or SetCompressedLinkNow.
// Compressing the output twice returns ErrAlreadyCompressed.
func (b *Backend) SetCompressedLink(id ConnID) error {
	c, err := b.lookupZlib(id)
	if err != nil {
		return err
	}
	if err := c.compressOutput(); err != nil {
		return err
	}
	b.post(Compressed{Conn: c}, c, nil)
	return nil
}

func (c *Conn) compressOutput() error {
	if !c.flags.CompareAndSwap(flagOutZ, false, true) {
		return ErrAlreadyCompressed
	}
	err := c.w.WriteOp(func(out filter.Filter, dst []byte) (filter.Filter, []byte, error) {
		return withZlib(out), dst, nil
	})
	if err != nil {
		c.flags.Store(flagOutZ, false)
		return err
	}
	return nil
}

// SetCompressedLinkNow compresses both directions: the output as in
// SetCompressedLink, the input from the next record boundary of the
// reading goroutine. That boundary is inexact for bytes already read
// behind the current line, so a protocol where the peer switches right
// after a line should use CompressInputAfter instead. A direction already
// compressed gives ErrAlreadyCompressed (the other is still switched).
func (b *Backend) SetCompressedLinkNow(id ConnID) error {
	c, err := b.lookupZlib(id)
	if err != nil {
		return err
	}
	oerr := c.compressOutput()
	var ierr error
	if c.flags.CompareAndSwap(flagInArmed, false, true) {
		c.stopWatching()
		c.flags.Store(flagInZ, true)
		c.w.ReadOp(func(in filter.Filter) filter.Filter { return withZlib(in) })
	} else {
		ierr = ErrAlreadyCompressed
	}
	if oerr != nil && ierr != nil {
		return ErrAlreadyCompressed
	}
	b.post(Compressed{Conn: c}, c, nil)
	if oerr != nil {
		return oerr
	}
	return ierr
}

// UnsetCompressedLink removes compression in both directions: the output
// after a final sync flush of the zlib stream at the current point of the
// queue, the input at the next record boundary (bytes the zlib layer
// holds undecoded are handed to the line layer below it). It returns
// ErrNotCompressed if neither direction was compressed; an armed
// CompressInputAfter is cancelled.
func (b *Backend) UnsetCompressedLink(id ConnID) error {
	c, err := b.lookupZlib(id)
	if err != nil {
		return err
	}
	did := false
	if c.flags.Load(flagOutZ) {
		err := c.w.WriteOp(func(out filter.Filter, dst []byte) (filter.Filter, []byte, error) {
			if st, ok := out.(*filter.Stack); ok && st.Len() > 1 {
				st.Shift()
				return st.Layer(0), dst, nil
			}
			return out, dst, nil
		})
		if err != nil {
			return err
		}
		c.flags.Store(flagOutZ, false)
		did = true
	}
	if c.flags.CompareAndSwap(flagInArmed, true, false) {
		c.hmu.Lock()
		wasPending := c.pending
		c.pending = false
		c.hmu.Unlock()
		// An armed match not yet taken, or a late arm's switch not yet
		// made, is simply cancelled; otherwise the zlib layer is in place
		// (or a ReadOp queued before this one puts it there).
		if c.match.Swap(nil) == nil && !wasPending {
			c.w.ReadOp(func(in filter.Filter) filter.Filter {
				if st, ok := in.(*filter.Stack); ok && st.Len() > 1 {
					st.Shift()
				}
				return in
			})
		}
		c.flags.Store(flagInZ, false)
		did = true
	}
	if !did {
		return ErrNotCompressed
	}
	return nil
}

// CompressInputAfter arranges that id's input is decompressed from the
// byte after the first line for which match returns true. match runs on
// the connection's reading goroutine, before that line's Input event is
// sent, and the zlib layer is added before the next line is decoded: the
// switch is exact even when the compressed bytes arrive in the same read
// as the line.
//
// The controller runs asynchronously from the readers, so by the time it
// calls this (on ListenerOpen, say) the reader may already have decoded
// lines it has not seen. Those are checked too, from a copy the
// connection keeps of its first lines (Config.EarlyInput bytes) until an
// input switch is armed:
//   - no earlier line matches: the switch is armed for the lines to come;
//   - the last line decoded matches: the switch is made before the next
//     one is decoded (if the reader gets there first after all, an
//     InputError wrapping ErrArmedLate says so);
//   - an earlier line matches, so lines after it were decoded the wrong
//     way, or more lines were decoded than were kept: nothing is armed
//     and the error wraps ErrArmedLate.
//
// Compressed reports the input compressed only once the switch is made.
// For a peer that speaks first, ListenerConfig.CompressInputAfter and
// ConnectorConfig.CompressInputAfter arm the switch before any input is
// decoded, which is exact whatever the peer sends and however fast.
//
// Arming it twice, or on a compressed input, returns ErrAlreadyCompressed;
// a nil match ErrNilMatch.
func (b *Backend) CompressInputAfter(id ConnID, match func(*ircmsg.Message) bool) error {
	c, err := b.lookupZlib(id)
	if err != nil {
		return err
	}
	if match == nil {
		return ErrNilMatch
	}
	return c.armInput(match)
}

// watch records one decoded line (nil for one that failed to decode) while
// the connection keeps its first lines; it runs on the reading goroutine.
func (c *Conn) watch(rec []byte) {
	c.hmu.Lock()
	if !c.flags.Load(flagWatching) {
		c.hmu.Unlock()
		return
	}
	late := c.pending
	if late {
		// A late arm promised the switch before this line, but the
		// reader decoded it first: the switch is off, and said so.
		c.pending = false
		c.flags.Store(flagInArmed, false)
	}
	if len(c.early)+len(rec)+1 > c.b.earlyMax {
		c.early, c.earlyOver = nil, true
		c.flags.Store(flagWatching, false)
	} else {
		c.early = append(append(c.early, rec...), '\n')
	}
	c.hmu.Unlock()
	if late {
		c.deliver(InputError{Conn: c, Err: fmt.Errorf("%w: the line after the match was decoded before the switch", ErrArmedLate)})
	}
}

// stopWatching drops the copy of the first lines: an input switch is
// armed or made.
func (c *Conn) stopWatching() {
	c.hmu.Lock()
	c.flags.Store(flagWatching, false)
	c.early = nil
	c.hmu.Unlock()
}

func (c *Conn) armInput(match func(*ircmsg.Message) bool) error {
	if !c.flags.CompareAndSwap(flagInArmed, false, true) {
		return ErrAlreadyCompressed
	}
	c.hmu.Lock()
	defer c.hmu.Unlock()
	if !c.flags.Load(flagWatching) {
		c.flags.Store(flagInArmed, false)
		if c.earlyOver {
			return fmt.Errorf("%w: more input was decoded than the %d bytes it can check (Config.EarlyInput)", ErrArmedLate, max(c.b.earlyMax, 0))
		}
		return fmt.Errorf("%w: the input was switched before, its first lines are no longer kept", ErrArmedLate)
	}
	// Which line already decoded matches, if any. The lines are parsed
	// again for match (it takes a Message): the controller owns the ones
	// it was given.
	hit, n := -1, 0
	for rest := c.early; len(rest) > 0; n++ {
		line, after, _ := bytes.Cut(rest, []byte{'\n'})
		rest = after
		if hit >= 0 || len(line) == 0 {
			continue
		}
		var m ircmsg.Message
		if c.b.cfg.Format.Limits.ParseInto(&m, line) == nil && match(&m) {
			hit = n
		}
	}
	switch {
	case hit < 0:
		c.match.Store(&match)
		c.flags.Store(flagWatching, false)
		c.early = nil
		return nil
	case hit == n-1:
		// The reader is between that line and the next: switch there,
		// unless it decodes the next one first (watch reports that).
		c.pending = true
		c.w.ReadOp(func(in filter.Filter) filter.Filter {
			c.hmu.Lock()
			defer c.hmu.Unlock()
			if !c.pending {
				return in
			}
			c.pending = false
			c.flags.Store(flagInZ, true)
			c.flags.Store(flagWatching, false)
			c.early = nil
			return withZlib(in)
		})
		return nil
	default:
		c.flags.Store(flagInArmed, false)
		return fmt.Errorf("%w: input line %d matched and the %d after it were already decoded uncompressed", ErrArmedLate, hit+1, n-1-hit)
	}
}

// lookupZlib is lookup for the compression calls, which a WebSocket
// connection refuses: a zlib stream cut into messages at its line ends
// would be corrupt.
func (b *Backend) lookupZlib(id ConnID) (*Conn, error) {
	c, err := b.lookup(id)
	if err != nil {
		return nil, err
	}
	if _, ws := c.WebSocket(); ws {
		return nil, ErrWebSocketCompression
	}
	return c, nil
}

// CompressInputNow decompresses id's input from the reading goroutine's
// next step on: before it feeds the next bytes it reads, or before it
// decodes the next line of bytes it already holds. It leaves the output
// alone (see SetCompressedLink).
//
// It is exact when the peer sends nothing compressed until it has received
// something we queue after this call. That is the shape of a server link
// that the peer dialled (ngircd starts compressing only after it receives
// our SERVER line): call CompressInputNow, then Send our SERVER, then
// SetCompressedLink. When the peer switches right after a line of its own,
// use CompressInputAfter instead. A compressed or armed input gives
// ErrAlreadyCompressed.
func (b *Backend) CompressInputNow(id ConnID) error {
	c, err := b.lookupZlib(id)
	if err != nil {
		return err
	}
	if !c.flags.CompareAndSwap(flagInArmed, false, true) {
		return ErrAlreadyCompressed
	}
	c.stopWatching()
	c.flags.Store(flagInZ, true)
	c.w.ReadOp(func(in filter.Filter) filter.Filter { return withZlib(in) })
	return nil
}
