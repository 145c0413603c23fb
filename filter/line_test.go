package filter

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

func TestLineMatrix(t *testing.T) {
	cases := []struct {
		name    string
		max     int
		in      string
		recs    []string
		nerr    int
		pending string
	}{
		// As POE::Filter::Line behaves with InputRegexp \r?\n.
		{name: "crlf and lf with pending", in: "a\r\nb\nc", recs: []string{"a", "b"}, pending: "c"},
		{name: "bare cr stays", in: "a\rb\r\n", recs: []string{"a\rb"}},
		{name: "empty lines", in: "\r\n\r\n", recs: []string{"", ""}},
		{name: "crlf split across reads", in: "x\r\ny\n", recs: []string{"x", "y"}},
		{name: "empty input", in: ""},
		{name: "only partial", in: "PRIVMSG #a :hel", pending: "PRIVMSG #a :hel"},
		{name: "double cr", in: "a\r\r\n", recs: []string{"a\r"}},
		{name: "lone lf", in: "\n", recs: []string{""}},
		{name: "trailing cr pending", in: "a\nb\r", recs: []string{"a"}, pending: "b\r"},
		{name: "nul and tab are bytes", in: "a\x00b\tc\r\n", recs: []string{"a\x00b\tc"}},
		// Limits: Max 4.
		{name: "exactly max", max: 4, in: "abcd\r\nef\n", recs: []string{"abcd", "ef"}},
		{name: "exactly max lf", max: 4, in: "abcd\nef\n", recs: []string{"abcd", "ef"}},
		{name: "max plus one", max: 4, in: "abcde\r\nef\n", recs: []string{"ef"}, nerr: 1},
		{name: "max plus cr is max", max: 4, in: "abc\r\r\nz\n", recs: []string{"abc\r", "z"}},
		{name: "long then short", max: 4, in: "abcdefghij\nxy\r\n", recs: []string{"xy"}, nerr: 1},
		{name: "two long lines", max: 4, in: "abcdefgh\r\nijklmnop\nq\n", recs: []string{"q"}, nerr: 2},
		{name: "long unterminated", max: 4, in: "ok\nabcdefghijklmnop", recs: []string{"ok"}, nerr: 1},
		{name: "long then partial", max: 4, in: "abcdefgh\nxy", nerr: 1, pending: "xy"},
		{name: "max with trailing cr pending", max: 4, in: "abcd\r", pending: "abcd\r"},
		{name: "max without cr overflows", max: 4, in: "abcde", nerr: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range namedSplits([]byte(tc.in)) {
				l := &Line{Max: tc.max}
				got, err := decodeAll(l, c.chunks, nil)
				if err != nil {
					t.Fatalf("%s: fatal error %v", c.name, err)
				}
				if !slices.Equal(got.recs, tc.recs) || len(got.errs) != tc.nerr || got.pending != tc.pending {
					t.Fatalf("%s: got %v, want recs=%q with %d errors, pending=%q", c.name, got, tc.recs, tc.nerr, tc.pending)
				}
				for _, err := range got.errs {
					if !errors.Is(err, ErrLineTooLong) || !IsRecordError(err) {
						t.Fatalf("%s: error %v, want a RecordError wrapping ErrLineTooLong", c.name, err)
					}
				}
			}
		})
	}
}

func TestLineTooLongMessage(t *testing.T) {
	for _, tc := range []struct {
		max  int
		want string
	}{
		{0, "filter: line too long (Line.Max 8701)"},
		{-3, "filter: line too long (Line.Max 8701)"},
		{10, "filter: line too long (Line.Max 10)"},
	} {
		t.Run(fmt.Sprint(tc.max), func(t *testing.T) {
			l := &Line{Max: tc.max}
			l.Feed(append(bytes.Repeat([]byte("x"), DefaultLineMax+2), '\n'))
			_, ok, err := l.Next()
			if ok || err == nil || err.Error() != tc.want {
				t.Fatalf("Next() = ok %v, err %v; want error %q", ok, err, tc.want)
			}
		})
	}
}

func TestLineDefaultMax(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		ok   bool
	}{
		{"8701 accepted", DefaultLineMax, true},
		{"8702 refused", DefaultLineMax + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l Line
			l.Feed(append(bytes.Repeat([]byte("x"), tc.n), "\r\n"...))
			rec, ok, err := l.Next()
			if ok != tc.ok || (ok && len(rec) != tc.n) || (!ok && !errors.Is(err, ErrLineTooLong)) {
				t.Fatalf("Next() = %d bytes, %v, %v; want ok %v", len(rec), ok, err, tc.ok)
			}
		})
	}
}

