package filter

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ircsock/ircsock/ircmsg"
)

// DefaultReadSize is the read buffer size of a [Reader] whose ReadSize is
// zero, and the output a [Writer] buffers before writing when its
// BufferSize is zero.
const DefaultReadSize = 64 << 10

// maxEmptyReads is how many (0, nil) reads in a row a Reader tolerates
// before it gives up with io.ErrNoProgress, as bufio does.
const maxEmptyReads = 100

// ErrWriterClosed is what [Writer.Write], [Writer.WriteRecord] and
// [Writer.Flush] return after [Writer.Close]. It is sticky.
var ErrWriterClosed = errors.New("filter: Writer is closed")

// linesOnTop reports whether the top layer of s frames records as lines
// (a [Line], or a nested Stack whose top layer is one), and returns it.
// With any other top layer, or none, records are pieces of a byte stream.
func linesOnTop(s *Stack) *Line {
	for {
		if len(s.layers) == 0 {
			return nil
		}
		switch top := s.layers[len(s.layers)-1].(type) {
		case *Line:
			return top
		case *Stack:
			s = top
		default:
			return nil
		}
	}
}

// A Reader reads through a [Stack] from an io.Reader: the io face of the
// filters. Use [Reader.Next] for one record per call, or use the Reader
// itself as an io.Reader ([Reader.Read]) over the decoded stream; mixing
// the two is allowed, Read going on after the last record Next returned.
//
// The Reader reads from the underlying io.Reader only when the Stack has
// no complete record, so the caller may change the Stack's layers between
// records (for example Unshift a [Zlib] after the line that announced
// compression, or Shift it out after the last compressed line) and the
// change applies from the next byte on.
//
// # The end of the input
//
// When the underlying reader returns io.EOF, the Reader first returns every
// complete record, then settles what the layers still hold:
//   - a [Line] on top with an unterminated last line: that line is returned
//     as a last record (a trailing CR is dropped, as bufio.ScanLines does),
//     then io.EOF;
//   - a [Zlib] whose stream has not ended (cut inside a block, or never
//     finished with its final block and Adler-32, like an IRC link that
//     just closes), or any other layer still holding bytes of an
//     incomplete record: an error that errors.Is io.ErrUnexpectedEOF and
//     names the layer;
//   - a Zlib with bytes after the end of its stream: an error wrapping
//     [ErrZlibStreamEnd] that gives their number (Shift the Zlib out to
//     read them as what follows the stream);
//   - otherwise io.EOF.
//
// A layer's error comes back as it is, wrapped with the layer's index (see
// [Stack]): [ErrLineTooLong] is per-record (see [IsRecordError]) and the
// next call goes on; [ErrZlibCorrupt] (a bad block, or an Adler-32 that
// does not match, which the text names), [ErrInflateLimit] and
// [ErrZlibStreamEnd] are fatal. ErrZlibStreamEnd is returned only when
// bytes follow the end of the zlib stream; a stream that ends together
// with the input is simply io.EOF. A read error of the underlying reader
// (io.ErrNoProgress after 100 reads in a row that return nothing) is
// returned once every complete record before it has been returned. Fatal
// errors, io.EOF and io.ErrUnexpectedEOF are sticky: every later call
// returns them again.
type Reader struct {
	// ReadSize is the size of the read buffer, allocated on the first read.
	// Zero means [DefaultReadSize] (64 KiB). Set it before the first read.
	ReadSize int

	r     io.Reader
	s     *Stack
	buf   []byte
	err   error // the read error, acted on once the Stack is drained
	empty int
	end   error // what every call returns once the end is settled

	// Read's state: the rest of a record that did not fit, whether an LF
	// is still owed after it, and a per-record error to return next.
	part    []byte
	partBuf []byte
	lf      bool
	perr    error
}

// NewReader returns a Reader that decodes what it reads from r with s.
func NewReader(r io.Reader, s *Stack) *Reader { return &Reader{r: r, s: s} }

// Stack returns the Stack the Reader decodes with.
func (r *Reader) Stack() *Stack { return r.s }

