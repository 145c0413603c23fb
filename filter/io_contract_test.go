package filter

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// The io contracts of Reader and Writer: any split of the bytes written
// gives the same output, Close ends every layer, and the standard
// library's readers and writers work on both faces.

// ioStacks are the stacks the Writer's contract is checked with: a record
// layer on top (Line), a byte layer on top (Zlib), and none.
var ioStacks = []struct {
	name   string
	stack  func() *Stack
	zlib   bool // the output is a zlib stream
	framed bool // a Line on top: output lines end in CR LF
}{
	{"Line", func() *Stack { return NewStack(&Line{}) }, false, true},
	{"Zlib,Line", func() *Stack { return NewStack(&Zlib{}, &Line{}) }, true, true},
	{"ZlibLowMemory,Line", func() *Stack { return NewStack(&Zlib{LowMemory: true}, &Line{}) }, true, true},
	{"Zlib", func() *Stack { return NewStack(&Zlib{}) }, true, false},
	{"empty", func() *Stack { return NewStack() }, false, false},
	{"nested Line", func() *Stack { return NewStack(NewStack(&Line{})) }, false, true},
}

// ioText is written through the Writers: LF and CR LF line ends, an empty
// line, a long line, and an unterminated tail that only Close writes.
var ioText = []byte("PING :a\r\nPRIVMSG #c :two\n\r\n" + strings.Repeat("x", 700) + "\r\nNOTICE * :tail")

// crlf is text with every line ended by CR LF, as a Line on top writes it.
func crlf(text []byte) []byte {
	lines := strings.Split(string(text), "\n")
	var out []byte
	for _, l := range lines {
		out = append(out, strings.TrimSuffix(l, "\r")...)
		out = append(out, '\r', '\n')
	}
	return out
}

