package filter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	kflate "github.com/klauspost/compress/flate"
	kzlib "github.com/klauspost/compress/zlib"
)

// Errors of [Zlib]. All are fatal and sticky: once Next (or Put) has
// returned one, it returns it again on every later call.
var (
	// ErrZlibCorrupt means the compressed input is not a valid zlib
	// stream: a bad header, a bad block, a code or distance that cannot
	// be, or an Adler-32 mismatch. Next wraps it with what was wrong and
	// the offset of the bad byte in the compressed stream.
	ErrZlibCorrupt = errors.New("filter: zlib stream corrupt")

	// ErrZlibStreamEnd means the peer finished its zlib stream (a final
	// block and the Adler-32 trailer) and all its output has been
	// returned. Real IRC peers never finish the stream of a live link, so
	// this ends it, unless the caller expected it: the bytes after the
	// trailer are then available from Pending (for example plaintext, to
	// be read after shifting the Zlib layer out of a Stack).
	ErrZlibStreamEnd = errors.New("filter: zlib stream ended")

	// ErrZlibFinished is what Put returns after [Zlib.Finish] ended the
	// write half's stream. It is fatal and sticky until [Zlib.Reset].
	ErrZlibFinished = errors.New("filter: zlib stream already finished")

	// ErrZlibLevel means [Zlib.Level] is not a level the compressor
	// accepts. The first Put (or Finish) returns it, wrapped with the
	// value; it is fatal and sticky.
	ErrZlibLevel = errors.New("filter: invalid zlib level")

	// ErrInflateLimit means the input inflates to more than [Zlib.MaxRatio]
	// allows: a decompression bomb, or a setting too small for the peer.
	// Next wraps it with the numbers.
	ErrInflateLimit = errors.New("filter: inflate limit exceeded")
)

// Zlib's fixed sizes.
const (
	// zlibChunk is the most output one call to Next returns. It bounds the
	// buffer of the layer above (a Line keeps a partial line, not a whole
	// burst) and the work done per call.
	zlibChunk = 16 << 10

	// zlibSlack is the output allowed beyond MaxRatio times the input,
	// so that a short burst of very repetitive lines is never refused.
	zlibSlack = 64 << 10

	// DefaultMaxRatio is the inflate limit used when [Zlib.MaxRatio] is
	// zero. IRC traffic deflates 3 to 10 times; deflate itself cannot
	// exceed about 1032 times, which is what a bomb of zeros reaches.
	DefaultMaxRatio = 256
)

