package filter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// This file is a resumable DEFLATE decoder (RFC 1951) with optional zlib
// framing (RFC 1950), written for [Zlib]'s read half. The decoders of the
// standard library and of klauspost/compress pull from an io.Reader and
// treat running out of input in the middle of a block as a sticky error, so
// they cannot serve a push-style Decoder that is fed whatever a socket read
// returned. This one is fed chunks and stops cleanly wherever they end.
//
// Resumability comes from decoding in small units: the zlib header, a
// block header with its code tables, one literal or length/distance pair, a
// piece of a stored block, the trailer. The bit reader's state is three
// words; it is saved before each unit and restored if the input runs out
// before the unit is complete, so that a unit is either decoded whole or
// not at all and no partial state ever has to be kept. The longest unit (a
// dynamic block header) is under 600 bytes, so rollback costs little.

// Window and table geometry.
const (
	winSize  = 1 << 15 // RFC 1951: distances reach back at most 32768 bytes
	litRoot  = 9       // bits of the first-level literal/length table
	distRoot = 7       // bits of the first-level distance table
	clRoot   = 7       // code length codes are at most 7 bits: one level

	// stitchLen is how much of a new chunk Feed copies behind a leftover
	// partial unit, so that the unit completes in the copy and decoding
	// can move to the caller's chunk itself. Any value is correct; it
	// only has to exceed most units to avoid a fallback copy.
	stitchLen = 1024
)

// Table entries are uint32: the low 4 bits are a bit count, the flags
// below say what the rest is, and the high bits (from bit 8) hold a symbol
// or the offset of a second-level table.
const (
	entLink = 0x10 // second level: low bits = its index width, high = offset
	entBad  = 0x20 // no code has these bits: corrupt once they are present
	entBits = 0x0f
)

// Decoding states, one per kind of unit.
const (
	stHeader  = iota // zlib CMF and FLG
	stBlock          // a block header (and for dynamic blocks, its tables)
	stStored         // inside a stored block
	stHuff           // inside a compressed block
	stCopy           // a back-reference cut short by the end of the output room
	stTrailer        // the Adler-32 of the stream
	stDone           // the stream has ended
)

// Results of inflater.run.
type runStatus int

const (
	runMore  runStatus = iota // input exhausted mid-stream: feed more
	runFull                   // the output room is used up
	runFlush                  // a sync or full flush marker was consumed
	runEnd                    // the stream ended (trailer verified)
	runErr                    // inflater.err is set
)

var errTruncated = errors.New("truncated") // internal: a unit needs more input

