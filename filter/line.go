package filter

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
)

// DefaultLineMax is the longest line a zero [Line] accepts, terminator
// excluded: 8191 bytes of IRCv3 tags (with the leading '@' and the space
// after them, IRCv3 message-tags) plus 510 bytes of message (RFC 1459's 512
// bytes less the CR LF). It matches the zero [ircmsg.Limits], so a line the
// framer passes is never refused for its size alone by the parser's tag and
// body limits together.
//
// [ircmsg.Limits]: https://pkg.go.dev/github.com/ircsock/ircsock/ircmsg#Limits
const DefaultLineMax = 8191 + 510

// ErrLineTooLong is the per-record error for an input line longer than
// [Line.Max]. The decoder reports it once per long line (wrapped in a
// [*RecordError], with the limit in the text), drops the line and resumes
// after its terminator.
var ErrLineTooLong = errors.New("filter: line too long")

// ErrLineBreak is the per-record error [Line.Put] returns for a record that
// contains CR or LF: writing it would end the line early and let the rest be
// read as another line (line injection). Nothing is written.
var ErrLineBreak = errors.New("filter: CR or LF inside a record")

// Line frames records as lines: POE::Filter::Line with the Backend's
// settings. On input a line ends at LF with an optional CR before it (the
// original's InputRegexp \r?\n), so a bare CR stays inside the line. On
// output each record is followed by CR LF.
//
// The zero value is ready to use. A Line with no partial line buffered holds
// no buffer at all, so an idle connection costs only the struct; a buffer
// grown by a long line is released as soon as the line is consumed. However
// long a flood without newlines runs, a Line buffers at most Max+1 bytes.
//
// Feed keeps a reference to the caller's chunk instead of copying it; only
// the partial line at the end of a chunk is copied, when Next runs out of
// complete lines.
type Line struct {
	// Max is the longest accepted line in bytes, terminator (LF or CR LF)
	// excluded. Zero or negative means [DefaultLineMax] (8701). A longer
	// line is a per-record [ErrLineTooLong]; Put does not check it.
	Max int

	buf []byte  // owned copy of a partial line (or of several chunks)
	pb  *[]byte // the pool holder buf came from, if any
	off int     // start of the unconsumed bytes in buf
	in  []byte  // unscanned rest of the caller's chunk (aliased), after buf
	// The flags last and together: a Line per connection is 80 bytes,
	// where flags between the slices made it 96.
	bufLF bool // buf[off:] may contain an LF (several Feeds without Next)
	held  bool // buf backs the slice Pending returned; keep it until Feed
	skip  bool // discarding the rest of a line already reported too long
}

var _ Filter = (*Line)(nil)

// lineBufSize is the capacity of pooled partial-line buffers. Bigger buffers
// (from long lines) go back to the garbage collector rather than the pool.
const lineBufSize = 1024

var lineBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, lineBufSize)
	return &b
}}

func (l *Line) max() int {
	if l.Max > 0 {
		return l.Max
	}
	return DefaultLineMax
}

func (l *Line) tooLong() error {
	return &RecordError{Err: fmt.Errorf("%w (Line.Max %d)", ErrLineTooLong, l.max())}
}

// release gives buf back: to the pool when it is of pool size, else to the
// garbage collector, so a long line does not pin its high-water mark.
func (l *Line) release() {
	if l.pb != nil && cap(l.buf) <= lineBufSize {
		*l.pb = l.buf[:0]
		lineBufs.Put(l.pb)
	}
	l.buf, l.pb, l.off, l.bufLF, l.held = nil, nil, 0, false, false
}

// settle releases buf once everything in it has been consumed, unless it
// backs the result of Pending (valid until the next Feed).
func (l *Line) settle(feeding bool) {
	if l.buf != nil && l.off == len(l.buf) && (feeding || !l.held) {
		l.release()
	}
}

// keep appends p to the owned buffer, compacting it first.
func (l *Line) keep(p []byte) {
	if l.buf == nil {
		l.pb = lineBufs.Get().(*[]byte)
		l.buf = (*l.pb)[:0]
	} else if l.off > 0 {
		n := copy(l.buf, l.buf[l.off:])
		l.buf, l.off = l.buf[:n], 0
	}
	l.buf = append(l.buf, p...)
}