// TestLineFloodBounded feeds 50 MB without a newline in 64 KiB chunks:
// one error, a buffer never above Max+1, little heap, and the stream
// resumes after the flood.
func TestLineFloodBounded(t *testing.T) {
	const total = 50 << 20
	chunk := bytes.Repeat([]byte("A"), 64<<10)
	l := &Line{}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	nerr := 0
	for fed := 0; fed < total; fed += len(chunk) {
		l.Feed(chunk)
		for {
			_, ok, err := l.Next()
			if err != nil {
				nerr++
				continue
			}
			if !ok {
				break
			}
			t.Fatalf("got a record in the middle of a flood")
		}
		if cap(l.buf) > l.max()+1 && cap(l.buf) > lineBufSize {
			t.Fatalf("buffer capacity %d after %d bytes, want at most %d", cap(l.buf), fed, l.max()+1)
		}
	}
	runtime.ReadMemStats(&after)
	if nerr != 1 {
		t.Errorf("flood gave %d errors, want 1", nerr)
	}
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 1<<20 {
		t.Errorf("HeapAlloc grew by %d bytes during the flood, want under 1 MiB", grown)
	}
	l.Feed([]byte("tail of flood\r\nPING x\r\n"))
	var recs []string
	for {
		rec, ok, err := l.Next()
		if err != nil {
			t.Fatalf("Next() error %v after the flood", err)
		}
		if !ok {
			break
		}
		recs = append(recs, string(rec))
	}
	if want := []string{"PING x"}; !slices.Equal(recs, want) {
		t.Fatalf("after the flood got %q, want %q", recs, want)
	}
}

// TestLineMemory checks that an idle Line holds no buffer and that a long
// partial line's buffer is let go once the line is consumed.
func TestLineMemory(t *testing.T) {
	l := &Line{}
	drain := func() {
		for {
			_, ok, err := l.Next()
			if !ok && err == nil {
				return
			}
		}
	}
	l.Feed([]byte("PING a\r\nPING b\r\n"))
	drain()
	if l.buf != nil {
		t.Fatalf("after whole lines buf has cap %d, want nil", cap(l.buf))
	}
	l.Feed([]byte("PRIVMSG #c :par"))
	drain()
	if l.buf == nil {
		t.Fatalf("a partial line must be kept in buf")
	}
	l.Feed([]byte("tial\r\n"))
	drain()
	if l.buf != nil {
		t.Fatalf("after the partial line completed buf has cap %d, want nil", cap(l.buf))
	}
	long := bytes.Repeat([]byte("x"), 8000)
	for i := 0; i < len(long); i += 100 {
		l.Feed(long[i : i+100])
		drain()
	}
	if cap(l.buf) < 8000 {
		t.Fatalf("buf cap %d while holding 8000 bytes", cap(l.buf))
	}
	l.Feed([]byte("\r\n"))
	rec, ok, err := l.Next()
	if !ok || err != nil || len(rec) != 8000 {
		t.Fatalf("Next() = %d bytes, %v, %v; want the 8000-byte line", len(rec), ok, err)
	}
	drain()
	if l.buf != nil {
		t.Fatalf("after the long line buf has cap %d, want nil", cap(l.buf))
	}
}

func TestLineFeedTwice(t *testing.T) {
	l := &Line{}
	l.Feed([]byte("a\r\nb"))
	l.Feed([]byte("c\r\nd\n"))
	l.Feed([]byte("e"))
	got, err := decodeAll(l, [][]byte{nil}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "bc", "d"}
	if !slices.Equal(got.recs, want) || got.pending != "e" {
		t.Fatalf("got %v, want recs %q pending %q", got, want, "e")
	}
}

func TestLinePendingKeepsSkip(t *testing.T) {
	l := &Line{Max: 3}
	l.Feed([]byte("abcdefg"))
	if _, ok, err := l.Next(); ok || !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("Next() = %v, %v; want ErrLineTooLong", ok, err)
	}
	if p := l.Pending(); len(p) != 0 {
		t.Fatalf("Pending() = %q, want empty", p)
	}
	l.Feed([]byte("hij\nok\n"))
	got, _ := decodeAll(l, [][]byte{nil}, nil)
	if want := []string{"ok"}; !slices.Equal(got.recs, want) {
		t.Fatalf("got %v, want %q: the rest of the long line must still be dropped", got, want)
	}
}