// RFC 1951 3.2.5: lengths 3..258 from symbols 257..285, distances 1..32768
// from codes 0..29, each with a base and a number of extra bits.
var (
	lenBase = [29]uint16{
		3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
		35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra = [29]uint8{
		0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
		3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase = [30]uint16{
		1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
		257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
		8193, 12289, 16385, 24577}
	distExtra = [30]uint8{
		0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
		7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// The order in which a dynamic header lists code length code lengths.
	clOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// The fixed Huffman codes of RFC 1951 3.2.6, built once. They include the
// two literal/length symbols (286, 287) and two distance codes (30, 31)
// that the RFC reserves: decoding one of them is a corrupt stream.
var fixedLit, fixedDist = func() ([]uint32, []uint32) {
	var lens [288]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	lit, ok := buildTable(nil, lens[:], litRoot)
	var dl [32]uint8
	for i := range dl {
		dl[i] = 5
	}
	dist, ok2 := buildTable(nil, dl[:], distRoot)
	if !ok || !ok2 {
		panic("filter: fixed Huffman tables are invalid")
	}
	return lit, dist
}()

// buildTable builds the decoding table of the canonical Huffman code with
// code lengths lens (RFC 1951 3.2.2) into dst (reusing its memory), with a
// first level indexed by root bits. Codes longer than root bits continue in
// second-level tables appended after the first level, sized to the longest
// code sharing their root prefix. It reports false for an over-subscribed
// code, and for an incomplete one except the two forms zlib and
// compress/flate accept: no codes at all (a block that uses the code is
// corrupt), and a single code of length one.
func buildTable(dst []uint32, lens []uint8, root uint) ([]uint32, bool) {
	var count [16]int
	maxLen := 0
	for _, l := range lens {
		if l > 0 {
			count[l]++
			maxLen = max(maxLen, int(l))
		}
	}
	// Kraft: the codes of each length take 2^-len of the code space.
	left := 1
	for l := 1; l <= 15; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return dst, false
		}
	}
	incomplete := left > 0
	if incomplete && maxLen > 1 {
		return dst, false
	}
	if incomplete && maxLen == 1 && count[1] != 1 {
		return dst, false
	}

	size := 1 << root
	dst = append(dst[:0], make([]uint32, size)...)
	if incomplete {
		// Bits that match no code are corrupt once maxLen of them are
		// present (none for an empty code, one for a single 1-bit code).
		for i := range dst {
			dst[i] = entBad | uint32(maxLen)
		}
	}
	if maxLen == 0 {
		return dst, true
	}

	var next [16]int
	code := 0
	for l := 1; l <= 15; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	// First pass: the reversed code of each symbol (deflate sends Huffman
	// codes most significant bit first into an LSB-first bit stream), and
	// for each root prefix of a long code, the longest code behind it.
	var rev [320]uint16
	var subLen [1 << litRoot]uint8
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		r := reverse(uint16(c), uint(l))
		rev[sym] = r
		if uint(l) > root {
			p := int(r) & (size - 1)
			subLen[p] = max(subLen[p], l-uint8(root))
		}
	}
	if maxLen > int(root) {
		for p := range size {
			if n := subLen[p]; n > 0 {
				dst[p] = uint32(len(dst))<<8 | entLink | uint32(n)
				dst = append(dst, make([]uint32, 1<<n)...)
			}
		}
	}
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		r := int(rev[sym])
		if uint(l) <= root {
			for i := r; i < size; i += 1 << l {
				dst[i] = uint32(sym)<<8 | uint32(l)
			}
			continue
		}
		link := dst[r&(size-1)]
		off, n := int(link>>8), uint(link&entBits)
		sl := uint(l) - root
		for i := r >> root; i < 1<<n; i += 1 << sl {
			dst[off+i] = uint32(sym)<<8 | uint32(sl)
		}
	}
	return dst, true
}

// reverse returns the low n bits of c in reverse order.
func reverse(c uint16, n uint) uint16 {
	return bits.Reverse16(c) >> (16 - n)
}

// An inflater decodes one zlib stream (or, with raw set, one raw deflate
// stream) from chunks of input into a 32 KiB ring that is both the
// back-reference window and the output buffer: run returns the bytes it
// added, a contiguous piece of the ring, which stay intact until the next
// run because run never writes more than the ring's free end.
type inflater struct {
	// Input. The logical input is in[pos:], followed, while a Feed is
	// being stitched, by tail[tailAt:] of the caller's chunk: in is then
	// owned (a leftover unit plus the head of tail) and its position
	// tailAt corresponds to tail[0].
	in      []byte
	pos     int
	inOwned bool   // in is owned, not a caller's chunk
	owned   []byte // the memory behind in when inOwned
	tail    []byte
	tailAt  int
	off     int64 // input bytes dropped from the front of in (for errors)

	// Bit reader: nbits valid bits, least significant first. Bits above
	// nbits are either zero or the true next input bits.
	bits  uint64
	nbits uint

	raw     bool // no zlib header or trailer
	state   int
	final   bool // the current block is the last
	atFlush bool // the last unit ended an empty stored block
	stored  int  // bytes left in the current stored block
	copyLen int  // stCopy: bytes left to copy
	copyDst int  // stCopy: their distance
	lit     []uint32
	dist    []uint32
	dynLit  []uint32 // memory for dynamic tables
	dynDist []uint32
	dynCL   []uint32
	lens    [286 + 30]uint8

	// The window is allocated apart: a 32 KiB block is exactly four
	// pages, while the struct with the window inside would round up to
	// 40 KiB.
	win      *[winSize]byte
	wpos     int   // next write position in win
	runStart int   // where the current run started writing
	hist     int   // bytes of history in win, at most winSize
	total    int64 // bytes produced
	adler    uint32

	err error
}

