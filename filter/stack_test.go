package filter

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// xorFrame is a test-only reversible layer with the properties of a
// compressor that matter to a Stack: it holds output back until Flush, its
// frames are self-delimiting (so its decoder stops exactly where its data
// ends, as zlib does at a sync flush), and its Pending invalidates its last
// record (it poisons it), so a Stack that lets a layer above keep aliasing
// that record is caught.
//
// A frame is a length byte (1..255) and that many bytes XORed with xorKey.
// A zero length byte is corrupt input: a fatal, sticky error.
type xorFrame struct {
	hold []byte // write side: records not yet flushed
	in   []byte // read side: undecoded input (owned)
	out  []byte // read side: the last record
	err  error
}

const xorKey = 0x5a

var errXorCorrupt = errors.New("xorframe: zero-length frame")

var _ Filter = (*xorFrame)(nil)

func (x *xorFrame) Put(dst, rec []byte) ([]byte, error) {
	x.hold = append(x.hold, rec...)
	return dst, nil
}

func (x *xorFrame) Flush(dst []byte) ([]byte, error) {
	h := x.hold
	for len(h) > 0 {
		n := min(len(h), 255)
		dst = append(dst, byte(n))
		for _, b := range h[:n] {
			dst = append(dst, b^xorKey)
		}
		h = h[n:]
	}
	x.hold = x.hold[:0]
	return dst, nil
}

func (x *xorFrame) Feed(p []byte) { x.in = append(x.in, p...) }

func (x *xorFrame) Next() ([]byte, bool, error) {
	if x.err != nil {
		return nil, false, x.err
	}
	if len(x.in) == 0 {
		return nil, false, nil
	}
	n := int(x.in[0])
	if n == 0 {
		x.err = errXorCorrupt
		return nil, false, x.err
	}
	if len(x.in) < 1+n {
		return nil, false, nil
	}
	x.out = x.out[:0]
	for _, b := range x.in[1 : 1+n] {
		x.out = append(x.out, b^xorKey)
	}
	x.in = x.in[1+n:]
	return x.out, true, nil
}

func (x *xorFrame) Pending() []byte {
	for i := range x.out {
		x.out[i] = 'X'
	}
	p := x.in
	x.in = nil
	return p
}

// upper is a test-only record layer: it upper-cases each record on read and
// lower-cases it on write.
type upper struct {
	rec  []byte
	have bool
}

func (u *upper) Feed(p []byte) { u.rec = append(u.rec[:0], p...); u.have = true }
func (u *upper) Next() ([]byte, bool, error) {
	if !u.have {
		return nil, false, nil
	}
	u.have = false
	return bytes.ToUpper(u.rec), true, nil
}
func (u *upper) Pending() []byte {
	if !u.have {
		return nil
	}
	u.have = false
	return u.rec
}
func (u *upper) Put(dst, rec []byte) ([]byte, error) {
	for _, b := range rec {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		dst = append(dst, b)
	}
	return dst, nil
}
func (u *upper) Flush(dst []byte) ([]byte, error) { return dst, nil }

// switchLines are the lines of the switch proofs: short, empty, longer than
// an xorFrame frame, with a tab.
var switchLines = []string{
	"PING :1",
	"PRIVMSG #chan :hello world 2",
	"",
	"@time=2024-01-01T00:00:00Z :n!u@h NOTICE * :" + strings.Repeat("x", 290),
	"CAPAB ZIP",
	"a\tb",
	":srv 001 me :Welcome",
}

// writeSwitched writes lines through a Stack of start's layers, flushing
// every second line, and calls change right after line k (after a Flush,
// which may come right after another: a Flush with nothing new to send
// must add nothing the reader would see after its switch point).
func writeSwitched(t testing.TB, start []Filter, lines []string, k int, change func(*Stack)) []byte {
	t.Helper()
	s := NewStack(start...)
	var wire []byte
	var err error
	flush := func() {
		if wire, err = s.Flush(wire); err != nil {
			t.Fatal(err)
		}
	}
	for i, ln := range lines {
		if i == k {
			flush()
			change(s)
		}
		if wire, err = s.Put(wire, []byte(ln)); err != nil {
			t.Fatalf("Put(%q): %v", ln, err)
		}
		if i%2 == 1 {
			flush()
		}
	}
	if k == len(lines) {
		flush()
		change(s)
	}
	flush()
	return wire
}

