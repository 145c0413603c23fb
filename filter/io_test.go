package filter

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ircsock/ircsock/ircmsg"
)

// chunkReader returns one chunk per Read (copying at most len(p) bytes),
// then io.EOF. It records the size of each Read's buffer.
type chunkReader struct {
	chunks [][]byte
	sizes  []int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	r.sizes = append(r.sizes, len(p))
	for len(r.chunks) > 0 && len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	return n, nil
}

// readAll reads records until an error that is not per-record.
func readAll(r *Reader) (recs []string, nbad int, err error) {
	for {
		rec, err := r.Next()
		if err != nil {
			if IsRecordError(err) {
				nbad++
				continue
			}
			return recs, nbad, err
		}
		recs = append(recs, string(rec))
	}
}

func TestReaderMatrix(t *testing.T) {
	wire := []byte("PING :1\r\nPRIVMSG #c :two\nTOOLONGLINE\r\n\r\nlast\r\n")
	want := []string{"PING :1", "", "last"}
	for _, c := range namedSplits(wire) {
		chunks := make([][]byte, len(c.chunks))
		copy(chunks, c.chunks)
		r := NewReader(&chunkReader{chunks: chunks}, NewStack(&Line{Max: 10}))
		got, nbad, err := readAll(r)
		if err != io.EOF || !slices.Equal(got, want) || nbad != 2 {
			t.Fatalf("%s: got %q, %d bad, %v; want %q, 2 bad, io.EOF", c.name, got, nbad, err, want)
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("%s: Next after EOF = %v, want io.EOF again", c.name, err)
		}
	}
}

func TestReaderEnds(t *testing.T) {
	errBoom := errors.New("boom")
	cases := []struct {
		name string
		r    io.Reader
		want []string
		err  error
	}{
		{name: "eof", r: strings.NewReader("a\r\nb\r\n"), want: []string{"a", "b"}, err: io.EOF},
		{name: "unterminated last line", r: strings.NewReader("a\r\nb"), want: []string{"a", "b"}, err: io.EOF},
		{name: "unterminated last line with CR", r: strings.NewReader("a\r\nb\r"), want: []string{"a", "b"}, err: io.EOF},
		{name: "one byte reads", r: iotest.OneByteReader(strings.NewReader("a\r\nb\r\n")), want: []string{"a", "b"}, err: io.EOF},
		{name: "data with eof", r: iotest.DataErrReader(strings.NewReader("a\r\nb\r\n")), want: []string{"a", "b"}, err: io.EOF},
		{name: "half reads", r: iotest.HalfReader(strings.NewReader("a\r\nbb\r\nccc\r\n")), want: []string{"a", "bb", "ccc"}, err: io.EOF},
		{name: "read error after data", r: io.MultiReader(strings.NewReader("a\r\nb\r\n"), iotest.ErrReader(errBoom)), want: []string{"a", "b"}, err: errBoom},
		{name: "no progress", r: zeroReader{}, err: io.ErrNoProgress},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.r, NewStack(&Line{}))
			got, _, err := readAll(r)
			if !errors.Is(err, tc.err) || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
			if _, again := r.Next(); !errors.Is(again, tc.err) {
				t.Fatalf("Next after the end = %v, want %v again", again, tc.err)
			}
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestReaderReadSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		want int
	}{
		{"default", 0, DefaultReadSize},
		{"small", 7, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := &chunkReader{chunks: [][]byte{[]byte("a\r\nbcdefghijklm\r\n")}}
			r := NewReader(cr, NewStack(&Line{}))
			r.ReadSize = tc.size
			got, _, err := readAll(r)
			if err != io.EOF || !slices.Equal(got, []string{"a", "bcdefghijklm"}) {
				t.Fatalf("got %q, %v", got, err)
			}
			for _, n := range cr.sizes {
				if n != tc.want {
					t.Fatalf("Read buffer sizes %v, want all %d", cr.sizes, tc.want)
				}
			}
		})
	}
}