func TestLinePut(t *testing.T) {
	cases := []struct {
		name string
		rec  string
		want string
		err  bool
	}{
		{name: "plain", rec: "PING x", want: "PING x\r\n"},
		{name: "empty", rec: "", want: "\r\n"},
		{name: "lf injection", rec: "PRIVMSG #a :hi\nQUIT", err: true},
		{name: "crlf injection", rec: "a\r\nQUIT", err: true},
		{name: "bare cr", rec: "a\rb", err: true},
		{name: "trailing lf", rec: "b\n", err: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var l Line
			dst := []byte("pre:")
			got, err := l.Put(dst, []byte(tc.rec))
			if tc.err {
				if !errors.Is(err, ErrLineBreak) || !IsRecordError(err) || string(got) != "pre:" {
					t.Fatalf("Put(%q) = %q, %v; want dst unchanged and a RecordError wrapping ErrLineBreak", tc.rec, got, err)
				}
				return
			}
			if err != nil || string(got) != "pre:"+tc.want {
				t.Fatalf("Put(%q) = %q, %v; want %q", tc.rec, got, err, "pre:"+tc.want)
			}
			out, err := l.Flush(got)
			if err != nil || !bytes.Equal(out, got) {
				t.Fatalf("Flush = %q, %v; want %q", out, err, got)
			}
		})
	}
}

func TestLineRoundTripMatrix(t *testing.T) {
	lines := []string{"PING :x", "", "@a=b;c :n!u@h PRIVMSG #c :hi there", strings.Repeat("z", 300), "a\tb"}
	var l Line
	var wire []byte
	for _, s := range lines {
		var err error
		if wire, err = l.Put(wire, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range namedSplits(wire) {
		got, err := decodeAll(&Line{}, c.chunks, nil)
		if err != nil || !slices.Equal(got.recs, lines) || got.pending != "" || len(got.errs) != 0 {
			t.Fatalf("%s: got %v, %v; want %q", c.name, got, err, lines)
		}
	}
}

// lineModel is the specification of Line's input side, written plainly: the
// records, the number of too-long errors and the pending bytes for input
// fed in any chunking.
func lineModel(input []byte, max int) (recs []string, nerr int, pending string) {
	parts := bytes.Split(input, []byte("\n"))
	tail := parts[len(parts)-1]
	for _, p := range parts[:len(parts)-1] {
		p = bytes.TrimSuffix(p, []byte("\r"))
		if len(p) > max {
			nerr++
		} else {
			recs = append(recs, string(p))
		}
	}
	if n := len(tail); n > max+1 || n == max+1 && tail[n-1] != '\r' {
		return recs, nerr + 1, ""
	}
	return recs, nerr, string(tail)
}

func FuzzLine(f *testing.F) {
	for _, s := range []string{"a\r\nb\nc", "a\rb\r\n", "\r\n\r\n", "x\r\ny\n", "abcdefgh\r\nijkl\nq\n",
		"PRIVMSG #a :hel", "abc\r\r\nz\n", "@a=b :n!u@h PRIVMSG #c :hi\r\n"} {
		f.Add([]byte(s), uint16(4), uint64(1))
		f.Add([]byte(s), uint16(0), uint64(2))
	}
	f.Fuzz(func(t *testing.T, input []byte, max uint16, seed uint64) {
		l := &Line{Max: int(max % 64)}
		got, err := decodeAll(l, randomChunks(input, seed), nil)
		if err != nil {
			t.Fatalf("fatal error %v", err)
		}
		recs, nerr, pending := lineModel(input, l.max())
		if !slices.Equal(got.recs, recs) || len(got.errs) != nerr || got.pending != pending {
			t.Fatalf("got %v, want recs=%q, %d errors, pending=%q", got, recs, nerr, pending)
		}
		for _, r := range got.recs {
			if len(r) > l.max() || strings.IndexByte(r, '\n') >= 0 {
				t.Fatalf("record %q is longer than %d or holds an LF", r, l.max())
			}
		}
		if l.buf != nil && cap(l.buf) > lineBufSize && cap(l.buf) > 2*(l.max()+1)+len(input) {
			t.Fatalf("buffer capacity %d for Max %d", cap(l.buf), l.max())
		}
	})
}

// TestLineSize: every connection holds a Line, idle or not; a field
// added or moved between the slices would take it to the next size
// class.
func TestLineSize(t *testing.T) {
	if n := unsafe.Sizeof(Line{}); n > 80 {
		t.Errorf("Line is %d bytes, over 80", n)
	}
}