// Next returns the next record; it is valid until the next call to Next or
// Read, or a change of the Stack. The errors, and the end of the input,
// are as described on [Reader].
func (r *Reader) Next() ([]byte, error) {
	for {
		if r.end != nil {
			return nil, r.end
		}
		rec, ok, err := r.s.Next()
		if ok {
			return rec, nil
		}
		if err != nil {
			if IsRecordError(err) || !errors.Is(err, ErrZlibStreamEnd) {
				return nil, err
			}
			// The zlib stream ended. Bytes after it are the caller's
			// to deal with; if none are here, only more input tells
			// whether the input ends here too.
			if r.s.bufferedAfterEnd() {
				return nil, err
			}
			if r.err == nil {
				r.fill()
				continue
			}
		}
		if r.err != nil {
			if r.err != io.EOF {
				return nil, r.err
			}
			last, err := r.s.endOfInput()
			r.end = io.EOF
			switch {
			case err != nil && IsRecordError(err):
				return nil, err
			case err != nil:
				r.end = err
				return nil, err
			case last != nil:
				return last, nil
			}
			return nil, io.EOF
		}
		r.fill()
	}
}

// fill reads once from the underlying reader into the Stack. The Stack has
// no complete record and no layer refers to the read buffer any more.
func (r *Reader) fill() {
	if r.buf == nil {
		n := r.ReadSize
		if n <= 0 {
			n = DefaultReadSize
		}
		r.buf = make([]byte, n)
	}
	n, err := r.r.Read(r.buf)
	if n > 0 {
		r.empty = 0
		r.s.Feed(r.buf[:n])
	} else if err == nil {
		if r.empty++; r.empty >= maxEmptyReads {
			err = io.ErrNoProgress
		}
	}
	if err != nil {
		r.err = err
	}
}

// Read reads the decoded stream, making *Reader an io.Reader: with a [Line]
// on top of the Stack, each record followed by LF (so bufio.Scanner,
// io.Copy and io.ReadAll see lines); with a byte layer on top (a [Zlib],
// or an empty Stack), the decoded bytes as they are. It reads from the
// underlying reader only when it has copied nothing yet, so it returns
// what is decoded without waiting for more.
//
// Read returns io.EOF at the end, and the other errors described on
// [Reader]. A per-record error (see [IsRecordError]) drops one record and
// is returned on its own (n == 0); a later Read goes on with the next
// record, though io.ReadAll and bufio.Scanner stop at it.
func (r *Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.part) > 0 {
			k := copy(p[n:], r.part)
			r.part = r.part[k:]
			n += k
			continue
		}
		if r.lf {
			p[n] = '\n'
			n++
			r.lf = false
			continue
		}
		if r.perr != nil {
			if n > 0 {
				break
			}
			err := r.perr
			r.perr = nil
			return 0, err
		}
		var rec []byte
		var err error
		if n == 0 {
			rec, err = r.Next()
		} else {
			// Only what the Stack already holds: do not block with
			// bytes in hand. An error other than a per-record one is
			// sticky, so the next call meets it again.
			var ok bool
			rec, ok, err = r.s.Next()
			if !ok && err == nil {
				break
			}
			if err != nil && !IsRecordError(err) {
				break
			}
		}
		if err != nil {
			if n > 0 {
				r.perr = err
				break
			}
			return 0, err
		}
		k := copy(p[n:], rec)
		n += k
		if k < len(rec) {
			// The rest is kept in a buffer of the Reader's own: the
			// record is only valid until the Stack changes.
			r.partBuf = append(r.partBuf[:0], rec[k:]...)
			r.part = r.partBuf
		}
		r.lf = linesOnTop(r.s) != nil
	}
	return n, nil
}

// A Writer writes through a [Stack] to an io.Writer: the io face of the
// filters, an io.WriteCloser over the byte stream above the Stack's top
// layer. Encoded output is buffered until [Writer.Flush] (which also
// flushes the layers, such as a [Zlib]'s sync flush), until the buffer
// passes BufferSize, or until [Writer.Close].
//
// With a [Line] on top, [Writer.Write] frames its bytes at line ends (LF
// or CR LF, the rule Line reads by) and carries an unterminated tail over
// to the next Write; with a byte layer on top (a [Zlib], or an empty
// Stack) the bytes go straight through. Either way, any split of the same
// bytes into Writes gives the same output, so io.Copy, fmt.Fprintf and
// bufio.Writer work on it. [Writer.WriteRecord] writes one record per
// call.
//
// Errors: a per-record error (see [IsRecordError]: [ErrLineBreak] for a
// record with CR or LF inside it, [ErrLineTooLong] for a line Write
// carries longer than the top Line's Max) drops one record and the Writer
// goes on. Any other error is sticky: a write error of the underlying
// writer (io.ErrShortWrite for a short write with no error), an error of
// a layer wrapped with its index ([ErrZlibLevel]; [ErrZlibFinished] if the
// Stack was finished behind the Writer's back; a compressor failure), or
// [ErrWriterClosed] after Close.
type Writer struct {
	// BufferSize is how much encoded output the Writer buffers before it
	// writes it out without waiting for Flush (the layers are not flushed
	// then). Zero means [DefaultReadSize] (64 KiB).
	BufferSize int

	w      io.Writer
	s      *Stack
	buf    []byte
	err    error
	closed bool

	tail []byte // Write: the start of a line whose end has not come yet
	skip bool   // Write: dropping the rest of a line that was too long
}