// writeSplit writes text through a fresh Writer in the given pieces (a
// Flush after every piece if flush is set), closes it and returns the
// output.
func writeSplit(t *testing.T, s *Stack, pieces [][]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := NewWriter(&out, s)
	for _, p := range pieces {
		n, err := w.Write(p)
		if n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v; want %d, nil", short(p), n, err, len(p))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	return out.Bytes()
}

// unzlib reads a zlib stream with compress/zlib, to io.EOF.
func unzlib(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("compress/zlib: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("compress/zlib read %q: %v", short(out), err)
	}
	return out
}

func TestWriterWriteSplits(t *testing.T) {
	for _, st := range ioStacks {
		t.Run(st.name, func(t *testing.T) {
			whole := writeSplit(t, st.stack(), [][]byte{ioText})
			plain := whole
			if st.zlib {
				plain = unzlib(t, whole)
			}
			want := ioText
			if st.framed {
				want = crlf(ioText)
			}
			if !bytes.Equal(plain, want) {
				t.Fatalf("one Write gives %q, want %q", short(plain), short(want))
			}
			for i, c := range namedSplits(ioText) {
				// Under the race detector only every 8th two-piece
				// split: the Writer runs on one goroutine, and the
				// plain run tries every index.
				if raceEnabled && strings.HasPrefix(c.name, "split") && i%8 != 0 {
					continue
				}
				if got := writeSplit(t, st.stack(), c.chunks); !bytes.Equal(got, whole) {
					t.Fatalf("%s: output differs from one Write at byte %d", c.name, firstDiff(got, whole))
				}
			}
		})
	}
}

func TestWriterStdlib(t *testing.T) {
	t.Run("io.Copy", func(t *testing.T) {
		var out bytes.Buffer
		w := NewWriter(&out, NewStack(&Line{}))
		if n, err := io.Copy(w, iotest.OneByteReader(strings.NewReader("a\r\nb\nc"))); n != 6 || err != nil {
			t.Fatalf("io.Copy = %d, %v; want 6, nil", n, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got, want := out.String(), "a\r\nb\r\nc\r\n"; got != want {
			t.Fatalf("wrote %q, want %q", got, want)
		}
	})
	t.Run("fmt.Fprintf", func(t *testing.T) {
		var out bytes.Buffer
		w := NewWriter(&out, NewStack(&Line{}))
		fmt.Fprintf(w, "PING :%d\n", 1)
		fmt.Fprintf(w, "PRIVMSG #c :%s", "half")
		fmt.Fprintf(w, " and half\r\n")
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got, want := out.String(), "PING :1\r\nPRIVMSG #c :half and half\r\n"; got != want {
			t.Fatalf("wrote %q, want %q", got, want)
		}
	})
	t.Run("bufio.Writer into compress/zlib", func(t *testing.T) {
		var out bytes.Buffer
		w := NewWriter(&out, NewStack(&Zlib{}, &Line{}))
		bw := bufio.NewWriterSize(w, 16)
		for i := range 100 {
			fmt.Fprintf(bw, "PRIVMSG #c :line %d\n", i)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		for i := range 100 {
			fmt.Fprintf(&want, "PRIVMSG #c :line %d\r\n", i)
		}
		if got := unzlib(t, out.Bytes()); string(got) != want.String() {
			t.Fatalf("compress/zlib read %q, want %q", short(got), short([]byte(want.String())))
		}
	})
}

// closeTracker is an io.Writer that notices being closed.
type closeTracker struct {
	bytes.Buffer
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestWriterClose(t *testing.T) {
	for _, st := range ioStacks {
		t.Run(st.name, func(t *testing.T) {
			var out closeTracker
			w := NewWriter(&out, st.stack())
			if _, err := w.Write([]byte("PING :x\r\nunterminated")); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("Close() = %v", err)
			}
			if out.closed {
				t.Fatal("Close closed the underlying writer")
			}
			got := out.Bytes()
			if st.zlib {
				got = unzlib(t, got)
			}
			want := "PING :x\r\nunterminated"
			if st.framed {
				want += "\r\n"
			}
			if string(got) != want {
				t.Fatalf("wrote %q, want %q", got, want)
			}
			if n, err := w.Write([]byte("x\n")); n != 0 || !errors.Is(err, ErrWriterClosed) {
				t.Fatalf("Write after Close = %d, %v; want 0, ErrWriterClosed", n, err)
			}
			if err := w.WriteRecord([]byte("x")); !errors.Is(err, ErrWriterClosed) {
				t.Fatalf("WriteRecord after Close = %v, want ErrWriterClosed", err)
			}
			if err := w.Flush(); !errors.Is(err, ErrWriterClosed) {
				t.Fatalf("Flush after Close = %v, want ErrWriterClosed", err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("second Close() = %v, want nil again", err)
			}
		})
	}
	t.Run("empty zlib stream", func(t *testing.T) {
		for _, z := range []*Zlib{{}, {LowMemory: true}, {Level: 1}, {Level: 9}} {
			var out bytes.Buffer
			w := NewWriter(&out, NewStack(z))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := unzlib(t, out.Bytes()); len(got) != 0 {
				t.Fatalf("empty stream reads as %q", got)
			}
		}
	})
	t.Run("flushed then closed", func(t *testing.T) {
		for _, z := range []*Zlib{{}, {LowMemory: true}} {
			var out bytes.Buffer
			w := NewWriter(&out, NewStack(z, &Line{}))
			io.WriteString(w, "a\n")
			w.Flush()
			io.WriteString(w, "b\n")
			w.Flush()
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := unzlib(t, out.Bytes()); string(got) != "a\r\nb\r\n" {
				t.Fatalf("LowMemory %v: reads as %q", z.LowMemory, got)
			}
		}
	})
}

// TestWriterClosePython checks Close's zlib ending with the C zlib:
// Python's zlib.decompress accepts only a finished stream with the right
// Adler-32.
func TestWriterClosePython(t *testing.T) {
	lines := ircLines(300, 7)
	text := []byte(strings.Join(lines, "\n") + "\n")
	for _, z := range []*Zlib{{}, {Level: 1}, {Level: 9}, {LowMemory: true}} {
		t.Run(fmt.Sprintf("level%d-low%v", z.Level, z.LowMemory), func(t *testing.T) {
			var out bytes.Buffer
			w := NewWriter(&out, NewStack(z, &Line{}))
			for i, l := range lines {
				io.WriteString(w, l+"\n")
				if i%40 == 39 {
					w.Flush()
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got := python3(t, "import sys, zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))", out.Bytes())
			if want := crlf(text[:len(text)-1]); !bytes.Equal(got, want) {
				t.Fatalf("Python's zlib.decompress gives %s, want %s", short(got), short(want))
			}
		})
	}
}

func TestWriterLineErrors(t *testing.T) {
	t.Run("CR inside a line", func(t *testing.T) {
		var out bytes.Buffer
		w := NewWriter(&out, NewStack(&Line{}))
		p := []byte("a\r\nb\rQUIT\nc\n")
		n, err := w.Write(p)
		if !errors.Is(err, ErrLineBreak) || !IsRecordError(err) || n != len("a\r\nb\rQUIT\n") {
			t.Fatalf("Write = %d, %v; want %d and a per-record ErrLineBreak", n, err, len("a\r\nb\rQUIT\n"))
		}
		if _, err := w.Write(p[n:]); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if got, want := out.String(), "a\r\nc\r\n"; got != want {
			t.Fatalf("wrote %q, want %q", got, want)
		}
	})
	t.Run("line too long, any split", func(t *testing.T) {
		text := []byte("ok\n" + strings.Repeat("y", 11) + "\r\nfits\r\n" + strings.Repeat("z", 10) + "\r\n")
		var whole []byte
		for _, c := range namedSplits(text) {
			var out bytes.Buffer
			w := NewWriter(&out, NewStack(&Line{Max: 10}))
			nbad := 0
			for _, p := range c.chunks {
				for len(p) > 0 {
					n, err := w.Write(p)
					p = p[n:]
					if err != nil {
						if !errors.Is(err, ErrLineTooLong) || !IsRecordError(err) {
							t.Fatalf("%s: Write error %v, want per-record ErrLineTooLong", c.name, err)
						}
						nbad++
					}
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if want := "ok\r\nfits\r\n" + strings.Repeat("z", 10) + "\r\n"; out.String() != want || nbad != 1 {
				t.Fatalf("%s: wrote %q with %d errors, want %q and 1", c.name, out.String(), nbad, want)
			}
			if whole == nil {
				whole = out.Bytes()
			}
		}
	})
	t.Run("too long at Close", func(t *testing.T) {
		var out bytes.Buffer
		w := NewWriter(&out, NewStack(&Line{Max: 3}))
		w.Write([]byte("a\nbcde"))
		if err := w.Close(); !errors.Is(err, ErrLineTooLong) {
			t.Fatalf("Close = %v, want ErrLineTooLong", err)
		}
		if out.String() != "a\r\n" {
			t.Fatalf("wrote %q", out.String())
		}
	})
}

// readLines reads r with bufio.Scanner.
func readLines(t *testing.T, r io.Reader) ([]string, error) {
	t.Helper()
	sc := bufio.NewScanner(r)
	var got []string
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	return got, sc.Err()
}

func TestReaderRead(t *testing.T) {
	wire := "PING :1\r\nPRIVMSG #c :two\n\r\n" + strings.Repeat("w", 5000) + "\r\nlast"
	want := []string{"PING :1", "PRIVMSG #c :two", "", strings.Repeat("w", 5000), "last"}
	t.Run("io.ReadAll lines", func(t *testing.T) {
		for _, c := range namedSplits([]byte(wire)) {
			r := NewReader(&chunkReader{chunks: slices.Clone(c.chunks)}, NewStack(&Line{}))
			got, err := io.ReadAll(r)
			if err != nil || string(got) != strings.Join(want, "\n")+"\n" {
				t.Fatalf("%s: io.ReadAll = %q, %v", c.name, short(got), err)
			}
		}
	})
	t.Run("bufio.Scanner", func(t *testing.T) {
		r := NewReader(iotest.HalfReader(strings.NewReader(wire)), NewStack(&Line{}))
		got, err := readLines(t, r)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("Scanner = %q, %v", got, err)
		}
	})
	t.Run("tiny reads", func(t *testing.T) {
		r := NewReader(strings.NewReader(wire), NewStack(&Line{}))
		got, err := io.ReadAll(iotest.OneByteReader(r))
		if err != nil || string(got) != strings.Join(want, "\n")+"\n" {
			t.Fatalf("one byte at a time: %q, %v", short(got), err)
		}
	})
	t.Run("testing/iotest.TestReader", func(t *testing.T) {
		r := NewReader(strings.NewReader(wire), NewStack(&Line{}))
		if err := iotest.TestReader(r, []byte(strings.Join(want, "\n")+"\n")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("byte layer: compress/zlib stream", func(t *testing.T) {
		text := bytes.Repeat([]byte("bytes, not lines \x00\r\x01"), 3000)
		var zb bytes.Buffer
		zw := zlib.NewWriter(&zb)
		zw.Write(text)
		zw.Close()
		for _, s := range []*Stack{NewStack(&Zlib{}), NewStack(NewStack(&Zlib{}))} {
			got, err := io.ReadAll(NewReader(iotest.HalfReader(bytes.NewReader(zb.Bytes())), s))
			if err != nil || !bytes.Equal(got, text) {
				t.Fatalf("io.ReadAll = %s, %v", short(got), err)
			}
		}
	})
	t.Run("empty stack", func(t *testing.T) {
		got, err := io.ReadAll(NewReader(iotest.OneByteReader(strings.NewReader(wire)), NewStack()))
		if err != nil || string(got) != wire {
			t.Fatalf("io.ReadAll = %q, %v", short(got), err)
		}
	})
	t.Run("io.Copy lines through zlib", func(t *testing.T) {
		var zb bytes.Buffer
		zw := zlib.NewWriter(&zb)
		io.WriteString(zw, wire)
		zw.Close()
		var out bytes.Buffer
		n, err := io.Copy(&out, NewReader(bytes.NewReader(zb.Bytes()), NewStack(&Zlib{}, &Line{})))
		if err != nil || out.String() != strings.Join(want, "\n")+"\n" || n != int64(out.Len()) {
			t.Fatalf("io.Copy = %d, %v: %q", n, err, short(out.Bytes()))
		}
	})
	t.Run("per-record error", func(t *testing.T) {
		r := NewReader(strings.NewReader("a\ntoolong\nb\n"), NewStack(&Line{Max: 3}))
		p := make([]byte, 100)
		n, err := r.Read(p)
		if string(p[:n]) != "a\n" || err != nil {
			t.Fatalf("first Read = %q, %v; want %q, nil", p[:n], err, "a\n")
		}
		n, err = r.Read(p)
		if n != 0 || !errors.Is(err, ErrLineTooLong) || !IsRecordError(err) {
			t.Fatalf("second Read = %q, %v; want the per-record ErrLineTooLong", p[:n], err)
		}
		n, err = r.Read(p)
		if string(p[:n]) != "b\n" || err != nil {
			t.Fatalf("third Read = %q, %v", p[:n], err)
		}
		if n, err = r.Read(p); n != 0 || err != io.EOF {
			t.Fatalf("last Read = %d, %v; want io.EOF", n, err)
		}
	})
}

// zlibStream compresses text with compress/zlib and closes the stream.
func zlibStream(text []byte) []byte {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	zw.Write(text)
	zw.Close()
	return b.Bytes()
}

func TestReaderZlibEnds(t *testing.T) {
	text := []byte(strings.Join(ircLines(60, 3), "\r\n") + "\r\n")
	full := zlibStream(text)
	stacks := map[string]func() *Stack{
		"Zlib":      func() *Stack { return NewStack(&Zlib{}) },
		"Zlib,Line": func() *Stack { return NewStack(&Zlib{}, &Line{}) },
	}
	t.Run("cut short", func(t *testing.T) {
		for name, mk := range stacks {
			for n := 0; n < len(full); n++ {
				_, err := io.ReadAll(NewReader(bytes.NewReader(full[:n]), mk()))
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("%s: stream cut at %d of %d: error %v, want io.ErrUnexpectedEOF", name, n, len(full), err)
				}
			}
		}
	})
	t.Run("whole", func(t *testing.T) {
		for name, mk := range stacks {
			r := NewReader(bytes.NewReader(full), mk())
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if name == "Zlib" && !bytes.Equal(got, text) {
				t.Fatalf("%s: read %s", name, short(got))
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("%s: Next after the end = %v, want io.EOF", name, err)
			}
		}
	})
	t.Run("wrong Adler-32", func(t *testing.T) {
		bad := bytes.Clone(full)
		bad[len(bad)-1] ^= 1
		for name, mk := range stacks {
			_, err := io.ReadAll(NewReader(bytes.NewReader(bad), mk()))
			if !errors.Is(err, ErrZlibCorrupt) || !strings.Contains(err.Error(), "Adler-32 checksum") {
				t.Fatalf("%s: error %v, want ErrZlibCorrupt naming the Adler-32 checksum", name, err)
			}
		}
	})
	t.Run("bytes after the end", func(t *testing.T) {
		for name, mk := range stacks {
			in := append(bytes.Clone(full), "PING :after\r\n"...)
			_, err := io.ReadAll(NewReader(bytes.NewReader(in), mk()))
			if !errors.Is(err, ErrZlibStreamEnd) {
				t.Fatalf("%s: error %v, want ErrZlibStreamEnd", name, err)
			}
		}
	})
	t.Run("unterminated last line inside the stream", func(t *testing.T) {
		r := NewReader(bytes.NewReader(zlibStream([]byte("a\r\nb"))), NewStack(&Zlib{}, &Line{}))
		got, _, err := readAll(r)
		if err != io.EOF || !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("got %q, %v; want [a b], io.EOF", got, err)
		}
	})
}

// TestReaderRandomReads reads through both faces with random read sizes.
func TestReaderRandomReads(t *testing.T) {
	text := []byte(strings.Join(ircLines(500, 9), "\n") + "\n")
	full := zlibStream(text)
	rng := rand.New(rand.NewPCG(5, 5))
	for range 20 {
		r := NewReader(bytes.NewReader(full), NewStack(&Zlib{}))
		r.ReadSize = 1 + rng.IntN(300)
		var got []byte
		p := make([]byte, 1+rng.IntN(5000))
		for {
			n, err := r.Read(p[:1+rng.IntN(len(p))])
			got = append(got, p[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, text) {
			t.Fatalf("ReadSize %d: read %s at byte %d", r.ReadSize, short(got), firstDiff(got, text))
		}
	}
}