func newInflater(raw bool) *inflater {
	f := &inflater{raw: raw, adler: 1, win: new([winSize]byte)}
	// Enough for any complete code with these roots (zlib's "enough"
	// bounds are 852 and 592 for roots 9 and 6); append grows them if a
	// stream ever needs more.
	f.dynLit = make([]uint32, 0, 852)
	f.dynDist = make([]uint32, 0, 400)
	if raw {
		f.state = stBlock
	}
	return f
}

// feed appends p to the input; see Zlib.Feed for when p may be kept.
func (f *inflater) feed(p []byte) {
	if len(p) == 0 {
		return
	}
	if f.tail != nil {
		f.materialize() // two Feeds without draining in between: rare
	}
	f.unread()
	rest := f.in[f.pos:]
	f.off += int64(f.pos)
	if len(rest) == 0 {
		f.in, f.pos, f.inOwned = p, 0, false
		return
	}
	if f.inOwned {
		f.owned = f.owned[:copy(f.owned, rest)]
	} else {
		f.owned = append(f.owned[:0], rest...)
	}
	k := min(len(p), stitchLen)
	f.owned = append(f.owned, p[:k]...)
	if k < len(p) {
		f.tail, f.tailAt = p, len(rest)
	}
	f.in, f.pos, f.inOwned = f.owned, 0, true
}

// materialize ends a stitch by copying the rest of the caller's chunk
// into owned memory.
func (f *inflater) materialize() {
	k := len(f.in) - f.tailAt
	f.owned = append(f.owned[:len(f.in)], f.tail[k:]...)
	f.in = f.owned
	f.tail = nil
}

// switchTail moves decoding from the stitch copy to the caller's chunk
// once the current position has reached it. Called at unit boundaries.
func (f *inflater) switchTail() {
	f.unread()
	if f.pos < f.tailAt {
		return
	}
	f.off += int64(f.tailAt)
	f.in, f.pos, f.inOwned = f.tail, f.pos-f.tailAt, false
	f.tail = nil
}

// detach stops referring to the caller's chunk: the unconsumed input (a
// partial unit) is copied into owned memory.
func (f *inflater) detach() {
	if f.tail != nil {
		f.materialize()
	}
	f.unread()
	rest := f.in[f.pos:]
	f.off += int64(f.pos)
	if f.inOwned {
		f.owned = f.owned[:copy(f.owned, rest)]
	} else {
		f.owned = append(f.owned[:0], rest...)
	}
	f.in, f.pos, f.inOwned = f.owned, 0, true
}

// pending returns the input not consumed and forgets it. The decoding
// state, including up to 7 bits of a partly consumed byte, is kept, so
// feeding the result back continues the stream exactly.
func (f *inflater) pending() []byte {
	if f.tail != nil {
		f.switchTail()
		if f.tail != nil {
			f.materialize()
		}
	}
	f.unread()
	rest := f.in[f.pos:]
	f.off += int64(f.pos)
	f.in, f.pos, f.inOwned = nil, 0, false
	return rest
}

// buffered returns how many input bytes are fed and not wholly consumed.
func (f *inflater) buffered() int {
	n := len(f.in) - f.pos + int(f.nbits>>3)
	if f.tail != nil {
		n += len(f.tail) - (len(f.in) - f.tailAt)
	}
	return n
}

// peek appends to dst the next input bytes not consumed, as many as fit
// in its capacity, without consuming them. It is used at a flush marker,
// where the bit reader stands on a byte boundary.
func (f *inflater) peek(dst []byte) []byte {
	n := cap(dst)
	start := f.pos - int(f.nbits>>3)
	dst = append(dst, f.in[start:min(len(f.in), start+n)]...)
	if f.tail != nil && len(dst) < n {
		k := len(f.in) - f.tailAt
		dst = append(dst, f.tail[k:min(len(f.tail), k+n-len(dst))]...)
	}
	return dst
}