// readSwitched decodes chunks with a Stack of start's layers, calling
// change when line k has come out (before reading at all when k is 0).
func readSwitched(start []Filter, chunks [][]byte, k int, change func(*Stack)) (decoded, error) {
	s := NewStack(start...)
	if k == 0 {
		change(s)
	}
	return decodeAll(s, chunks, func(n int, _ []byte) {
		if n == k {
			change(s)
		}
	})
}

// switchProof is issue 2's proof for one kind of change: for every k and
// every chunking of the wire, exactly the written lines come out.
func switchProof(t *testing.T, lines []string, start func() []Filter, change func(*Stack)) {
	for k := 0; k <= len(lines); k++ {
		t.Run(fmt.Sprintf("k%d", k), func(t *testing.T) {
			wire := writeSwitched(t, start(), lines, k, change)
			for _, c := range namedSplits(wire) {
				got, err := readSwitched(start(), c.chunks, k, change)
				if err != nil || !slices.Equal(got.recs, lines) || len(got.errs) != 0 || got.pending != "" {
					t.Fatalf("%s: got %v, %v; want %q and nothing pending", c.name, got, err, lines)
				}
			}
		})
	}
}

func TestStackSwitchUnshiftXor(t *testing.T) {
	switchProof(t, switchLines,
		func() []Filter { return []Filter{&Line{}} },
		func(s *Stack) { s.Unshift(&xorFrame{}) })
}

func TestStackSwitchShiftXor(t *testing.T) {
	switchProof(t, switchLines,
		func() []Filter { return []Filter{&xorFrame{}, &Line{}} },
		func(s *Stack) { s.Shift() })
}

// TestStackSwitchNoChangeBreaks shows the proof can fail: a reader that
// does not switch garbles the lines after k.
func TestStackSwitchNoChangeBreaks(t *testing.T) {
	k := 2
	wire := writeSwitched(t, []Filter{&Line{}}, switchLines, k, func(s *Stack) { s.Unshift(&xorFrame{}) })
	got, err := readSwitched([]Filter{&Line{}}, [][]byte{wire}, k, func(*Stack) {})
	if err == nil && slices.Equal(got.recs, switchLines) {
		t.Fatalf("a reader that never switched decoded %q, want garbage after line %d", got.recs, k)
	}
}

func TestStackEmptyPassesThrough(t *testing.T) {
	s := NewStack()
	got, err := decodeAll(s, [][]byte{[]byte("ab"), nil, []byte("c")}, nil)
	if err != nil || !slices.Equal(got.recs, []string{"ab", "c"}) || got.pending != "" {
		t.Fatalf("got %v, %v; want records \"ab\", \"c\"", got, err)
	}
	s.Feed([]byte("x"))
	s.Feed([]byte("y"))
	if p := string(s.Pending()); p != "xy" {
		t.Fatalf("Pending() = %q, want %q", p, "xy")
	}
	out, err := s.Put([]byte("pre:"), []byte("rec"))
	if err != nil || string(out) != "pre:rec" {
		t.Fatalf("Put = %q, %v; want %q", out, err, "pre:rec")
	}
	if out, err = s.Flush(out); err != nil || string(out) != "pre:rec" {
		t.Fatalf("Flush = %q, %v; want %q", out, err, "pre:rec")
	}
}