// Zlib is the zlib compression layer of a link (POE::Filter::Zlib::Stream):
// one zlib stream (RFC 1950 framing around RFC 1951 deflate) in each
// direction for the life of the link. The zero value is ready to use, with
// the default level and inflate limit. The two halves are independent and
// each allocates its state on first use, so a Zlib that only reads (or only
// writes) costs nothing for the other direction, and one that does neither
// costs the size of the struct. One Zlib is used from one goroutine at a
// time.
//
// # Writing
//
// Put compresses a record into the stream; the compressor may hold output
// back. Flush ends the batch with a Z_SYNC_FLUSH (an empty stored block,
// 00 00 ff ff), after which the peer can decode every record put so far.
// A live link's stream is never finished: real peers (ngircd) drop a link
// whose stream ends. [Zlib.Finish] (which [Writer.Close] calls) ends it
// with a final block and the Adler-32, for a stream that stops, such as
// a file. Compression uses github.com/klauspost/compress.
//
// # Reading
//
// Feed accepts the compressed stream split at any byte, from peers that
// sync-flush, full-flush, partial-flush (Z_PARTIAL_FLUSH leaves an empty
// fixed block that ends mid-byte) or do not flush within a burst. The
// inflater is resumable and has no goroutine: when the input ends in the
// middle of a block, Next returns what it has inflated and continues from
// there after the next Feed.
//
// Next returns the inflated bytes in chunks of at most 16 KiB; a chunk
// aliases the decoder's window and is valid until the next call to Feed,
// Next, Pending or Reset. The decoder never keeps inflated output between
// calls: what it has inflated, it returns. It also stops at every flush
// point: once it has consumed a sync or full flush marker (an empty stored
// block), Next returns the output before it and reads no further until it
// is called again; the chunk is empty if the marker came first. So when a
// Stack's line framer yields the last line a peer sent before it stopped
// compressing, and the flush marker after that line had arrived, the Zlib
// layer has consumed exactly up to the marker and Pending returns exactly
// the bytes after it. If the marker had not fully arrived, the line came
// out with the input that ended before it; [Zlib.Synced] then reports
// false, and the caller can feed what follows and call Next until Synced
// reports true (Next returns an empty chunk at the marker), then take
// Pending: [Stack.Shift] does this.
//
// The empty stored block of a sync or full flush is a flush point; the
// final empty stored block with which Go's and klauspost's writers end a
// stream is not (the Adler-32 still follows it). A finished stream (a
// final block and the Adler-32 trailer) is not followed by a new one: once all its output has been returned, Next
// returns [ErrZlibStreamEnd] and Pending returns exactly the bytes after
// the trailer. A corrupt stream is [ErrZlibCorrupt]; too much output for
// the input is [ErrInflateLimit]. All three are fatal and sticky; any
// output decoded before the error is returned first.
//
// Pending returns the compressed bytes fed but not consumed and forgets
// them. The inflater's state (window, current block, and up to 7 bits of a
// partly consumed byte) is kept, so feeding the result back continues the
// stream exactly.
//
// # Memory
//
// The decoder's state, allocated on the first Feed, is a 32 KiB window
// that is also the output buffer, the Huffman tables, and a
// copy of at most one partial unit of input (under 600 bytes, plus up to
// 1 KiB that Feed stitches to it) once Next has asked for more input; it
// allocates nothing per chunk after that. The encoder is klauspost's zlib
// writer, allocated on the first Put (its size grows with the level; see
// BENCHMARKS.md), and nothing per Put or Flush after that. [Zlib.Reset]
// releases both.
type Zlib struct {
	// Level is the compression level of the write half: 1 (fastest) to 9
	// (smallest output). Zero means the default, level 5 of
	// klauspost/compress (its DefaultCompression). A value klauspost does
	// not accept makes the first Put fail.
	Level int

	// MaxRatio is the inflate limit: the decoder produces at most
	// MaxRatio bytes of output per byte of compressed input fed, plus 64
	// KiB, counted over the life of the stream. Going past it is
	// [ErrInflateLimit]. Zero means [DefaultMaxRatio] (256); a negative
	// value means no limit. Memory does not depend on it (output is
	// streamed in chunks); it bounds the work a peer can make the reader
	// do for each byte it sends. Legitimate IRC traffic stays well below
	// the default, and a bomb of zeros far above it: TestZlibLegitBursts
	// checks both, and BENCHMARKS.md lists the ratios it sees.
	MaxRatio int

	// LowMemory makes the write half keep only the last 8 KiB of the
	// stream as its history and compress each batch at Flush with
	// klauspost's stateless deflate, whose working memory is pooled and
	// shared: 8 KiB of history plus the buffer of the largest batch,
	// instead of the whole state of a streaming compressor, for a ratio
	// close to level 1's and one allocation per Flush (BENCHMARKS.md has
	// the figures of TestZlibLowMemorySmall and BenchmarkZlibDeflate).
	// Put then only appends the record to the pending batch. Level is
	// ignored. Set it before the first Put.
	LowMemory bool

	dec  *inflater
	derr error // sticky decoder error
	fed  int64 // compressed bytes fed and not handed back

	enc *deflater
}

var _ Filter = (*Zlib)(nil)

// NewZlib returns a Zlib with the default settings, the same as a zero
// Zlib.
func NewZlib() *Zlib { return &Zlib{} }

// Feed adds compressed input. The decoder may keep a reference to p until
// Next returns ok == false with a nil error, or until Pending is called;
// then it copies at most one partial unit of input.
func (z *Zlib) Feed(p []byte) {
	if len(p) == 0 {
		return
	}
	if z.dec == nil {
		z.dec = newInflater(false)
	}
	z.fed += int64(len(p))
	z.dec.feed(p)
}

