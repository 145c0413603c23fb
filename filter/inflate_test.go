package filter

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	stdadler "hash/adler32"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// rawInflate decodes a raw deflate stream (no zlib framing) fed in the
// given chunks. done reports whether the final block ended.
func rawInflate(chunks [][]byte) (out []byte, done bool, err error) {
	f := newInflater(true)
	for _, c := range chunks {
		f.feed(c)
		for {
			rec, st := f.run(zlibChunk)
			out = append(out, rec...)
			switch st {
			case runErr:
				return out, false, f.err
			case runEnd:
				return out, true, nil
			case runMore:
				if len(rec) > 0 {
					continue
				}
				f.detach()
			default:
				continue
			}
			break
		}
	}
	return out, false, nil
}

// flateOracle decodes a raw deflate stream with compress/flate; ok is
// false if it reports any error (including a truncated stream).
func flateOracle(in []byte) (out []byte, ok bool) {
	out, err := io.ReadAll(flate.NewReader(bytes.NewReader(in)))
	return out, err == nil
}

func stdFlate(t testing.TB, level int, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

func TestInflateMatchesFlate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 40000)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	// Text with repeats at every distance up to the window's end.
	var far []byte
	for len(far) < 100000 {
		n := 1 + r.IntN(300)
		if len(far) > 33000 && r.IntN(2) == 0 {
			back := 1 + r.IntN(min(len(far), 32768)-n)
			far = append(far, far[len(far)-back:len(far)-back+n]...)
		} else {
			far = append(far, random[:n]...)
			random = append(random[n:], random[:n]...)
		}
	}
	inputs := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"irc text", []byte(strings.Join(ircLines(600, 11), ""))},
		{"random", random},
		{"zeros", make([]byte, 100000)},
		{"far repeats", far},
	}
	for _, in := range inputs {
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, 5, flate.BestCompression} {
			t.Run(fmt.Sprintf("%s level %d", in.name, level), func(t *testing.T) {
				raw := stdFlate(t, level, in.data)
				for _, c := range zChunkings(raw, 4) {
					got, done, err := rawInflate(c.chunks)
					if err != nil || !done || !bytes.Equal(got, in.data) {
						t.Fatalf("%s: %d bytes, done %v, err %v; want %d bytes, done, nil (first difference at %d)",
							c.name, len(got), done, err, len(in.data), firstDiff(got, in.data))
					}
				}
			})
		}
	}
}

// canonical returns the canonical Huffman codes for code lengths lens
// (RFC 1951 3.2.2), for writing hand-made streams.
func canonical(lens []uint8) []uint16 {
	var count, next [16]int
	for _, l := range lens {
		if l > 0 {
			count[l]++
		}
	}
	code := 0
	for l := 1; l < 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	codes := make([]uint16, len(lens))
	for i, l := range lens {
		if l > 0 {
			codes[i] = uint16(next[l])
			next[l]++
		}
	}
	return codes
}

// dynHeader writes a dynamic block header for the given code lengths,
// sending each length as a literal code length with 4-bit codes for
// code length symbols 0..15. It returns the literal/length and distance
// codes.
func (w *rawBits) dynHeader(final bool, lit, dist []uint8) (litCodes, distCodes []uint16) {
	b := uint64(0)
	if final {
		b = 1
	}
	w.put(b, 1)
	w.put(2, 2)
	w.put(uint64(len(lit)-257), 5)
	w.put(uint64(len(dist)-1), 5)
	w.put(19-4, 4)
	var cl [19]uint8
	for s := range 16 {
		cl[s] = 4
	}
	for _, s := range clOrder {
		w.put(uint64(cl[s]), 3)
	}
	clCodes := canonical(cl[:])
	for _, l := range append(append([]uint8(nil), lit...), dist...) {
		w.code(uint64(clCodes[l]), 4)
	}
	return canonical(lit), canonical(dist)
}