// consumed returns the offset in the compressed stream of the first byte
// not wholly consumed.
func (f *inflater) consumed() int64 {
	return f.off + int64(f.pos) - int64(f.nbits>>3)
}

// unread gives whole bytes of look-ahead in the bit buffer back to the
// input, so that pos is the first byte with no consumed bit (or the byte
// whose low bits were consumed, which stays in the buffer).
func (f *inflater) unread() {
	f.pos -= int(f.nbits >> 3)
	f.nbits &= 7
	f.bits &= 1<<f.nbits - 1
}

// refill loads input into the bit buffer: at least 56 bits when 8 input
// bytes are left, otherwise as many whole bytes as fit.
func (f *inflater) refill() {
	if f.pos+8 <= len(f.in) {
		f.bits |= binary.LittleEndian.Uint64(f.in[f.pos:]) << f.nbits
		f.pos += int(63-f.nbits) >> 3
		f.nbits |= 56
		return
	}
	for f.nbits <= 56 && f.pos < len(f.in) {
		f.bits |= uint64(f.in[f.pos]) << f.nbits
		f.pos++
		f.nbits += 8
	}
}

// need makes n bits available or reports false.
func (f *inflater) need(n uint) bool {
	if f.nbits < n {
		f.refill()
	}
	return f.nbits >= n
}

// take consumes n bits, which must be available.
func (f *inflater) take(n uint) uint32 {
	v := uint32(f.bits & (1<<n - 1))
	f.bits >>= n
	f.nbits -= n
	return v
}

// sym decodes one symbol of table t. It returns errTruncated if the bits
// present do not finish a code, and a corrupt error for bits no code has.
func (f *inflater) sym(t []uint32, root uint) (int, error) {
	f.need(15)
	e := t[f.bits&(1<<root-1)]
	n := uint(e & entBits)
	if e&entLink != 0 {
		e = t[uint(e>>8)+uint(f.bits>>root)&(1<<n-1)]
		n = root + uint(e&entBits)
	}
	if n > f.nbits {
		return 0, errTruncated
	}
	if e&entBad != 0 {
		return 0, f.corrupt("invalid Huffman code")
	}
	f.bits >>= n
	f.nbits -= n
	return int(e >> 8), nil
}

func (f *inflater) corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s at byte %d", ErrZlibCorrupt, fmt.Sprintf(format, args...), f.consumed())
}

// run inflates into the ring until at most max bytes are produced (or
// the ring's end is reached), input runs out, a flush marker has been
// consumed, or the stream ends or fails. It returns the bytes produced.
func (f *inflater) run(max int) ([]byte, runStatus) {
	if f.err != nil {
		return nil, runErr
	}
	if f.wpos == winSize {
		f.wpos = 0
	}
	f.runStart = f.wpos
	st := f.loop(min(winSize, f.wpos+max))
	out := f.win[f.runStart:f.wpos]
	if len(out) > 0 {
		f.adler = adler32(f.adler, out)
		f.total += int64(len(out))
		f.hist = min(winSize, f.hist+len(out))
	}
	return out, st
}

