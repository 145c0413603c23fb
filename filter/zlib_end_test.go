package filter

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// The end of a zlib stream: a peer stops compressing after a sync flush,
// finishes its stream, or does both, and goes on in plaintext. Shift after
// the last compressed record must hand over exactly the plaintext, for
// every split of the wire bytes.

// A zPiece is one call's output of a peer's compressor.
type zPiece struct {
	kind byte // 'c' data, 's' sync flush, 'f' finish
	b    []byte
}

// zEnding is a compressed stream of lines from one peer, ended one way.
type zEnding struct {
	name   string
	pieces []zPiece
}

func (e zEnding) wire() []byte {
	var w []byte
	for _, p := range e.pieces {
		w = append(w, p.b...)
	}
	return w
}

func (e zEnding) finished() bool { return e.pieces[len(e.pieces)-1].kind == 'f' }

// syncEnds returns the offsets where the peer's stream may stop: 0, the
// end of each sync flush, and the end of a finished stream.
func (e zEnding) syncEnds() []int {
	ends := []int{0}
	n := 0
	for _, p := range e.pieces {
		n += len(p.b)
		if p.kind == 's' || p.kind == 'f' {
			ends = append(ends, n)
		}
	}
	return ends
}

// endLines is what the peers compress, each line sync-flushed on its own
// when the ending has sync flushes.
var endLines = []string{"PING :a", "PRIVMSG #c :" + strings.Repeat("compressible ", 12), ":srv 001 me :Welcome"}

// pyEndings returns the three endings written by Python's zlib (the C
// zlib): a sync flush after each line and nothing more, the stream
// finished (Z_FINISH) with no flush before, and a sync flush after each
// line then Z_FINISH, which writes 03 00 and the Adler-32.
func pyEndings(t *testing.T) []zEnding {
	t.Helper()
	const prog = `
import sys, zlib
lines = [l + b"\r\n" for l in sys.stdin.buffer.read().split(b"\n")]
def run(sync, finish):
    c = zlib.compressobj()
    out = []
    for l in lines:
        out.append("c:" + c.compress(l).hex())
        if sync:
            out.append("s:" + c.flush(zlib.Z_SYNC_FLUSH).hex())
    if finish:
        out.append("f:" + c.flush(zlib.Z_FINISH).hex())
    print(" ".join(out))
run(True, False)
run(False, True)
run(True, True)
`
	out := python3(t, prog, []byte(strings.Join(endLines, "\n")))
	rows := strings.Split(strings.TrimSpace(string(out)), "\n")
	names := []string{"python sync only", "python finish", "python sync then finish"}
	if len(rows) != len(names) {
		t.Fatalf("python3 printed %d rows, want %d", len(rows), len(names))
	}
	var es []zEnding
	for i, row := range rows {
		e := zEnding{name: names[i]}
		for _, f := range strings.Fields(row) {
			b, err := hex.DecodeString(f[2:])
			if err != nil {
				t.Fatal(err)
			}
			e.pieces = append(e.pieces, zPiece{f[0], b})
		}
		es = append(es, e)
	}
	return es
}

// goEndings returns the same three endings written by Go's compress/zlib
// (whose Close writes a final empty stored block, 01 00 00 ff ff, after a
// Flush) and by this package's Zlib (klauspost's writer).
func goEndings(t *testing.T) []zEnding {
	t.Helper()
	var es []zEnding
	for _, mode := range []struct {
		name         string
		sync, finish bool
	}{{"sync only", true, false}, {"finish", false, true}, {"sync then finish", true, true}} {
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		e := zEnding{name: "compress/zlib " + mode.name}
		take := func(kind byte) {
			e.pieces = append(e.pieces, zPiece{kind, bytes.Clone(buf.Bytes())})
			buf.Reset()
		}
		for _, l := range endLines {
			zw.Write([]byte(l + "\r\n"))
			take('c')
			if mode.sync {
				zw.Flush()
				take('s')
			}
		}
		if mode.finish {
			zw.Close()
			take('f')
		}
		es = append(es, e)

		z := &Zlib{}
		e = zEnding{name: "Zlib " + mode.name}
		for _, l := range endLines {
			b, err := z.Put(nil, []byte(l+"\r\n"))
			if err != nil {
				t.Fatal(err)
			}
			e.pieces = append(e.pieces, zPiece{'c', b})
			if mode.sync {
				b, _ = z.Flush(nil)
				e.pieces = append(e.pieces, zPiece{'s', b})
			}
		}
		if mode.finish {
			b, err := z.Finish(nil)
			if err != nil {
				t.Fatal(err)
			}
			e.pieces = append(e.pieces, zPiece{'f', b})
		}
		es = append(es, e)
	}
	return es
}

// plainAfter is what each peer sends in plaintext after its stream.
var plainAfter = []string{"PING :b", "\x03colour line", "PRIVMSG #c :plain again"}