func TestStackLayers(t *testing.T) {
	a, b, c := &xorFrame{}, &Line{}, &upper{}
	s := NewStack(b)
	s.Push(c)
	s.Unshift(a)
	if s.Len() != 3 || s.Layer(0) != a || s.Layer(1) != b || s.Layer(2) != c {
		t.Fatalf("layers %v, want [xorFrame Line upper]", s.Layers())
	}
	v := s.Layers()
	v[0] = nil
	if s.Layer(0) != a {
		t.Fatalf("Layers() returned the Stack's own slice")
	}
	if got := s.Pop(); got != c {
		t.Fatalf("Pop() = %T, want *upper", got)
	}
	if got := s.Shift(); got != a {
		t.Fatalf("Shift() = %T, want *xorFrame", got)
	}
	if got := s.Shift(); got != b || s.Len() != 0 {
		t.Fatalf("Shift() = %T, Len %d; want *Line, 0", got, s.Len())
	}
	if s.Pop() != nil || s.Shift() != nil {
		t.Fatalf("Pop/Shift of an empty Stack must return nil")
	}
}

func frames(t *testing.T, recs ...string) []byte {
	t.Helper()
	var x xorFrame
	for _, r := range recs {
		x.Put(nil, []byte(r))
	}
	out, _ := x.Flush(nil)
	return out
}

func TestStackPopReturnsPending(t *testing.T) {
	s := NewStack(&xorFrame{}, &Line{})
	s.Feed(frames(t, "a\r\nb\r\npart"))
	rec, ok, err := s.Next()
	if string(rec) != "a" || !ok || err != nil {
		t.Fatalf("Next() = %q, %v, %v; want \"a\"", rec, ok, err)
	}
	s.Pop()
	s.Feed(frames(t, "next"))
	got, err := decodeAll(s, [][]byte{nil}, nil)
	if want := []string{"b\r\npart", "next"}; err != nil || !slices.Equal(got.recs, want) {
		t.Fatalf("after Pop got %v, %v; want %q", got, err, want)
	}
}