// loop is the body of run; end is the ring position it may not pass.
func (f *inflater) loop(end int) runStatus {
	for {
		if f.tail != nil {
			f.switchTail()
		}
		// Saved for rollback; see the file comment.
		pos, bits, nbits := f.pos, f.bits, f.nbits
		var err error
		flush := false
		switch f.state {
		case stHuff:
			err = f.huff(end)
		case stCopy:
			n := min(f.copyLen, end-f.wpos)
			if n == 0 {
				return runFull
			}
			f.copyBack(f.copyDst, n)
			f.copyLen -= n
			if f.copyLen == 0 {
				f.state = stHuff
			}
		case stStored:
			n := min(f.stored, len(f.in)-f.pos, end-f.wpos)
			switch {
			case f.wpos == end:
				err = errFull
			case n == 0:
				err = errTruncated
			default:
				copy(f.win[f.wpos:], f.in[f.pos:f.pos+n])
				f.wpos += n
				f.pos += n
				f.stored -= n
				if f.stored == 0 {
					f.endBlock()
				}
			}
		case stBlock:
			flush, err = f.blockHeader()
		case stHeader:
			err = f.zlibHeader()
		case stTrailer:
			err = f.trailer()
		case stDone:
			return runEnd
		}
		switch {
		case err == nil:
			f.atFlush = flush
			if flush {
				return runFlush
			}
		case err == errTruncated:
			f.pos, f.bits, f.nbits = pos, bits, nbits
			if f.tail != nil {
				f.materialize()
				continue
			}
			return runMore
		case err == errFull:
			f.pos, f.bits, f.nbits = pos, bits, nbits
			return runFull
		default:
			f.err = err
			return runErr
		}
	}
}

var errFull = errors.New("full") // internal: a unit needs output room

// huff decodes one literal/length symbol and what follows it, or, when
// input and output room are plentiful, a run of them (see huffFast).
func (f *inflater) huff(end int) error {
	if f.pos+8 <= len(f.in) && end-f.wpos >= 258 {
		return f.huffFast(end)
	}
	if f.nbits < 48 {
		f.refill()
	}
	s, err := f.sym(f.lit, litRoot)
	if err != nil {
		return err
	}
	if s < 256 {
		if f.wpos == end {
			return errFull
		}
		f.win[f.wpos] = byte(s)
		f.wpos++
		return nil
	}
	if s == 256 {
		f.endBlock()
		return nil
	}
	s -= 257
	if s >= len(lenBase) {
		return f.corrupt("invalid length symbol %d", s+257)
	}
	n := uint(lenExtra[s])
	if !f.need(n) {
		return errTruncated
	}
	length := int(lenBase[s]) + int(f.take(n))
	d, err := f.sym(f.dist, distRoot)
	if err != nil {
		return err
	}
	if d >= len(distBase) {
		return f.corrupt("invalid distance code %d", d)
	}
	n = uint(distExtra[d])
	if !f.need(n) {
		return errTruncated
	}
	dist := int(distBase[d]) + int(f.take(n))
	// hist counts the history before this run; its output is history too.
	if h := f.hist + f.wpos - f.runStart; dist > h {
		return f.corrupt("distance %d beyond the %d bytes of output", dist, h)
	}
	if f.wpos == end {
		return errFull
	}
	k := min(length, end-f.wpos)
	f.copyBack(dist, k)
	if k < length {
		f.copyLen, f.copyDst = length-k, dist
		f.state = stCopy
	}
	return nil
}

// huffFast decodes symbols while at least 8 input bytes and 258 bytes of
// output room remain. A refill then leaves at least 56 bits in the
// buffer, more than the longest symbol with its distance (15 + 5 + 15 +
// 13 bits), so no symbol can run out of input and each is a whole unit:
// nothing needs rolling back. It stops after the end of the block.
func (f *inflater) huffFast(end int) error {
	lit, dist := f.lit, f.dist
	for f.pos+8 <= len(f.in) && end-f.wpos >= 258 {
		f.bits |= binary.LittleEndian.Uint64(f.in[f.pos:]) << f.nbits
		f.pos += int(63-f.nbits) >> 3
		f.nbits |= 56

		e := lit[f.bits&(1<<litRoot-1)]
		n := uint(e & entBits)
		if e&entLink != 0 {
			e = lit[uint(e>>8)+uint(f.bits>>litRoot)&(1<<n-1)]
			n = litRoot + uint(e&entBits)
		}
		if e&entBad != 0 {
			return f.corrupt("invalid Huffman code")
		}
		f.bits >>= n
		f.nbits -= n
		s := int(e >> 8)
		if s < 256 {
			f.win[f.wpos] = byte(s)
			f.wpos++
			continue
		}
		if s == 256 {
			f.endBlock()
			return nil
		}
		s -= 257
		if s >= len(lenBase) {
			return f.corrupt("invalid length symbol %d", s+257)
		}
		length := int(lenBase[s]) + int(f.take(uint(lenExtra[s])))

		e = dist[f.bits&(1<<distRoot-1)]
		n = uint(e & entBits)
		if e&entLink != 0 {
			e = dist[uint(e>>8)+uint(f.bits>>distRoot)&(1<<n-1)]
			n = distRoot + uint(e&entBits)
		}
		if e&entBad != 0 {
			return f.corrupt("invalid Huffman code")
		}
		f.bits >>= n
		f.nbits -= n
		d := int(e >> 8)
		if d >= len(distBase) {
			return f.corrupt("invalid distance code %d", d)
		}
		dd := int(distBase[d]) + int(f.take(uint(distExtra[d])))
		if h := f.hist + f.wpos - f.runStart; dd > h {
			return f.corrupt("distance %d beyond the %d bytes of output", dd, h)
		}
		f.copyBack(dd, length)
	}
	return nil
}