// handMade returns hand-written raw deflate streams that exercise the
// corners compressors rarely reach, with the output each must give.
func handMade(t testing.TB) []struct {
	name string
	raw  []byte
	want []byte
} {
	r := rand.New(rand.NewPCG(3, 4))
	hist := make([]byte, 32768)
	for i := range hist {
		hist[i] = byte(r.Uint32())
	}
	type stream = struct {
		name string
		raw  []byte
		want []byte
	}
	var out []stream

	// A full window of stored history, then matches at distance 32768
	// and 1 that run around the ring many times and straddle its end.
	{
		var w rawBits
		w.put(0, 1)
		w.put(0, 2)
		w.put(0, 5) // to the byte boundary
		w.put(32768, 16)
		w.put(^uint64(32768)&0xffff, 16)
		w.out = append(w.out, hist...)
		want := bytes.Clone(hist)
		w.put(1, 1)
		w.put(1, 2)
		for i := range 400 {
			if i%3 == 2 {
				w.fixedLitCode(285) // 258
				w.code(0, 5)        // distance 1
				for range 258 {
					want = append(want, want[len(want)-1])
				}
				continue
			}
			w.fixedLitCode(284) // 227 + 5 extra bits
			w.put(31, 5)        // 258
			w.code(29, 5)       // 24577 + 13 extra bits
			w.put(8191, 13)     // 32768
			for range 258 {
				want = append(want, want[len(want)-32768])
			}
		}
		w.fixedLitCode(256)
		out = append(out, stream{"matches at distances 32768 and 1 around the ring", w.bytes(), want})
	}

	// A dynamic block with a single distance code of length one (an
	// incomplete code that zlib and compress/flate accept).
	{
		lit := make([]uint8, 257+1) // literals 'a', 'b', end, length 3
		lit['a'], lit['b'], lit[256], lit[257] = 2, 2, 2, 2
		dist := []uint8{1}
		var w rawBits
		lc, dc := w.dynHeader(true, lit, dist)
		w.code(uint64(lc['a']), 2)
		w.code(uint64(lc['b']), 2)
		w.code(uint64(lc[257]), 2)
		w.code(uint64(dc[0]), 1) // distance 1
		w.code(uint64(lc[256]), 2)
		out = append(out, stream{"single one-bit distance code", w.bytes(), []byte("abbbb")})
	}

	// A dynamic block whose distance code is empty: literals only.
	{
		lit := make([]uint8, 257)
		lit['x'], lit[256] = 1, 1
		var w rawBits
		lc, _ := w.dynHeader(true, lit, []uint8{0})
		for range 5 {
			w.code(uint64(lc['x']), 1)
		}
		w.code(uint64(lc[256]), 1)
		out = append(out, stream{"empty distance code", w.bytes(), []byte("xxxxx")})
	}

	// Codes 15 bits long, which go through second-level tables, for
	// every symbol of a dynamic block.
	{
		lit := make([]uint8, 286)
		// Kraft sum 1: lengths 1, 2, ..., 14, 15, 15 for symbols spread
		// over the alphabet.
		syms := []int{'e', 't', 'a', 256, 'o', 'i', 'n', 257, 's', 'h', 'r', 'd', 285, 'l', 'c', 'u'}
		for i, s := range syms {
			lit[s] = uint8(min(i+1, 15))
		}
		dist := make([]uint8, 30)
		for i := range 16 {
			dist[i] = uint8(min(i+1, 15))
		}
		var w rawBits
		lc, dc := w.dynHeader(true, lit, dist)
		var want []byte
		for _, s := range syms {
			switch {
			case s < 256:
				w.code(uint64(lc[s]), uint(lit[s]))
				want = append(want, byte(s))
			case s == 257 || s == 285:
				n := 3
				if s == 285 {
					n = 258
				}
				w.code(uint64(lc[s]), uint(lit[s]))
				w.code(uint64(dc[0]), uint(dist[0])) // distance 1
				for range n {
					want = append(want, want[len(want)-1])
				}
			}
		}
		// The longest distance code in use: code 15, distance 193 + 6 bits.
		for len(want) < 300 {
			w.code(uint64(lc['u']), uint(lit['u']))
			want = append(want, 'u')
		}
		w.code(uint64(lc[285]), uint(lit[285]))
		w.code(uint64(dc[15]), 15)
		w.put(63, 6) // distance 256
		for range 258 {
			want = append(want, want[len(want)-256])
		}
		w.code(uint64(lc[256]), uint(lit[256]))
		out = append(out, stream{"15-bit codes", w.bytes(), want})
	}

	// Code length repeats: 16 (repeat the previous length) and 17
	// (zeros) crossing from the literal/length lengths into the
	// distance lengths; and the same header with a repeat running past
	// the last length, which is corrupt.
	for _, corrupt := range []bool{false, true} {
		var w rawBits
		w.put(1, 1)
		w.put(2, 2)
		w.put(2, 5)  // 259 literal/length codes
		w.put(1, 5)  // 2 distance codes
		w.put(15, 4) // all 19 code length code lengths
		var cl [19]uint8
		cl[8], cl[16], cl[9], cl[17], cl[1] = 2, 2, 2, 3, 3
		for _, s := range clOrder {
			w.put(uint64(cl[s]), 3)
		}
		cc := canonical(cl[:])
		emit := func(s int, extra uint64, n uint) {
			w.code(uint64(cc[s]), uint(cl[s]))
			w.put(extra, n)
		}
		// Literals 0..254: 8 bits; 255 and end of block: 9 bits; length
		// symbols 257, 258 and distance code 0: none; distance code 1:
		// one bit.
		emit(8, 0, 0)
		for range 41 {
			emit(16, 3, 2) // six more
		}
		emit(16, 1, 2) // four more
		emit(16, 1, 2) // four more: 255 in all
		emit(9, 0, 0)
		emit(9, 0, 0)
		emit(17, 0, 3) // three zeros: 257, 258, distance 0
		if corrupt {
			emit(17, 0, 3) // three zeros, with one length left
			w.put(0, 16)
			out = append(out, stream{"repeat past the end", w.bytes(), nil})
			continue
		}
		emit(1, 0, 0)
		lit := make([]uint8, 259)
		for i := range 255 {
			lit[i] = 8
		}
		lit[255], lit[256] = 9, 9
		lc := canonical(lit)
		for _, c := range []byte("hi") {
			w.code(uint64(lc[c]), 8)
		}
		w.code(uint64(lc[256]), 9)
		out = append(out, stream{"code length repeats across the two codes", w.bytes(), []byte("hi")})
	}
	return out
}

