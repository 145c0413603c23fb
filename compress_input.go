package ircsock

import "github.com/ircsock/ircsock/filter"

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
	if !c.inArmed.CompareAndSwap(false, true) {
		return ErrAlreadyCompressed
	}
	c.stopWatching()
	c.inZ.Store(true)
	c.w.ReadOp(func(in filter.Filter) filter.Filter { return withZlib(in) })
	return nil
}