// TestReaderSwitch changes the Stack between records of one Read: the
// compressed bytes that arrive with the announcing line go through the new
// layer.
func TestReaderSwitch(t *testing.T) {
	const k = 3
	wire := writeSwitched(t, []Filter{&Line{}}, switchLines, k, func(s *Stack) { s.Unshift(&xorFrame{}) })
	for _, c := range namedSplits(wire) {
		chunks := make([][]byte, len(c.chunks))
		copy(chunks, c.chunks)
		r := NewReader(&chunkReader{chunks: chunks}, NewStack(&Line{}))
		var got []string
		for {
			rec, err := r.Next()
			if err != nil {
				if err != io.EOF {
					t.Fatalf("%s: Next() error %v after %q", c.name, err, got)
				}
				break
			}
			got = append(got, string(rec))
			if len(got) == k {
				r.Stack().Unshift(&xorFrame{})
			}
		}
		if !slices.Equal(got, switchLines) {
			t.Fatalf("%s: got %q, want %q", c.name, got, switchLines)
		}
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct {
	buf bytes.Buffer
	n   int
}

var errWriteFailed = errors.New("write failed")

func (w *failWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.n {
		return 0, errWriteFailed
	}
	return w.buf.Write(p)
}

func TestWriterRecords(t *testing.T) {
	t.Run("records and flush", func(t *testing.T) {
		var out bytes.Buffer
		w := NewWriter(&out, NewStack(&Line{}))
		if err := w.WriteRecord([]byte("PING x")); err != nil {
			t.Fatalf("WriteRecord = %v", err)
		}
		if out.Len() != 0 {
			t.Fatalf("wrote %q before Flush", out.Bytes())
		}
		if err := w.WriteRecord([]byte("bad\r\nQUIT")); !errors.Is(err, ErrLineBreak) || !IsRecordError(err) {
			t.Fatalf("WriteRecord(injection) = %v; want a per-record ErrLineBreak", err)
		}
		if err := w.WriteRecord([]byte("PONG y")); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got, want := out.String(), "PING x\r\nPONG y\r\n"; got != want {
			t.Fatalf("wrote %q, want %q", got, want)
		}
	})
	t.Run("buffer spills", func(t *testing.T) {
		var out bytes.Buffer
		w := NewWriter(&out, NewStack(&Line{}))
		w.BufferSize = 10
		w.WriteRecord([]byte("12345678"))
		if out.String() != "12345678\r\n" {
			t.Fatalf("after passing BufferSize wrote %q, want %q", out.String(), "12345678\r\n")
		}
	})
	t.Run("through held layer", func(t *testing.T) {
		var out bytes.Buffer
		w := NewWriter(&out, NewStack(&xorFrame{}, &Line{}))
		w.WriteRecord([]byte("a"))
		w.WriteRecord([]byte("b"))
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if want := frames(t, "a\r\nb\r\n"); !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("wrote %q, want %q", out.Bytes(), want)
		}
	})
	t.Run("write error sticky", func(t *testing.T) {
		fw := &failWriter{n: 5}
		w := NewWriter(fw, NewStack(&Line{}))
		w.WriteRecord([]byte("too long for it"))
		if err := w.Flush(); !errors.Is(err, errWriteFailed) {
			t.Fatalf("Flush = %v, want %v", err, errWriteFailed)
		}
		if _, err := w.Write([]byte("x\n")); !errors.Is(err, errWriteFailed) {
			t.Fatalf("Write after failure = %v, want %v", err, errWriteFailed)
		}
		if err := w.Close(); !errors.Is(err, errWriteFailed) {
			t.Fatalf("Close after failure = %v, want %v", err, errWriteFailed)
		}
	})
}

func TestMessageRoundTrip(t *testing.T) {
	msgs := []*ircmsg.Message{
		{Command: "PING", Params: []string{"x"}},
		{Tags: []ircmsg.Tag{{Key: "msgid", Value: "a;b c"}}, Source: "n!u@h", Command: "PRIVMSG", Params: []string{"#c", "hello there"}},
		{Command: "001", Params: []string{"me", "Welcome"}},
	}
	var out bytes.Buffer
	codec := IRCv3{Format: ircmsg.Format{Colonify: true}}
	mw := NewMessageWriter(&out, NewStack(&Line{}), codec)
	for _, m := range msgs {
		if err := mw.WriteMessage(m); err != nil {
			t.Fatal(err)
		}
	}
	bad := &ircmsg.Message{Command: "PRIVMSG", Params: []string{"#c", "a\nQUIT"}}
	if err := mw.WriteMessage(bad); !IsRecordError(err) || !errors.Is(err, ircmsg.ErrBadByte) {
		t.Fatalf("WriteMessage(injection) = %v, want a per-record ErrBadByte", err)
	}
	if err := mw.Flush(); err != nil {
		t.Fatal(err)
	}
	wantWire := "PING :x\r\n@msgid=a\\:b\\sc :n!u@h PRIVMSG #c :hello there\r\n001 me :Welcome\r\n"
	if out.String() != wantWire {
		t.Fatalf("wire %q, want %q", out.String(), wantWire)
	}
	// Empty lines are skipped and a bad line is one per-record error.
	in := "\r\n" + out.String() + ":onlysource\r\n\r\n"
	mr := NewMessageReader(strings.NewReader(in), NewStack(&Line{}), codec)
	var got []*ircmsg.Message
	nbad := 0
	for {
		m, err := mr.ReadMessage()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !IsRecordError(err) {
				t.Fatalf("ReadMessage() fatal error %v", err)
			}
			nbad++
			continue
		}
		got = append(got, m)
	}
	if len(got) != len(msgs) || nbad != 1 {
		t.Fatalf("read %d messages and %d bad lines, want %d and 1", len(got), nbad, len(msgs))
	}
	for i := range msgs {
		if got[i].String() != msgs[i].String() {
			t.Errorf("message %d = %v, want %v", i, got[i], msgs[i])
		}
	}

	// ReadInto gives the same messages into one reused Message, the same
	// per-record error, and leaves the Message empty at the end.
	mr = NewMessageReader(strings.NewReader(in), NewStack(&Line{}), codec)
	var m ircmsg.Message
	var into []string
	nbad = 0
	for {
		err := mr.ReadInto(&m)
		if err == io.EOF {
			break
		}
		if err != nil {
			if !IsRecordError(err) || !errors.Is(err, ircmsg.ErrNoCommand) {
				t.Fatalf("ReadInto() error %v, want a per-record ErrNoCommand", err)
			}
			nbad++
			continue
		}
		into = append(into, m.String())
	}
	if nbad != 1 || len(into) != len(msgs) {
		t.Fatalf("ReadInto read %q and %d bad lines, want %d messages and 1", into, nbad, len(msgs))
	}
	for i := range msgs {
		if into[i] != msgs[i].String() {
			t.Errorf("ReadInto message %d = %s, want %v", i, into[i], msgs[i])
		}
	}
	if m.Command != "" || len(m.Params) != 0 {
		t.Errorf("ReadInto left %v at the end, want an empty message", &m)
	}
}

