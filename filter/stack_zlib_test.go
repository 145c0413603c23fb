package filter

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ircsock/ircsock/ircmsg"
)

// The switch proofs of issue 2 with the real Zlib layer; stack_test.go
// runs the same proofs with the test-only xorFrame layer.

func TestStackSwitchUnshiftZlib(t *testing.T) {
	switchProof(t, switchLines,
		func() []Filter { return []Filter{&Line{}} },
		func(s *Stack) { s.Unshift(&Zlib{}) })
}

func TestStackSwitchShiftZlib(t *testing.T) {
	switchProof(t, switchLines,
		func() []Filter { return []Filter{&Zlib{}, &Line{}} },
		func(s *Stack) { s.Shift() })
}

// TestStackSwitchShiftZlibFinished: the peer finishes its zlib stream
// (standard library writer, Close) after line k and goes on in plaintext;
// the reader shifts the Zlib out when it reports ErrZlibStreamEnd.
func TestStackSwitchShiftZlibFinished(t *testing.T) {
	for k := 0; k <= len(switchLines); k++ {
		t.Run(fmt.Sprintf("k%d", k), func(t *testing.T) {
			var wire bytes.Buffer
			zw := zlib.NewWriter(&wire)
			for _, ln := range switchLines[:k] {
				zw.Write([]byte(ln + "\r\n"))
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			for _, ln := range switchLines[k:] {
				wire.WriteString(ln + "\r\n")
			}
			for _, c := range namedSplits(wire.Bytes()) {
				s := NewStack(&Zlib{}, &Line{})
				var got []string
				shifted := false
				for _, chunk := range c.chunks {
					s.Feed(bytes.Clone(chunk))
					for {
						rec, ok, err := s.Next()
						if err != nil {
							if shifted || !errors.Is(err, ErrZlibStreamEnd) {
								t.Fatalf("%s: Next() error %v after %q", c.name, err, got)
							}
							s.Shift()
							shifted = true
							continue
						}
						if !ok {
							break
						}
						got = append(got, string(rec))
					}
				}
				if p := s.Pending(); !slices.Equal(got, switchLines) || len(p) != 0 {
					t.Fatalf("%s: got %q, pending %q; want %q", c.name, got, p, switchLines)
				}
			}
		})
	}
}

// TestStackShiftDrainsToMarker: the last compressed line comes out before
// the rest of its flush marker has arrived; the Shift must let the Zlib
// read up to the marker and hand only what follows to the Line.
func TestStackShiftDrainsToMarker(t *testing.T) {
	var w Zlib
	wire, _ := w.Put(nil, []byte("a\r\n"))
	wire, _ = w.Flush(wire)
	cut := len(wire) - 4 // inside 00 00 ff ff
	wire = append(wire, "PLAIN\r\n"...)
	s := NewStack(&Zlib{}, &Line{})
	s.Feed(wire[:cut])
	if rec, ok, err := s.Next(); !ok || string(rec) != "a" {
		t.Fatalf("Next() = %q, %v, %v; want \"a\"", rec, ok, err)
	}
	s.Shift()
	if s.Len() != 1 {
		t.Fatalf("Len() = %d after Shift, want 1", s.Len())
	}
	got, err := decodeAll(s, [][]byte{wire[cut:]}, nil)
	if want := []string{"PLAIN"}; err != nil || !slices.Equal(got.recs, want) || got.pending != "" {
		t.Fatalf("after Shift got %v, %v; want %q", got, err, want)
	}
}

func FuzzStack(f *testing.F) {
	f.Add([]byte(strings.Join(switchLines, "\n")), uint8(2), true, false, uint64(1))
	f.Add([]byte(strings.Join(switchLines, "\n")), uint8(3), true, true, uint64(2))
	f.Add([]byte(strings.Join(switchLines, "\n")), uint8(1), false, true, uint64(3))
	f.Add([]byte("a\nb"), uint8(0), false, false, uint64(4))
	f.Fuzz(func(t *testing.T, text []byte, k uint8, zlibOn, shift bool, seed uint64) {
		lines := strings.Split(strings.ReplaceAll(string(text), "\r", ""), "\n")
		kk := int(k) % (len(lines) + 1)
		mk := func() Filter { return &xorFrame{} }
		if zlibOn {
			mk = func() Filter { return &Zlib{} }
		}
		start := func() []Filter { return []Filter{&Line{Max: -1}} }
		change := func(s *Stack) { s.Unshift(mk()) }
		if shift {
			start = func() []Filter { return []Filter{mk(), &Line{Max: -1}} }
			change = func(s *Stack) { s.Shift() }
		}
		for _, ln := range lines {
			if len(ln) > DefaultLineMax {
				t.Skip("line longer than Line.Max")
			}
		}
		wire := writeSwitched(t, start(), lines, kk, change)
		got, err := readSwitched(start(), randomChunks(wire, seed), kk, change)
		if err != nil || !slices.Equal(got.recs, lines) || len(got.errs) != 0 || got.pending != "" {
			t.Fatalf("k=%d: got %v, %v; want %q", kk, got, err, lines)
		}
	})
}

// BenchmarkStackPutZlib is the compressed write path: Put through
// [Zlib, Line] with a sync flush every 64 lines.
func BenchmarkStackPutZlib(b *testing.B) { benchStackPut(b, NewStack(&Zlib{}, &Line{})) }

// BenchmarkDecodeStreamZlib is the compressed read path: bytes -> Zlib ->
// Line -> IRCv3 -> Message, the stream sync-flushed every 64 lines.
func BenchmarkDecodeStreamZlib(b *testing.B) {
	lines, _ := benchWire()
	w := NewStack(&Zlib{}, &Line{})
	var comp []byte
	for i, l := range lines {
		comp, _ = w.Put(comp, l)
		if i%64 == 63 {
			comp, _ = w.Flush(comp)
		}
	}
	comp, _ = w.Flush(comp)
	b.ReportAllocs()
	b.SetBytes(int64(len(comp)))
	var m ircmsg.Message
	var codec IRCv3
	for b.Loop() {
		decodeStream(b, NewStack(&Zlib{}, &Line{}), codec, &m, comp)
	}
	reportLines(b, benchLines)
}