// Next returns the next chunk of inflated output:
//   - rec, true, nil: up to 16 KiB of output, valid until the next call to
//     Feed, Next, Pending or Reset. A chunk ends where the input ran out,
//     at a flush marker, or at the size limit; it has no other meaning
//     (records of the layer above may span chunks). It is empty only when
//     a flush marker was consumed with no output before it.
//   - nil, false, nil: all input is consumed (or the rest is an
//     incomplete piece of the stream); Feed more.
//   - nil, false, err: [ErrZlibCorrupt], [ErrZlibStreamEnd] or
//     [ErrInflateLimit], possibly wrapped; fatal and sticky.
func (z *Zlib) Next() ([]byte, bool, error) {
	if z.derr != nil {
		return nil, false, z.derr
	}
	f := z.dec
	if f == nil {
		return nil, false, nil
	}
	max := zlibChunk
	limited := false
	ratio := int64(z.MaxRatio)
	if ratio >= 0 {
		if ratio == 0 {
			ratio = DefaultMaxRatio
		}
		allow := ratio*z.fed + zlibSlack
		if room := allow - f.total; room < int64(max) {
			max, limited = int(room), true
			if room < 0 {
				max = 0
			}
		}
	}
	out, st := f.run(max)
	switch st {
	case runErr:
		z.derr = f.err
	case runEnd:
		z.derr = ErrZlibStreamEnd
	case runFull:
		if len(out) == 0 && limited {
			z.derr = fmt.Errorf("%w: %d bytes inflated from %d compressed, more than %d per byte plus %d (Zlib.MaxRatio)",
				ErrInflateLimit, f.total, z.fed, ratio, zlibSlack)
		}
	case runMore:
		if len(out) == 0 {
			f.detach()
			return nil, false, nil
		}
	case runFlush:
		return out, true, nil // possibly empty: see the type's doc
	}
	if len(out) > 0 {
		return out, true, nil
	}
	if z.derr == nil {
		// A full run with no output and no limit cannot happen (the
		// window always has room at the start of a run); report it
		// rather than loop.
		z.derr = fmt.Errorf("%w: inflater made no progress", ErrZlibCorrupt)
	}
	return nil, false, z.derr
}

// Pending returns the compressed bytes fed but not consumed and forgets
// them; the result is valid until the next call to Feed. After
// [ErrZlibStreamEnd] they are exactly the bytes after the trailer. The
// decoding state is kept: feeding the bytes back continues the stream.
func (z *Zlib) Pending() []byte {
	if z.dec == nil {
		return nil
	}
	p := z.dec.pending()
	z.fed -= int64(len(p))
	return p
}

// Synced reports whether the decoder stands where the peer's compressed
// data may stop: before any input was fed, right after a sync or full flush
// marker, or after the end of the stream (its Adler-32 read and checked).
// It is false everywhere else: inside a block, after a Z_PARTIAL_FLUSH
// (which leaves a partial byte), inside the final block (the empty stored
// block of Go's Close, or zlib's 03 00) and inside the checksum, and also
// right after a flush marker when the bytes fed after it begin such an
// empty final block or another flush marker. Only when it is true after a flush marker does
// Pending hold exactly what the peer sent after its compressed data, and
// then only if the peer does not go on to finish the stream with bytes
// not yet fed: [Stack.Shift] settles that by reading what follows.
func (z *Zlib) Synced() bool {
	f := z.dec
	if f == nil {
		return true
	}
	if f.atFlush {
		// Not if the bytes after the marker begin the stream's ending.
		var b [5]byte
		return z.finishAhead(f.peek(b[:0])) < 0 || f.buffered() == 0
	}
	return f.state == stDone || (f.state == stHeader && f.consumed() == 0 && f.buffered() == 0)
}

