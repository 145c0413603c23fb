package ircsock

import (
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
	if !c.outZ.CompareAndSwap(false, true) {
		return ErrAlreadyCompressed
	}
	err := c.w.WriteOp(func(out filter.Filter, dst []byte) (filter.Filter, []byte, error) {
		return withZlib(out), dst, nil
	})
	if err != nil {
		c.outZ.Store(false)
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
	if c.inZ.CompareAndSwap(false, true) {
		c.match.Store(nil)
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
	if c.outZ.Load() {
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
		c.outZ.Store(false)
		did = true
	}
	if c.inZ.CompareAndSwap(true, false) {
		if c.match.Swap(nil) == nil {
			c.w.ReadOp(func(in filter.Filter) filter.Filter {
				if st, ok := in.(*filter.Stack); ok && st.Len() > 1 {
					st.Shift()
				}
				return in
			})
		}
		did = true
	}
	if !did {
		return ErrNotCompressed
	}
	return nil
}

// CompressInputAfter arranges, in advance, that id's input is decompressed
// from the byte after the first line for which match returns true. match
// runs on the connection's reading goroutine, before that line's Input
// event is sent, and the zlib layer is added before the next line is
// decoded: the switch is exact even when the compressed bytes arrive in
// the same read as the line. This is needed because the controller runs
// asynchronously from the readers: by the time it sees the Input event,
// more bytes may already have been decoded. Arming it twice, or on a
// compressed input, returns ErrAlreadyCompressed; a nil match ErrNilMatch.
func (b *Backend) CompressInputAfter(id ConnID, match func(*ircmsg.Message) bool) error {
	c, err := b.lookupZlib(id)
	if err != nil {
		return err
	}
	if match == nil {
		return ErrNilMatch
	}
	if !c.inZ.CompareAndSwap(false, true) {
		return ErrAlreadyCompressed
	}
	c.match.Store(&match)
	return nil
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