// copyBack appends n bytes found dist bytes back in the ring (which hold
// them, as the caller checked). Source and destination may overlap, which
// repeats the last dist bytes, and the source may wrap around the ring.
func (f *inflater) copyBack(dist, n int) {
	w := f.wpos
	s := w - dist
	if s < 0 {
		s += winSize
	}
	for n > 0 {
		k := n
		if s < w {
			// The source is behind: [s, w) repeats with period dist, so
			// copying from the fixed s doubles the run each time.
			k = min(k, w-s)
			copy(f.win[w:w+k], f.win[s:s+k])
		} else {
			// The source is older history ahead in the ring; reading runs
			// ahead of writing, so copy's memmove reads old bytes.
			k = min(k, winSize-s)
			copy(f.win[w:w+k], f.win[s:s+k])
			s += k
			if s == winSize {
				s = 0
			}
		}
		w += k
		n -= k
	}
	f.wpos = w
}

// endBlock moves on after the end of a block.
func (f *inflater) endBlock() {
	switch {
	case !f.final:
		f.state = stBlock
	case f.raw:
		f.state = stDone
	default:
		f.state = stTrailer
	}
}

// blockHeader decodes a block header, with its code tables for a dynamic
// block. It reports whether the block is an empty stored block, the mark
// of a sync or full flush.
func (f *inflater) blockHeader() (bool, error) {
	if !f.need(3) {
		return false, errTruncated
	}
	h := f.take(3)
	f.final = h&1 != 0
	switch h >> 1 {
	case 0:
		// RFC 1951 3.2.4: skip to a byte boundary, then LEN and NLEN.
		f.take(f.nbits & 7)
		if !f.need(32) {
			return false, errTruncated
		}
		n := f.take(16)
		if nn := f.take(16); n != ^nn&0xffff {
			return false, f.corrupt("stored block length %#04x does not match its complement %#04x", n, nn)
		}
		f.unread()
		f.stored = int(n)
		f.state = stStored
		if n == 0 {
			// An empty stored block marks a sync or full flush, where
			// the peer may stop; the final one (how Go's and
			// klauspost's writers Close) is followed by the trailer
			// and is not.
			last := f.final
			f.endBlock()
			return !last, nil
		}
	case 1:
		f.lit, f.dist = fixedLit, fixedDist
		f.state = stHuff
	case 2:
		if err := f.dynamic(); err != nil {
			return false, err
		}
		f.state = stHuff
	default:
		return false, f.corrupt("invalid block type 3")
	}
	return false, nil
}

