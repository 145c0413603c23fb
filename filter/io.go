package filter

import (
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

// A Reader reads records from an io.Reader through a [Stack]: the layered
// io.Reader face of the filters. It reads only when the Stack has no
// complete record, so the caller may change the Stack's layers between
// records (for example Unshift a [Zlib] after the line that announced
// compression) and the change applies from the next byte on.
type Reader struct {
	// ReadSize is the size of the read buffer, allocated on the first read.
	// Zero means [DefaultReadSize] (64 KiB). Set it before the first Next.
	ReadSize int

	r     io.Reader
	s     *Stack
	buf   []byte
	err   error // the read error, returned once the Stack is drained
	empty int
}

// NewReader returns a Reader that decodes what it reads from r with s.
func NewReader(r io.Reader, s *Stack) *Reader { return &Reader{r: r, s: s} }

// Stack returns the Stack the Reader decodes with.
func (r *Reader) Stack() *Stack { return r.s }

// Next returns the next record; it is valid until the next call to Next or
// a change of the Stack. A per-record error (see [IsRecordError]) spoils
// one record and the next call goes on. At the end of the input Next
// returns io.EOF, or io.ErrUnexpectedEOF if the Stack still held bytes of
// an incomplete record (they are dropped). A read error is returned once
// every complete record before it has been returned, and again by every
// later call, as is a fatal error of the Stack.
func (r *Reader) Next() ([]byte, error) {
	for {
		rec, ok, err := r.s.Next()
		if ok {
			return rec, nil
		}
		if err != nil {
			return nil, err
		}
		if r.err != nil {
			if r.err == io.EOF && len(r.s.Pending()) > 0 {
				r.err = io.ErrUnexpectedEOF
			}
			return nil, r.err
		}
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
}

// A Writer writes records to an io.Writer through a [Stack]: the layered
// io.Writer face of the filters. Each call to Write is one record. Output
// is buffered until Flush (which also flushes the layers, such as a
// [Zlib]'s sync flush) or until the buffer passes BufferSize.
type Writer struct {
	// BufferSize is how much encoded output the Writer buffers before it
	// writes it out without waiting for Flush (the layers are not flushed
	// then). Zero means [DefaultReadSize] (64 KiB).
	BufferSize int

	w   io.Writer
	s   *Stack
	buf []byte
	err error
}

// NewWriter returns a Writer that encodes records with s and writes the
// result to w.
func NewWriter(w io.Writer, s *Stack) *Writer { return &Writer{w: w, s: s} }

// Stack returns the Stack the Writer encodes with. Change its layers only
// right after a Flush, so that each peer-visible switch point is a flush
// point.
func (w *Writer) Stack() *Stack { return w.s }

// Write encodes rec as one record. It returns len(rec) on success. A
// per-record error (see [IsRecordError]) means rec was not written and the
// Writer goes on; any other error is sticky.
func (w *Writer) Write(rec []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	out, err := w.s.Put(w.buf, rec)
	w.buf = out
	if err != nil {
		if !IsRecordError(err) {
			w.err = err
		}
		return 0, err
	}
	max := w.BufferSize
	if max <= 0 {
		max = DefaultReadSize
	}
	if len(w.buf) >= max {
		if err := w.writeOut(); err != nil {
			return 0, err
		}
	}
	return len(rec), nil
}

// Flush flushes the Stack and writes all buffered output to the underlying
// io.Writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	out, err := w.s.Flush(w.buf)
	w.buf = out
	if err != nil {
		w.err = err
		return err
	}
	return w.writeOut()
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
	r     *Reader
	codec IRCv3
}

// NewMessageReader returns a MessageReader over r that splits records with
// s and decodes them with codec.
func NewMessageReader(r io.Reader, s *Stack, codec IRCv3) *MessageReader {
	return &MessageReader{r: NewReader(r, s), codec: codec}
}

// Reader returns the underlying record Reader (for its ReadSize and Stack).
func (m *MessageReader) Reader() *Reader { return m.r }

// ReadMessage returns the next message. Empty lines are skipped, as RFC
// 1459 (2.3.1) asks: "Empty messages are silently ignored". A malformed
// line or a per-record error of the Stack is returned as a per-record error
// (see [IsRecordError]) and the next call goes on; the end of input and
// fatal errors are as for [Reader.Next].
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
// cannot be encoded is a per-record error and nothing is written.
func (m *MessageWriter) WriteMessage(msg *ircmsg.Message) error {
	line, err := m.codec.Encode(m.line[:0], msg)
	m.line = line[:0]
	if err != nil {
		return err
	}
	_, err = m.w.Write(line)
	return err
}

// Flush flushes the Stack and writes all buffered output.
func (m *MessageWriter) Flush() error { return m.w.Flush() }