func TestInflateHandMade(t *testing.T) {
	for _, s := range handMade(t) {
		t.Run(s.name, func(t *testing.T) {
			oracle, ok := flateOracle(s.raw)
			if s.want != nil && (!ok || !bytes.Equal(oracle, s.want)) {
				t.Fatalf("compress/flate: %d bytes, ok %v; the hand-made stream is wrong", len(oracle), ok)
			}
			for _, c := range zChunkings(s.raw, 300) {
				got, done, err := rawInflate(c.chunks)
				if ok {
					if err != nil || !done || !bytes.Equal(got, oracle) {
						t.Fatalf("%s: %d bytes, done %v, err %v; want %d bytes like compress/flate", c.name, len(got), done, err, len(oracle))
					}
				} else if done || !errors.Is(err, ErrZlibCorrupt) {
					t.Fatalf("%s: %d bytes, done %v, err %v on a stream compress/flate rejects; want %v", c.name, len(got), done, err, ErrZlibCorrupt)
				}
			}
		})
	}
}

func TestBuildTable(t *testing.T) {
	cases := []struct {
		name string
		lens []uint8
		ok   bool
	}{
		{"complete", []uint8{1, 2, 3, 3}, true},
		{"empty", []uint8{0, 0, 0}, true},
		{"single one-bit code", []uint8{0, 1, 0}, true},
		{"two one-bit codes", []uint8{1, 1}, true},
		{"oversubscribed", []uint8{1, 1, 1}, false},
		{"incomplete", []uint8{1, 2}, false},
		{"single two-bit code", []uint8{2}, false},
		{"oversubscribed at 15 bits", append(bytes.Repeat([]uint8{15}, 1<<15), 15), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := buildTable(nil, tc.lens, 9); ok != tc.ok {
				t.Fatalf("buildTable(%v) ok = %v, want %v", tc.lens[:min(8, len(tc.lens))], ok, tc.ok)
			}
		})
	}
}

func TestAdler32(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 5551, 5552, 5553, 100000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			p := make([]byte, n)
			for i := range p {
				p[i] = 0xff - byte(r.IntN(3)) // near-maximal bytes stress the overflow bound
			}
			want := stdadler.Checksum(p)
			// In two pieces, as run sums chunk by chunk.
			got := adler32(adler32(1, p[:n/3]), p[n/3:])
			if got != want {
				t.Fatalf("adler32 = %#08x, want %#08x", got, want)
			}
		})
	}
}