var _ io.WriteCloser = (*Writer)(nil)

// NewWriter returns a Writer that encodes with s and writes the result to
// w.
func NewWriter(w io.Writer, s *Stack) *Writer { return &Writer{w: w, s: s} }

// Stack returns the Stack the Writer encodes with. Change its layers only
// right after a Flush, so that each peer-visible switch point is a flush
// point; a partial line that Write carries is not written by Flush and
// goes through the new layers.
func (w *Writer) Stack() *Stack { return w.s }

// Write writes p as a piece of the byte stream above the Stack's top
// layer; see [Writer] for how a Line on top frames it. It returns len(p)
// and a nil error when every complete line in p was written (a trailing
// partial line is carried, not written, until its end arrives or Close).
// On a per-record error n counts the bytes up to the end of the dropped
// line, and the caller may go on with p[n:]. On a fatal error n counts the
// lines written before it.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.sticky(); err != nil {
		return 0, err
	}
	l := linesOnTop(w.s)
	if l == nil {
		if err := w.WriteRecord(p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	max := l.max()
	n := 0
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			n += len(p)
			if w.skip {
				return n, nil
			}
			if len(w.tail)+len(p) > max+1 {
				// Too long even if it ends with the CR of a CR LF.
				w.tail, w.skip = w.tail[:0], true
				return n, l.tooLong()
			}
			w.tail = append(w.tail, p...)
			return n, nil
		}
		line := p[:i]
		p = p[i+1:]
		if w.skip {
			w.skip = false
			n += i + 1
			continue
		}
		if len(w.tail) > 0 {
			w.tail = append(w.tail, line...)
			line = w.tail
		}
		err := w.writeLine(l, line)
		w.tail = w.tail[:0]
		if err != nil && !IsRecordError(err) {
			return n, err
		}
		n += i + 1
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// writeLine writes one line Write framed, without its LF.
func (w *Writer) writeLine(l *Line, line []byte) error {
	if k := len(line); k > 0 && line[k-1] == '\r' {
		line = line[:k-1]
	}
	if len(line) > l.max() {
		return l.tooLong()
	}
	return w.WriteRecord(line)
}

// WriteRecord encodes rec as one record: one line with a [Line] on top (a
// record containing CR or LF is the per-record [ErrLineBreak], and nothing
// is written). A partial line that Write carries stays carried. The errors
// are as described on [Writer].
func (w *Writer) WriteRecord(rec []byte) error {
	if err := w.sticky(); err != nil {
		return err
	}
	out, err := w.s.Put(w.buf, rec)
	w.buf = out
	if err != nil {
		if !IsRecordError(err) {
			w.err = err
		}
		return err
	}
	max := w.BufferSize
	if max <= 0 {
		max = DefaultReadSize
	}
	if len(w.buf) >= max {
		return w.writeOut()
	}
	return nil
}

func (w *Writer) sticky() error {
	if w.closed {
		return ErrWriterClosed
	}
	return w.err
}

// Flush flushes the Stack and writes all buffered output to the underlying
// io.Writer. A partial line that Write carries is not written. The errors
// are as described on [Writer].
func (w *Writer) Flush() error {
	if err := w.sticky(); err != nil {
		return err
	}
	out, err := w.s.Flush(w.buf)
	w.buf = out
	if err != nil {
		w.err = err
		return err
	}
	return w.writeOut()
}

// Close ends the stream: it writes a partial line that Write carries as a
// last record, ends every layer (a [Zlib] writes its final block and
// Adler-32; see [Finisher]), and writes all buffered output to the
// underlying io.Writer, which it does not close. After Close, Write,
// WriteRecord and Flush return [ErrWriterClosed]; Close itself returns
// the same result again. A per-record error of the last line is returned,
// but the layers are ended all the same.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	var first error
	if w.err == nil && (len(w.tail) > 0 || w.skip) {
		if l := linesOnTop(w.s); l != nil && !w.skip {
			first = w.writeLine(l, w.tail)
		} else if l == nil {
			first = w.WriteRecord(w.tail)
		}
	}
	w.tail, w.skip = nil, false
	if w.err == nil {
		out, err := w.s.Finish(w.buf)
		w.buf = out
		if err != nil {
			w.err = err
		} else {
			w.writeOut()
		}
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	return first
}

func (w *Writer) writeOut() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.w.Write(w.buf)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
		return err
	}
	if cap(w.buf) > 4*DefaultReadSize {
		w.buf = nil // do not keep the high-water mark of a huge record
	} else {
		w.buf = w.buf[:0]
	}
	return nil
}