// dynamic reads the code tables of a dynamic block (RFC 1951 3.2.7).
func (f *inflater) dynamic() error {
	if !f.need(14) {
		return errTruncated
	}
	nlit := int(f.take(5)) + 257
	ndist := int(f.take(5)) + 1
	nclen := int(f.take(4)) + 4
	if nlit > 286 {
		return f.corrupt("%d literal/length codes, more than 286", nlit)
	}
	if ndist > 30 {
		return f.corrupt("%d distance codes, more than 30", ndist)
	}
	var cl [19]uint8
	for i := range nclen {
		if !f.need(3) {
			return errTruncated
		}
		cl[clOrder[i]] = uint8(f.take(3))
	}
	var ok bool
	if f.dynCL, ok = buildTable(f.dynCL, cl[:], clRoot); !ok {
		return f.corrupt("invalid code length code")
	}
	lens := f.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		s, err := f.sym(f.dynCL, clRoot)
		if err != nil {
			return err
		}
		if s < 16 {
			lens[i] = uint8(s)
			i++
			continue
		}
		var rep int
		var v uint8
		switch s {
		case 16:
			if i == 0 {
				return f.corrupt("code length repeat with no previous length")
			}
			if !f.need(2) {
				return errTruncated
			}
			rep, v = 3+int(f.take(2)), lens[i-1]
		case 17:
			if !f.need(3) {
				return errTruncated
			}
			rep = 3 + int(f.take(3))
		default:
			if !f.need(7) {
				return errTruncated
			}
			rep = 11 + int(f.take(7))
		}
		if i+rep > len(lens) {
			return f.corrupt("code length repeat past the %d codes", len(lens))
		}
		for range rep {
			lens[i] = v
			i++
		}
	}
	if lens[256] == 0 {
		return f.corrupt("no end-of-block code")
	}
	if f.dynLit, ok = buildTable(f.dynLit, lens[:nlit], litRoot); !ok {
		return f.corrupt("invalid literal/length code")
	}
	if f.dynDist, ok = buildTable(f.dynDist, lens[nlit:], distRoot); !ok {
		return f.corrupt("invalid distance code")
	}
	f.lit, f.dist = f.dynLit, f.dynDist
	return nil
}

// zlibHeader checks the two-byte zlib header (RFC 1950 2.2).
func (f *inflater) zlibHeader() error {
	if !f.need(16) {
		return errTruncated
	}
	cmf := f.take(8)
	flg := f.take(8)
	switch {
	case cmf&0x0f != 8:
		return f.corrupt("header: compression method %d, want 8 (deflate)", cmf&0x0f)
	case cmf>>4 > 7:
		return f.corrupt("header: window size 2^%d, more than 2^15", cmf>>4+8)
	case (cmf<<8|flg)%31 != 0:
		return f.corrupt("header: check bits fail (%#02x %#02x)", cmf, flg)
	case flg&0x20 != 0:
		return f.corrupt("header: preset dictionary")
	}
	f.state = stBlock
	return nil
}

// trailer checks the Adler-32 that ends a zlib stream (RFC 1950 2.2).
// run sums its output when it returns, so the output of the current run
// is added here.
func (f *inflater) trailer() error {
	f.take(f.nbits & 7)
	if !f.need(32) {
		return errTruncated
	}
	var b [4]byte
	for i := range b {
		b[i] = byte(f.take(8))
	}
	want := binary.BigEndian.Uint32(b[:])
	got := adler32(f.adler, f.win[f.runStart:f.wpos])
	if got != want {
		return f.corrupt("Adler-32 checksum mismatch: the data sums to %#08x, the stream says %#08x", got, want)
	}
	f.unread()
	f.state = stDone
	return nil
}

// adler32 updates the Adler-32 checksum a (RFC 1950 2.2) with p.
func adler32(a uint32, p []byte) uint32 {
	const mod = 65521
	// 5552 is the most bytes after which s2 cannot overflow 32 bits.
	const nmax = 5552
	s1, s2 := a&0xffff, a>>16
	for len(p) > 0 {
		q := p[:min(len(p), nmax)]
		p = p[len(q):]
		for _, c := range q {
			s1 += uint32(c)
			s2 += s1
		}
		s1 %= mod
		s2 %= mod
	}
	return s2<<16 | s1
}