// Feed adds a chunk of input. The Line keeps a reference to p until Next
// returns ok == false or Pending is called; p must not change before then.
// Feeding again before Next has returned ok == false copies the unscanned
// rest of the previous chunk.
func (l *Line) Feed(p []byte) {
	l.settle(true)
	l.held = false
	if len(p) == 0 {
		return
	}
	if len(l.in) > 0 {
		l.keep(l.in)
		l.bufLF = true
	}
	l.in = p
}

// Next returns the next line without its terminator; rec is valid until the
// next call to Feed, Next or Pending. A line longer than Max gives
// (nil, false, err) with err a [*RecordError] wrapping [ErrLineTooLong];
// the next call goes on after that line.
func (l *Line) Next() (rec []byte, ok bool, err error) {
	l.settle(false)
	if l.skip && !l.discard() {
		return nil, false, nil
	}
	max := l.max()
	if l.bufLF {
		b := l.buf[l.off:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l.off += i + 1
			return l.emit(b[:i], max)
		}
		l.bufLF = false
	}
	part := len(l.buf) - l.off
	if j := bytes.IndexByte(l.in, '\n'); j >= 0 {
		if part == 0 {
			rec, l.in = l.in[:j], l.in[j+1:]
			return l.emit(rec, max)
		}
		if part+j > max+1 { // too long even without a CR: do not copy it
			l.release()
			l.in = l.in[j+1:]
			return nil, false, l.tooLong()
		}
		l.keep(l.in[:j])
		rec, l.off, l.in = l.buf, len(l.buf), l.in[j+1:]
		return l.emit(rec, max)
	}
	// No complete line: keep the tail, unless it can no longer fit. Max+1
	// bytes still fit when the last one is a CR that an LF may follow.
	n := part + len(l.in)
	if n > max+1 || n == max+1 && l.last() != '\r' {
		l.release()
		l.in = nil
		l.skip = true
		return nil, false, l.tooLong()
	}
	if len(l.in) > 0 {
		l.keep(l.in)
	}
	// nil, not l.in[len(l.in):]: an empty slice at the end of p still
	// points into p's array, and would keep the caller's buffer (a wheel's
	// pooled read buffer) alive for as long as the Line waits for input.
	l.in = nil
	return nil, false, nil
}

// last returns the last unconsumed byte; there is at least one.
func (l *Line) last() byte {
	if len(l.in) > 0 {
		return l.in[len(l.in)-1]
	}
	return l.buf[len(l.buf)-1]
}

// emit strips the optional CR and checks the length.
func (l *Line) emit(rec []byte, max int) ([]byte, bool, error) {
	if n := len(rec); n > 0 && rec[n-1] == '\r' {
		rec = rec[:n-1]
	}
	if len(rec) > max {
		return nil, false, l.tooLong()
	}
	return rec, true, nil
}

// discard drops input up to and including the next LF. It reports whether
// it found one (and so left skip mode).
func (l *Line) discard() bool {
	if l.bufLF {
		if i := bytes.IndexByte(l.buf[l.off:], '\n'); i >= 0 {
			l.off += i + 1
			l.skip = false
			return true
		}
	}
	l.release()
	if j := bytes.IndexByte(l.in, '\n'); j >= 0 {
		l.in = l.in[j+1:]
		l.skip = false
		return true
	}
	l.in = nil
	return false
}

// Pending returns the unconsumed input (a partial line, or complete lines
// not yet returned by Next) and forgets it. The result is valid until the
// next call to Feed. If the Line is discarding the rest of a line already
// reported too long, it stays in that mode: the bytes fed next, up to an LF,
// still belong to that line.
func (l *Line) Pending() []byte {
	l.settle(true)
	var p []byte
	if l.off == len(l.buf) {
		p = l.in
	} else {
		if len(l.in) > 0 {
			l.keep(l.in)
		}
		p = l.buf[l.off:]
		l.off = len(l.buf)
		l.held = true
	}
	l.in, l.bufLF = nil, false
	return p
}

// Put appends rec and CR LF to dst. A record containing CR or LF is refused
// with a [*RecordError] wrapping [ErrLineBreak], and dst is returned
// unchanged.
func (l *Line) Put(dst, rec []byte) ([]byte, error) {
	i := bytes.IndexByte(rec, '\n')
	if j := bytes.IndexByte(rec, '\r'); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	if i >= 0 {
		return dst, &RecordError{Err: fmt.Errorf("%w (offset %d)", ErrLineBreak, i)}
	}
	dst = append(dst, rec...)
	return append(dst, '\r', '\n'), nil
}

// Flush returns dst unchanged: a Line holds no output back.
func (l *Line) Flush(dst []byte) ([]byte, error) { return dst, nil }