func TestStackShiftAfterStreamEnding(t *testing.T) {
	endings := append(goEndings(t), pyEndings(t)...)
	want := append(slices.Clone(endLines), plainAfter...)
	plain := strings.Join(plainAfter, "\r\n") + "\r\n"
	for _, e := range endings {
		t.Run(e.name, func(t *testing.T) {
			wire := append(e.wire(), plain...)
			for _, c := range namedSplits(wire) {
				s := NewStack(&Zlib{}, &Line{})
				var got []string
				for _, chunk := range c.chunks {
					s.Feed(bytes.Clone(chunk))
					for {
						rec, ok, err := s.Next()
						if err != nil {
							t.Fatalf("%s: Next() error %v after %q", c.name, err, got)
						}
						if !ok {
							break
						}
						got = append(got, string(rec))
						if len(got) == len(endLines) {
							s.Shift()
						}
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s: got %q, want %q", c.name, got, want)
				}
				if p := s.Pending(); len(p) != 0 {
					t.Fatalf("%s: Pending() = %q at the end, want nothing", c.name, p)
				}
			}
		})
	}
}

// TestReaderShiftAfterStreamEnding is the same through a Reader, with
// and without plaintext after the stream: the end of the input is io.EOF
// once the Zlib is shifted out, whichever way the stream ended.
func TestReaderShiftAfterStreamEnding(t *testing.T) {
	endings := append(goEndings(t), pyEndings(t)...)
	for _, after := range [][]string{nil, plainAfter} {
		want := append(slices.Clone(endLines), after...)
		plain := ""
		if after != nil {
			plain = strings.Join(after, "\r\n") + "\r\n"
		}
		for _, e := range endings {
			wire := append(e.wire(), plain...)
			for _, c := range namedSplits(wire) {
				r := NewReader(&chunkReader{chunks: slices.Clone(c.chunks)}, NewStack(&Zlib{}, &Line{}))
				var got []string
				for {
					rec, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("%s, %d plain lines, %s: Next() error %v after %q", e.name, len(after), c.name, err, got)
					}
					got = append(got, string(rec))
					if len(got) == len(endLines) {
						r.Stack().Shift()
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s, %s: got %q, want %q", e.name, c.name, got, want)
				}
			}
		}
	}
}

// TestStackShiftGoCloseStream is the stream of the issue that found the
// bug: Go's zlib closing a stream puts a final empty stored block before
// the Adler-32, which was taken for a sync flush, so the checksum came
// out as plaintext.
func TestStackShiftGoCloseStream(t *testing.T) {
	wire, _ := hex.DecodeString("789c0af0f47357b04ae4e502040000ffff0bbc0201")
	wire = append(wire, "PING :b\r\n"...)
	for _, c := range namedSplits(wire) {
		s := NewStack(&Zlib{}, &Line{})
		var got []string
		for _, chunk := range c.chunks {
			s.Feed(bytes.Clone(chunk))
			for {
				rec, ok, err := s.Next()
				if err != nil && !errors.Is(err, ErrZlibStreamEnd) {
					t.Fatalf("%s: Next() error %v", c.name, err)
				}
				if !ok {
					break
				}
				got = append(got, string(rec))
				if len(got) == 1 {
					s.Shift()
				}
			}
		}
		if want := []string{"PING :a", "PING :b"}; !slices.Equal(got, want) {
			t.Fatalf("%s: got %q, want %q", c.name, got, want)
		}
	}
}

// TestZlibSyncedOnlyWhereStreamMayStop feeds every prefix of each ending
// and checks Synced: true before any input, at the end of each sync flush
// and after the checksum of a finished stream; false inside the final
// block and inside the checksum; and elsewhere true only while the bytes
// after a stop point are too few to complete the next block's header (the
// decoder has consumed nothing past the stop point, and they are not the
// beginning of an empty final block); never with part of the header fed.
func TestZlibSyncedOnlyWhereStreamMayStop(t *testing.T) {
	endings := append(goEndings(t), pyEndings(t)...)
	for _, e := range endings {
		t.Run(e.name, func(t *testing.T) {
			wire := e.wire()
			ends := e.syncEnds()
			for n := 0; n <= len(wire); n++ {
				z := &Zlib{}
				for i := range n {
					z.Feed(wire[i : i+1])
					for {
						_, ok, err := z.Next()
						if err != nil && !errors.Is(err, ErrZlibStreamEnd) {
							t.Fatalf("prefix %d: %v", n, err)
						}
						if !ok {
							break
						}
					}
				}
				last := 0 // the last stop point at or before n
				for _, e := range ends {
					if e <= n {
						last = e
					}
				}
				final := len(wire) - len(e.pieces[len(e.pieces)-1].b)
				got := z.Synced()
				switch {
				case n == last && !got:
					t.Fatalf("prefix %d of %d (% x): Synced() = false at a stop point %v", n, len(wire), wire[max(0, n-6):n], ends)
				case n != last && got && (e.finished() && n > final || n-last > 5 || last == 0):
					t.Fatalf("prefix %d of %d (% x): Synced() = true, %d bytes past the stop point %d (final piece from %d)", n, len(wire), wire[max(0, n-6):n], n-last, last, final)
				}
				if n == len(wire) && e.finished() {
					if _, _, err := z.Next(); !errors.Is(err, ErrZlibStreamEnd) {
						t.Fatalf("whole stream: Next() = %v, want ErrZlibStreamEnd", err)
					}
				}
			}
		})
	}
}

// TestReaderEndingsToEOF reads each finished ending whole, with no Shift:
// io.EOF at the end; each unfinished one: io.ErrUnexpectedEOF, after all
// its lines.
func TestReaderEndingsToEOF(t *testing.T) {
	endings := append(goEndings(t), pyEndings(t)...)
	for _, e := range endings {
		r := NewReader(bytes.NewReader(e.wire()), NewStack(&Zlib{}, &Line{}))
		got, _, err := readAll(r)
		wantErr := io.ErrUnexpectedEOF
		if e.finished() {
			wantErr = io.EOF
		}
		if !errors.Is(err, wantErr) || !slices.Equal(got, endLines) {
			t.Errorf("%s: got %q, %v; want %q, %v", e.name, got, err, endLines, wantErr)
		}
	}
}

func ExampleStack_Shift() {
	// The peer compresses two lines, finishes its zlib stream, and goes
	// on in plaintext, all in one read.
	var wire bytes.Buffer
	zw := zlib.NewWriter(&wire)
	zw.Write([]byte("PING :compressed\r\nSTOPZIP\r\n"))
	zw.Flush()
	zw.Close()
	wire.WriteString("PING :plain\r\n")

	s := NewStack(&Zlib{}, &Line{})
	s.Feed(wire.Bytes())
	for {
		rec, ok, err := s.Next()
		if !ok || err != nil {
			fmt.Println("end:", err)
			break
		}
		fmt.Printf("%s\n", rec)
		if string(rec) == "STOPZIP" {
			s.Shift()
		}
	}
	// Output:
	// PING :compressed
	// STOPZIP
	// PING :plain
	// end: <nil>
}

// TestStackShiftAfterDoubleFlush: compress/zlib writes a marker for every
// Flush, so a peer may send two in a row before it stops (found by
// fuzz.FuzzStackZlibShift). Both belong to the stream.
func TestStackShiftAfterDoubleFlush(t *testing.T) {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	zw.Write([]byte("PING :a\r\n"))
	zw.Flush()
	zw.Flush()
	wire := append(b.Bytes(), "PING :b\r\n"...)
	for _, c := range namedSplits(wire) {
		s := NewStack(&Zlib{}, &Line{})
		var got []string
		for _, chunk := range c.chunks {
			s.Feed(bytes.Clone(chunk))
			for {
				rec, ok, err := s.Next()
				if err != nil {
					t.Fatalf("%s: Next() error %v", c.name, err)
				}
				if !ok {
					break
				}
				got = append(got, string(rec))
				if len(got) == 1 {
					s.Shift()
				}
			}
		}
		if want := []string{"PING :a", "PING :b"}; !slices.Equal(got, want) {
			t.Fatalf("%s: got %q, want %q", c.name, got, want)
		}
	}
}

func TestZlibFinishErrors(t *testing.T) {
	for _, z := range []*Zlib{{}, {LowMemory: true}} {
		out, err := z.Put(nil, []byte("PING :a\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if out, err = z.Finish(out); err != nil {
			t.Fatalf("Finish: %v", err)
		}
		if got := unzlib(t, out); string(got) != "PING :a\r\n" {
			t.Fatalf("LowMemory %v: finished stream reads %q", z.LowMemory, got)
		}
		if _, err := z.Put(nil, []byte("x")); !errors.Is(err, ErrZlibFinished) {
			t.Fatalf("Put after Finish = %v, want ErrZlibFinished", err)
		}
		if more, err := z.Flush(nil); len(more) != 0 || err != nil {
			t.Fatalf("Flush after Finish = %q, %v; want nothing", more, err)
		}
		if more, err := z.Finish(nil); len(more) != 0 || err != nil {
			t.Fatalf("second Finish = %q, %v; want nothing", more, err)
		}
		z.Reset()
		if _, err := z.Put(nil, []byte("x")); err != nil {
			t.Fatalf("Put after Reset = %v, want a new stream", err)
		}
	}
	w := NewWriter(io.Discard, NewStack(&Zlib{Level: 42}, &Line{}))
	if err := w.WriteRecord([]byte("x")); !errors.Is(err, ErrZlibLevel) || IsRecordError(err) {
		t.Fatalf("WriteRecord with Level 42 = %v, want the fatal ErrZlibLevel", err)
	}
	if err := w.Close(); !errors.Is(err, ErrZlibLevel) {
		t.Fatalf("Close after it = %v, want ErrZlibLevel again", err)
	}
}