// TestReadIntoAllocs checks ReadInto's claim: once warmed up over a stream
// of the benchmark corpus, reading a message into a reused Message
// allocates nothing.
func TestReadIntoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	_, wire := benchWire()
	mr := NewMessageReader(bytes.NewReader(wire), NewStack(&Line{}), IRCv3{})
	var m ircmsg.Message
	read := func() {
		if err := mr.ReadInto(&m); err != nil {
			t.Fatalf("ReadInto: %v", err)
		}
	}
	for range 2000 {
		read()
	}
	if n := testing.AllocsPerRun(5000, read); n != 0 {
		t.Errorf("ReadInto allocated %v times per message, want 0", n)
	}
}

// TestReadIntoZlib reads a compressed stream, where records alias the
// inflater's and the Line's buffers rather than the read buffer, in small
// reads: ReadInto into one reused Message gives, line by line, what
// ReadMessage gives, and the inflater's history is not disturbed by the
// parse (a later back-reference still decodes).
func TestReadIntoZlib(t *testing.T) {
	lines, _ := benchWire()
	lines = lines[:500]
	var wire bytes.Buffer
	zw := zlib.NewWriter(&wire)
	for i, l := range lines {
		zw.Write(l)
		zw.Write([]byte("\r\n"))
		if i%7 == 0 {
			zw.Flush()
		}
	}
	zw.Close()
	open := func() *MessageReader {
		mr := NewMessageReader(bytes.NewReader(wire.Bytes()), NewStack(&Zlib{}, &Line{}), IRCv3{})
		mr.Reader().ReadSize = 97
		return mr
	}
	want, into := open(), open()
	var m ircmsg.Message
	for i := 0; ; i++ {
		w, werr := want.ReadMessage()
		err := into.ReadInto(&m)
		if (werr == nil) != (err == nil) {
			t.Fatalf("message %d: ReadMessage error %v, ReadInto error %v", i, werr, err)
		}
		if err == io.EOF {
			if i != len(lines) {
				t.Fatalf("read %d messages, want %d", i, len(lines))
			}
			return
		}
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got, want := m.String(), w.String(); got != want {
			t.Fatalf("message %d: ReadInto %q, ReadMessage %q", i, got, want)
		}
	}
}
