package fuzz

import (
	"bytes"
	"compress/zlib"
	"io"
	"strings"
	"testing"

	"github.com/ircsock/ircsock/filter"
)

// writeAll writes pieces through w, going on after per-record errors,
// closes w, and returns how many per-record errors there were.
func writeAll(t *testing.T, w *filter.Writer, pieces [][]byte) int {
	bad := 0
	for _, p := range pieces {
		for len(p) > 0 {
			n, err := w.Write(p)
			if n < 0 || n > len(p) {
				t.Fatalf("Write returned n = %d for %d bytes", n, len(p))
			}
			p = p[n:]
			if err != nil {
				if !filter.IsRecordError(err) {
					t.Fatalf("Write: fatal error %v", err)
				}
				bad++
			} else if len(p) > 0 {
				t.Fatalf("Write returned n < len(p) with no error")
			}
		}
	}
	if err := w.Close(); err != nil {
		if !filter.IsRecordError(err) {
			t.Fatalf("Close: %v", err)
		}
		bad++
	}
	return bad
}

// lineModel is what a Writer with a Line (Max max) on top must write for
// text: each line (the last one too, if not empty) with one CR before its
// LF dropped, followed by CR LF, except lines longer than max or with a CR
// inside, which are dropped and counted.
func lineModel(text []byte, max int) (out []byte, bad int) {
	lines := strings.Split(string(text), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if len(l) > max || strings.Contains(l, "\r") {
			bad++
			continue
		}
		out = append(out, l+"\r\n"...)
	}
	return out, bad
}

// FuzzWriterSplits writes the same bytes through a filter.Writer in one
// Write and in random pieces: the outputs must be byte for byte the same,
// with the same per-record errors, and must be what a model of line
// framing predicts (read back with compress/zlib when a Zlib is at the
// bottom). Stacks: Line, Zlib+Line, Zlib, and the empty Stack.
func FuzzWriterSplits(f *testing.F) {
	f.Add([]byte("PING :a\r\nPRIVMSG #c :b\nlast"), uint64(1), uint8(0), uint16(20))
	f.Add([]byte("a\rb\nCR\r\r\n\n\r\n"+strings.Repeat("x", 40)+"\n"), uint64(2), uint8(1), uint16(30))
	f.Add([]byte("\x00\xff binary \r\n bytes"), uint64(3), uint8(2), uint16(0))
	f.Add([]byte("tail without end\r"), uint64(4), uint8(3), uint16(5))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, kind uint8, max uint16) {
		lineMax := 1 + int(max)%600
		stack := func() *filter.Stack {
			switch kind % 4 {
			case 0:
				return filter.NewStack(&filter.Line{Max: lineMax})
			case 1:
				return filter.NewStack(&filter.Zlib{LowMemory: kind&4 != 0}, &filter.Line{Max: lineMax})
			case 2:
				return filter.NewStack(&filter.Zlib{LowMemory: kind&4 != 0})
			}
			return filter.NewStack()
		}
		var one, split bytes.Buffer
		badOne := writeAll(t, filter.NewWriter(&one, stack()), [][]byte{data})
		badSplit := writeAll(t, filter.NewWriter(&split, stack()), chunk(data, seed))
		if !bytes.Equal(one.Bytes(), split.Bytes()) || badOne != badSplit {
			t.Fatalf("one Write: %q with %d errors\nsplit: %q with %d errors", one.Bytes(), badOne, split.Bytes(), badSplit)
		}

		plain := one.Bytes()
		if kind%4 == 1 || kind%4 == 2 {
			zr, err := zlib.NewReader(bytes.NewReader(plain))
			if err != nil {
				t.Fatalf("compress/zlib: %v", err)
			}
			if plain, err = io.ReadAll(zr); err != nil {
				t.Fatalf("compress/zlib: %v after %q", err, plain)
			}
		}
		want, bad := data, 0
		if kind%4 < 2 {
			want, bad = lineModel(data, lineMax)
		}
		if !bytes.Equal(plain, want) || badOne != bad {
			t.Fatalf("wrote %q with %d errors, model says %q with %d", plain, badOne, want, bad)
		}
	})
}