// A MessageReader reads IRC messages: records of a [Stack] (normally ending
// in a [Line]) decoded with an [IRCv3] codec.
type MessageReader struct {
	r      *Reader
	codec  IRCv3
	parser ircmsg.Parser // ReadInto's, with codec's limits
}

// NewMessageReader returns a MessageReader over r that splits records with
// s and decodes them with codec.
func NewMessageReader(r io.Reader, s *Stack, codec IRCv3) *MessageReader {
	return &MessageReader{r: NewReader(r, s), codec: codec, parser: ircmsg.Parser{Limits: codec.Format.Limits}}
}

// Reader returns the underlying record Reader (for its ReadSize and Stack).
func (m *MessageReader) Reader() *Reader { return m.r }

// ReadMessage returns the next message. Empty lines are skipped, as RFC
// 1459 (2.3.1) asks: "Empty messages are silently ignored". A malformed
// line or a per-record error of the Stack is returned as a per-record error
// (see [IsRecordError]) and the next call goes on; the end of input and
// the other errors are those of [Reader].
func (m *MessageReader) ReadMessage() (*ircmsg.Message, error) {
	for {
		rec, err := m.r.Next()
		if err != nil {
			return nil, err
		}
		if len(rec) == 0 {
			continue
		}
		return m.codec.Decode(rec)
	}
}

// ReadInto reads the next message into m, reusing m's slices, and skips
// empty lines and reports errors as [MessageReader.ReadMessage] does; on
// error m is left empty. It allocates nothing per message once its buffer
// has grown to the longest line (see [ircmsg.Parser], which it uses): m's
// strings share that buffer and are valid only until the next call to
// ReadInto. To keep a message or a string of it past that call, copy it
// ([ircmsg.Message.DeepClone], [strings.Clone]); ReadMessage returns
// messages that need no copy, for one allocation each.
func (m *MessageReader) ReadInto(msg *ircmsg.Message) error {
	for {
		rec, err := m.r.Next()
		if err != nil {
			msg.Tags, msg.Params = msg.Tags[:0], msg.Params[:0]
			msg.Source, msg.Command = "", ""
			return err
		}
		if len(rec) == 0 {
			continue
		}
		if err := m.parser.Parse(msg, rec); err != nil {
			return &RecordError{Err: err}
		}
		return nil
	}
}

// A MessageWriter writes IRC messages encoded with an [IRCv3] codec as
// records of a [Stack] (normally ending in a [Line]).
type MessageWriter struct {
	w     *Writer
	codec IRCv3
	line  []byte
}

// NewMessageWriter returns a MessageWriter that encodes messages with codec
// and writes them through s to w.
func NewMessageWriter(w io.Writer, s *Stack, codec IRCv3) *MessageWriter {
	return &MessageWriter{w: NewWriter(w, s), codec: codec}
}

// Writer returns the underlying record Writer (for its BufferSize and
// Stack).
func (m *MessageWriter) Writer() *Writer { return m.w }

// WriteMessage encodes msg and writes it as one record. A message that
// cannot be encoded is a per-record error and nothing is written; the
// other errors are those of [Writer].
func (m *MessageWriter) WriteMessage(msg *ircmsg.Message) error {
	line, err := m.codec.Encode(m.line[:0], msg)
	m.line = line[:0]
	if err != nil {
		return err
	}
	return m.w.WriteRecord(line)
}

// Flush flushes the Stack and writes all buffered output.
func (m *MessageWriter) Flush() error { return m.w.Flush() }

// Close ends the stream as [Writer.Close] does, without closing the
// underlying io.Writer.
func (m *MessageWriter) Close() error { return m.w.Close() }

// errUnexpectedEOF builds the error of a layer cut short by the end of
// the input.
func errUnexpectedEOF(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), io.ErrUnexpectedEOF)
}
