package ircsock

import (
	"sync"
	"unsafe"

	"github.com/ircsock/ircsock/ircmsg"
)

// inputBlock lets an Input's fields, its Message and the backing array of
// the message's usual parameters share one allocation. Growing Params from
// nil one append at a time would cost two or three more per line; Input
// itself is one pointer wide, so boxing it into an Event costs nothing.
type inputBlock struct {
	conn *Conn
	// class is the block's size class (blockClass128, ...), which says
	// what type the block really is and which pool takes it back; zero
	// for a plain block, which is never reused. blockPooled is set on it
	// while the block sits in its pool, so that a second Release of the
	// same Input is caught instead of handing one block to two lines.
	class  uintptr
	m      ircmsg.Message
	params [4]string
}

// The sized blocks add room for the line itself: a line that fits is
// copied into its block and parsed there in place (ParseOwnedInto), so the
// Message's strings share the block and a line costs one allocation, not
// a block and a copy. Most lines fit the first two; a longer line gets a
// plain block and a copy of its own. Each size ends on one of the
// runtime's size classes (288, 416 and 704 bytes), so no byte of an
// allocation is wasted.
type (
	inputBlock128 struct {
		inputBlock
		buf [128]byte
	}
	inputBlock256 struct {
		inputBlock
		buf [256]byte
	}
	inputBlock544 struct {
		inputBlock
		buf [544]byte
	}
)

const (
	blockPlain uintptr = iota
	blockClass128
	blockClass256
	blockClass544

	blockPooled uintptr = 1 << 8 // or-ed into class: in the pool
)

// blockPools hold the sized blocks that controllers handed back with
// Input.Release, one pool per size.
var blockPools [4]sync.Pool

// newInputBlock returns a block for rec, reused when one was released,
// and rec's bytes copied where the block's Message may own them.
func newInputBlock(rec []byte) (*inputBlock, []byte) {
	switch n := len(rec); {
	case n <= 128:
		b, _ := blockPools[blockClass128].Get().(*inputBlock128)
		if b == nil {
			b = new(inputBlock128)
		}
		b.init(blockClass128)
		return &b.inputBlock, append(b.buf[:0], rec...)
	case n <= 256:
		b, _ := blockPools[blockClass256].Get().(*inputBlock256)
		if b == nil {
			b = new(inputBlock256)
		}
		b.init(blockClass256)
		return &b.inputBlock, append(b.buf[:0], rec...)
	case n <= 544:
		b, _ := blockPools[blockClass544].Get().(*inputBlock544)
		if b == nil {
			b = new(inputBlock544)
		}
		b.init(blockClass544)
		return &b.inputBlock, append(b.buf[:0], rec...)
	}
	b := new(inputBlock)
	b.init(blockPlain)
	return b, append([]byte(nil), rec...)
}

// init readies a new or reused block for a line.
func (blk *inputBlock) init(class uintptr) {
	blk.class = class
	if cap(blk.m.Params) < len(blk.params) {
		// New, or the controller replaced Params before Release: start
		// from the block's own array rather than grow from nothing.
		blk.m.Params = blk.params[:0]
	}
}

// Release hands the Input's Message back to the Backend, which reuses its
// memory for a later input line, so that a controller that releases every
// Input makes the Backend's read path allocate nothing. Releasing is
// optional: an Input never released is simply collected once the
// controller drops it.
//
// After Release the Input, and everything reached through its Message,
// belong to the Backend again and may change at any moment: its Tags and
// Params slices and the bytes of all its strings (Source, Command, every
// parameter and tag) are rewritten by a later line. So Release only
// once the controller is done with the Message, after any Send of it has
// returned, and keep nothing from it: a string kept past Release must be
// copied first (strings.Clone). Release at most once per Input: a second
// Release before the block is reused panics, and one after would hand a
// later line's block back while the controller still holds it. The zero
// Input's Release does nothing. Built with the race detector, Release
// overwrites the line's bytes at once, so that tests catch a string kept
// by mistake.
func (in Input) Release() {
	if in.blk != nil {
		in.blk.recycle()
	}
}

// recycle returns blk to its pool, ready for newInputBlock. A block
// already in its pool means a second Release of one Input, which would
// give one block to two lines: that panics.
func (blk *inputBlock) recycle() {
	if blk.class == blockPlain {
		return
	}
	if blk.class&blockPooled != 0 {
		panic("ircsock: Input released twice")
	}
	class := blk.class
	blk.class |= blockPooled
	blk.conn = nil
	// A sized block begins with its inputBlock, so the pointer to the one
	// is a pointer to the other; the pools hold the whole block.
	p := unsafe.Pointer(blk)
	switch class {
	case blockClass128:
		b := (*inputBlock128)(p)
		scribble(b.buf[:])
		blockPools[blockClass128].Put(b)
	case blockClass256:
		b := (*inputBlock256)(p)
		scribble(b.buf[:])
		blockPools[blockClass256].Put(b)
	case blockClass544:
		b := (*inputBlock544)(p)
		scribble(b.buf[:])
		blockPools[blockClass544].Put(b)
	}
}

// scribble overwrites a released block's line under the race detector
// (scribbleReleased), so that a controller that keeps a string of an
// Input past its Release, which would otherwise read right until a
// later line happens to reuse the block, reads "XXXX" in its tests, and
// a goroutine still reading it is reported as a race. Without the race
// detector it costs nothing.
func scribble(buf []byte) {
	if !scribbleReleased {
		return
	}
	for i := range buf {
		buf[i] = 'X'
	}
}