// finishAhead implements finishProber: right after a flush marker, does
// p begin an empty final block (so that only the Adler-32 is left), or
// another flush marker (a peer that flushes twice, as Go's zlib.Writer
// does when asked)? The forms real writers produce are recognized: the
// fixed block 03 00 of zlib's deflate(Z_FINISH) with no data left, the
// stored block 01 00 00 ff ff of Go's and klauspost's Close after a
// Flush, and the marker 00 00 00 ff ff itself. None of them can begin an
// IRC line.
func (z *Zlib) finishAhead(p []byte) int {
	f := z.dec
	if f == nil || !f.atFlush || f.state != stBlock || z.derr != nil {
		return -1
	}
	for _, end := range zlibEnds {
		if bytes.HasPrefix(p, end) {
			return len(end)
		}
		if bytes.HasPrefix(end, p) {
			return 0
		}
	}
	return -1
}

// zlibEnds are the byte-aligned empty blocks a peer may send after a
// flush marker and before it stops: see finishAhead.
var zlibEnds = [][]byte{{0x03, 0x00}, {0x01, 0x00, 0x00, 0xff, 0xff}, {0x00, 0x00, 0x00, 0xff, 0xff}}

// buffered returns how many compressed bytes are fed and not consumed.
func (z *Zlib) buffered() int {
	if z.dec == nil {
		return 0
	}
	return z.dec.buffered()
}

// endErr says what is wrong, if anything, with the read half when the
// input has ended: a stream not finished (io.ErrUnexpectedEOF), or bytes
// after its end ([ErrZlibStreamEnd]).
func (z *Zlib) endErr() error {
	f := z.dec
	switch {
	case z.derr != nil && !errors.Is(z.derr, ErrZlibStreamEnd):
		return z.derr
	case f == nil:
		return errUnexpectedEOF("filter: zlib stream missing")
	case f.state != stDone:
		where := "inside a block"
		if z.Synced() {
			where = "at a flush point, never finished"
		} else if f.state == stTrailer {
			where = "inside its Adler-32 checksum"
		}
		return errUnexpectedEOF("filter: zlib stream cut short %s (%d bytes of it buffered)", where, f.buffered())
	case f.buffered() > 0:
		return fmt.Errorf("%w: %d bytes after its end", ErrZlibStreamEnd, f.buffered())
	}
	return nil
}

// Reset discards both streams and their memory, keeping the settings: the
// next Feed starts reading a new zlib stream, the next Put starts writing
// one. A Zlib can so be reused for another link, or release the memory of
// a link that stopped compressing.
func (z *Zlib) Reset() {
	z.dec, z.derr, z.fed, z.enc = nil, nil, 0, nil
}

// A deflater is the write half: klauspost's zlib writer appending to the
// buffer of the current call.
type deflater struct {
	w     *kzlib.Writer
	out   appendWriter
	err   error
	dirty bool // a Put since the last Flush
	done  bool // Finish has ended the stream

	// LowMemory: the batch put since the last Flush, and the end of the
	// stream's uncompressed bytes before it (the stateless dictionary).
	low     bool
	batch   []byte
	history []byte
	started bool   // the zlib header is written
	adler   uint32 // Adler-32 of every byte put, for Finish
}

// lowHistory is how much history stateless deflate can use.
const lowHistory = 8 << 10

// appendWriter is an io.Writer that appends to a slice: Put points it at
// the caller's dst, so compressed bytes are written there directly.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

func (z *Zlib) encoder() (*deflater, error) {
	if z.enc == nil && z.LowMemory {
		z.enc = &deflater{low: true, history: make([]byte, 0, lowHistory), adler: 1}
	}
	if z.enc == nil {
		level := z.Level
		if level == 0 {
			level = kzlib.DefaultCompression
		}
		d := &deflater{}
		w, err := kzlib.NewWriterLevel(&d.out, level)
		if err != nil {
			d.err = fmt.Errorf("%w: Zlib.Level %d: %w", ErrZlibLevel, z.Level, err)
		}
		d.w = w
		z.enc = d
	}
	return z.enc, z.enc.err
}

