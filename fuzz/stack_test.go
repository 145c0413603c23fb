package fuzz

import (
	"bytes"
	"compress/zlib"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ircsock/ircsock/filter"
)

// fuzzLines turns fuzz bytes into at most 64 lines of at most 300 bytes,
// with no CR or LF inside: what a Line layer can carry whole.
func fuzzLines(text []byte) []string {
	var lines []string
	for l := range strings.SplitSeq(string(text), "\n") {
		if len(lines) == 64 {
			break
		}
		l = strings.ReplaceAll(l, "\r", "")
		lines = append(lines, l[:min(len(l), 300)])
	}
	return lines
}

// Ways a peer ends its compressed stream before it goes on in plaintext.
const (
	endSync       = iota // a sync flush, nothing more
	endFinish            // Close with no flush before it
	endSyncFinish        // a sync flush, then Close
	numEndings
)

// compressLines is the model's compressor: compress/zlib, with a sync
// flush after every line if perLine, ended as ending says.
func compressLines(t *testing.T, lines []string, level, ending int, perLine bool) []byte {
	var b bytes.Buffer
	zw, err := zlib.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		zw.Write([]byte(l + "\r\n"))
		if perLine && ending != endFinish {
			zw.Flush()
		}
	}
	if ending != endFinish {
		zw.Flush()
	}
	if ending != endSync {
		zw.Close()
	}
	return b.Bytes()
}

// chunk cuts b into random pieces (some empty, some one byte).
func chunk(b []byte, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	var out [][]byte
	for len(b) > 0 {
		n := rng.IntN(min(len(b), 64) + 1)
		if rng.IntN(4) == 0 {
			n = min(1, len(b))
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// FuzzStackZlibShift reads plaintext lines, then lines compressed by
// compress/zlib (the model), then plaintext again, in random chunks,
// through a Stack that Unshifts a Zlib after the last plaintext line
// (or starts with one) and Shifts it out after the last compressed line.
// The records must be exactly the lines, whichever way the stream ended.
func FuzzStackZlibShift(f *testing.F) {
	f.Add([]byte("PING :a\nPRIVMSG #c :hello\nNOTICE * :x\nPING :after"), uint8(1), uint8(2), uint8(0), uint64(1))
	f.Add([]byte("CAPAB ZIP\n:s 001 me :hi\n\n"+strings.Repeat("z", 200)+"\nQUIT"), uint8(1), uint8(3), uint8(5), uint64(7))
	f.Add([]byte("a\nb\nc\nd\ne\nf"), uint8(0), uint8(2), uint8(2), uint64(3))
	f.Add([]byte("one\n\x03two\n\x01three"), uint8(0), uint8(1), uint8(0), uint64(9))
	f.Fuzz(func(t *testing.T, text []byte, before, compressed, how uint8, seed uint64) {
		lines := fuzzLines(text)
		m := int(before) % len(lines)
		k := 1 + int(compressed)%(len(lines)-m)
		ending := int(how) % numEndings
		perLine := how&0x10 != 0
		level := []int{zlib.DefaultCompression, zlib.BestSpeed, zlib.BestCompression, zlib.NoCompression}[int(how>>5)%4]
		rest := lines[m+k:]
		if len(rest) > 0 && ending == endSync && len(rest[0]) > 0 && (rest[0][0] == 0x01 || rest[0][0] == 0x03) {
			// After a stream that stops at a sync flush, plaintext that
			// begins like an empty final block (01, 03) is read as one;
			// no IRC line starts so (filter.Stack.Shift's doc).
			rest[0] = "x" + rest[0]
		}

		var wire []byte
		for _, l := range lines[:m] {
			wire = append(wire, l+"\r\n"...)
		}
		wire = append(wire, compressLines(t, lines[m:m+k], level, ending, perLine)...)
		for _, l := range rest {
			wire = append(wire, l+"\r\n"...)
		}

		s := filter.NewStack(&filter.Line{})
		if m == 0 {
			s.Unshift(&filter.Zlib{})
		}
		var got []string
		for _, c := range chunk(wire, seed) {
			s.Feed(bytes.Clone(c))
			for {
				rec, ok, err := s.Next()
				if err != nil {
					t.Fatalf("Next() error %v after %d records %q", err, len(got), got)
				}
				if !ok {
					break
				}
				got = append(got, string(rec))
				switch len(got) {
				case m:
					s.Unshift(&filter.Zlib{})
				case m + k:
					s.Shift()
				}
			}
		}
		if !slices.Equal(got, lines) {
			t.Fatalf("got %d records %q\nwant %d lines %q", len(got), got, len(lines), lines)
		}
		if p := s.Pending(); len(p) != 0 {
			t.Fatalf("Pending() = %q after the last line", p)
		}
	})
}