func TestStackPushGetsLaterRecords(t *testing.T) {
	s := NewStack(&Line{})
	var got []string
	_, err := decodeAll(s, [][]byte{[]byte("a\r\nb\r\nc\r\n")}, func(n int, rec []byte) {
		got = append(got, string(rec))
		if n == 1 {
			s.Push(&upper{})
		}
	})
	if want := []string{"a", "B", "C"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
}

// TestStackDetach: the Line above an xorFrame still holds "b" (aliasing
// the frame's output) when a layer is unshifted below; xorFrame.Pending
// poisons that output, so the Stack must have detached the Line first.
func TestStackDetach(t *testing.T) {
	s := NewStack(&xorFrame{}, &Line{})
	s.Feed(frames(t, "a\r\nb\r\n"))
	if rec, ok, _ := s.Next(); !ok || string(rec) != "a" {
		t.Fatalf("Next() = %q, %v; want \"a\"", rec, ok)
	}
	s.Unshift(NewStack())
	got, err := decodeAll(s, [][]byte{nil}, nil)
	if want := []string{"b"}; err != nil || !slices.Equal(got.recs, want) {
		t.Fatalf("after Unshift got %v, %v; want %q", got, err, want)
	}
}

func TestStackPending(t *testing.T) {
	s := NewStack(&xorFrame{}, &Line{})
	f := frames(t, "a\r\nb\r\npar")
	s.Feed(append(f, frames(t, "zz")[:2]...)) // and a partial frame
	if rec, ok, _ := s.Next(); !ok || string(rec) != "a" {
		t.Fatalf("Next() = %q, %v; want \"a\"", rec, ok)
	}
	want := "b\r\npar" + string(frames(t, "zz")[:2])
	if p := string(s.Pending()); p != want {
		t.Fatalf("Pending() = %q, want %q", p, want)
	}
	if p := s.Pending(); len(p) != 0 {
		t.Fatalf("second Pending() = %q, want empty", p)
	}
}

func TestStackErrors(t *testing.T) {
	t.Run("per-record", func(t *testing.T) {
		s := NewStack(&xorFrame{}, &Line{Max: 3})
		s.Feed(frames(t, "toolong\r\nok\r\n"))
		_, ok, err := s.Next()
		if ok || !IsRecordError(err) || !errors.Is(err, ErrLineTooLong) ||
			!strings.HasPrefix(err.Error(), "filter: layer 1 (*filter.Line): filter: line too long") {
			t.Fatalf("Next() = %v, %v; want a per-record ErrLineTooLong from layer 1", ok, err)
		}
		if rec, ok, err := s.Next(); !ok || string(rec) != "ok" {
			t.Fatalf("Next() after the error = %q, %v, %v; want \"ok\"", rec, ok, err)
		}
	})
	t.Run("fatal sticky", func(t *testing.T) {
		s := NewStack(&xorFrame{}, &Line{})
		s.Feed(append(frames(t, "ok\r\n"), 0, 1, 2))
		if rec, ok, err := s.Next(); !ok || string(rec) != "ok" {
			t.Fatalf("Next() = %q, %v, %v; want \"ok\"", rec, ok, err)
		}
		for i := range 2 {
			_, ok, err := s.Next()
			if ok || !errors.Is(err, errXorCorrupt) || IsRecordError(err) ||
				!strings.HasPrefix(err.Error(), "filter: layer 0 (*filter.xorFrame)") {
				t.Fatalf("call %d: Next() = %v, %v; want the fatal error of layer 0", i, ok, err)
			}
		}
	})
	t.Run("write per-record", func(t *testing.T) {
		s := NewStack(&Line{})
		out, err := s.Put([]byte("x"), []byte("a\nb"))
		if !errors.Is(err, ErrLineBreak) || !IsRecordError(err) || string(out) != "x" {
			t.Fatalf("Put = %q, %v; want dst unchanged and ErrLineBreak", out, err)
		}
		if out, err = s.Put(out, []byte("ok")); err != nil || string(out) != "xok\r\n" {
			t.Fatalf("Put after the error = %q, %v; want %q", out, err, "xok\r\n")
		}
	})
}

func TestStackWritePath(t *testing.T) {
	s := NewStack(&xorFrame{}, &Line{}, &upper{})
	var out []byte
	var err error
	for _, r := range []string{"PING A", "Nick B"} {
		if out, err = s.Put(out, []byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	if len(out) != 0 {
		t.Fatalf("Put wrote %q before Flush; the xorFrame must hold it", out)
	}
	if out, err = s.Flush(out); err != nil {
		t.Fatal(err)
	}
	want := frames(t, "ping a\r\nnick b\r\n")
	if !bytes.Equal(out, want) {
		t.Fatalf("Flush = %q, want %q", out, want)
	}
	for _, chunks := range splits(out) {
		got, err := decodeAll(NewStack(&xorFrame{}, &Line{}), chunks, nil)
		if w := []string{"ping a", "nick b"}; err != nil || !slices.Equal(got.recs, w) {
			t.Fatalf("decoding %q: got %v, %v; want %q", chunks, got, err, w)
		}
	}
}

// flushHold is a test layer that holds everything and releases it on
// Flush: the Stack must push a mid-stack layer's flushed output through
// the layers below before they flush.
type flushHold struct{ xorFrame }

func (f *flushHold) Flush(dst []byte) ([]byte, error) {
	dst = append(dst, f.hold...)
	f.hold = f.hold[:0]
	return dst, nil
}

func TestStackFlushPassesDown(t *testing.T) {
	s := NewStack(&xorFrame{}, &Line{}, &flushHold{})
	out, err := s.Put(nil, []byte("held"))
	if err != nil || len(out) != 0 {
		t.Fatalf("Put = %q, %v; want nothing yet", out, err)
	}
	if out, err = s.Flush(out); err != nil {
		t.Fatal(err)
	}
	if want := frames(t, "held\r\n"); !bytes.Equal(out, want) {
		t.Fatalf("Flush = %q, want %q", out, want)
	}
}

func TestStackPutAllocs(t *testing.T) {
	s := NewStack(&xorFrame{}, &Line{}, &upper{})
	rec := []byte("PRIVMSG #chan :hello there")
	dst := make([]byte, 0, 4096)
	put := func() {
		out, err := s.Put(dst[:0], rec)
		if err == nil {
			_, err = s.Flush(out)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	put()
	if n := testing.AllocsPerRun(100, put); n != 0 {
		t.Fatalf("Put+Flush through three layers: %v allocs per run, want 0", n)
	}
}