// Put compresses rec into the stream and appends whatever compressed
// output is ready to dst (possibly nothing: the compressor holds output
// back until Flush). Errors are sticky: [ErrZlibLevel] for an invalid
// Level, [ErrZlibFinished] after Finish, or a failure of the compressor.
func (z *Zlib) Put(dst, rec []byte) ([]byte, error) {
	d, err := z.encoder()
	if err != nil {
		return dst, err
	}
	if d.done {
		return dst, ErrZlibFinished
	}
	d.dirty = true
	if d.low {
		d.batch = append(d.batch, rec...)
		return dst, nil
	}
	d.out.b = dst
	_, err = d.w.Write(rec)
	dst, d.out.b = d.out.b, nil
	if err != nil {
		d.err = fmt.Errorf("filter: zlib compress: %w", err)
	}
	return dst, d.err
}

// Flush appends the compressed output held back and a Z_SYNC_FLUSH
// marker, so that the peer can decode every record put so far. With no
// Put since the last Flush (or none at all) there is nothing to flush, and
// it appends nothing: a second marker in a row would be read by a peer
// that stops decompressing at the first one as data after it.
func (z *Zlib) Flush(dst []byte) ([]byte, error) {
	d := z.enc
	if d == nil {
		return dst, nil
	}
	if d.err != nil || !d.dirty || d.done {
		return dst, d.err
	}
	d.dirty = false
	d.out.b = dst
	var err error
	if d.low {
		err = d.flushLow()
	} else {
		err = d.w.Flush()
	}
	dst, d.out.b = d.out.b, nil
	if err != nil {
		d.err = fmt.Errorf("filter: zlib flush: %w", err)
	}
	return dst, d.err
}

// Finish ends the write half's stream: it appends the compressed output
// held back, a final block and the Adler-32 of everything put (RFC 1950),
// so that the peer's decompressor (compress/zlib, Python's zlib) reaches
// the end of the stream with no error. A Zlib that was never put to
// writes a whole empty stream. After Finish, Put returns
// [ErrZlibFinished], and Flush and Finish append nothing; [Zlib.Reset]
// starts a new stream. A real IRC link never finishes its stream while
// it is up; [Writer.Close] calls Finish.
func (z *Zlib) Finish(dst []byte) ([]byte, error) {
	d, err := z.encoder()
	if err != nil || d.done {
		return dst, err
	}
	d.done, d.dirty = true, false
	d.out.b = dst
	if d.low {
		err = d.finishLow()
	} else {
		err = d.w.Close()
	}
	dst, d.out.b = d.out.b, nil
	if err != nil {
		d.err = fmt.Errorf("filter: zlib finish: %w", err)
	}
	return dst, d.err
}

var _ Finisher = (*Zlib)(nil)

// finishLow compresses the pending batch into a final block and appends
// the trailer.
func (d *deflater) finishLow() error {
	d.header()
	if err := kflate.StatelessDeflate(&d.out, d.batch, true, d.history); err != nil {
		return err
	}
	d.adler = adler32(d.adler, d.batch)
	d.out.b = binary.BigEndian.AppendUint32(d.out.b, d.adler)
	d.batch, d.history = nil, nil
	return nil
}

// header writes the zlib header once. RFC 1950: CM 8, CINFO 7 (32 KiB
// window), FLEVEL 0 (fastest), check bits making 0x7801 a multiple of 31.
func (d *deflater) header() {
	if !d.started {
		d.out.b = append(d.out.b, 0x78, 0x01)
		d.started = true
	}
}

// flushLow compresses the pending batch as a continuation of the stream:
// the history makes earlier bytes available to back-references, and
// StatelessDeflate with eof false ends with the empty stored block of a
// sync flush. The Adler-32 of the batch is added to the stream's, for
// Finish.
func (d *deflater) flushLow() error {
	d.header()
	if err := kflate.StatelessDeflate(&d.out, d.batch, false, d.history); err != nil {
		return err
	}
	d.adler = adler32(d.adler, d.batch)
	if keep := lowHistory - len(d.batch); keep <= 0 {
		d.history = append(d.history[:0], d.batch[len(d.batch)-lowHistory:]...)
	} else {
		if len(d.history) > keep {
			d.history = d.history[:copy(d.history, d.history[len(d.history)-keep:])]
		}
		d.history = append(d.history, d.batch...)
	}
	d.batch = d.batch[:0]
	if cap(d.batch) > 64<<10 {
		d.batch = nil // a rare huge batch: do not keep its memory
	}
	return nil
}
