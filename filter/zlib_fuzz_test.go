package filter

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzChunks cuts in into chunks of 0 to 2*avg bytes chosen by seed.
func fuzzChunks(in []byte, seed uint64, avg int) [][]byte {
	r := rand.New(rand.NewPCG(seed, seed>>32|1))
	var chunks [][]byte
	for len(in) > 0 {
		n := min(r.IntN(2*avg+1), len(in))
		chunks = append(chunks, in[:n])
		in = in[n:]
	}
	return chunks
}

// FuzzZlib is the round trip: data is cut into records and batches at
// points chosen by seed, written with Zlib's encoder at the given level,
// and read back by a Zlib decoder under a chunking chosen by seed. The
// same stream must also decode with compress/zlib. Then data itself is
// fed to a decoder as if it were a zlib stream, which must not panic and
// may only fail with the package's errors.
func FuzzZlib(f *testing.F) {
	f.Add([]byte("PING :irc.example.net\r\n"), uint64(1), uint8(0))
	f.Add([]byte(strings.Join(ircLines(30, 1), "")), uint64(2), uint8(1))
	f.Add([]byte(strings.Repeat("PRIVMSG #c :same\r\n", 40)), uint64(3), uint8(9))
	f.Add([]byte(strings.Join(ircLines(200, 5), "")), uint64(7), uint8(128))
	f.Add(stdZlib(f, 6, batches(ircLines(10, 2), 3), true), uint64(4), uint8(5))
	for _, name := range []string{"zlib_partial.zz", "zlib_full.zz", "zlib_noflush_end.zz"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b, uint64(5), uint8(6))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, level uint8) {
		if len(data) > 8<<10 {
			return
		}
		r := rand.New(rand.NewPCG(seed, 99))
		enc := &Zlib{Level: int(level % 10), LowMemory: level >= 128}
		var wire []byte
		var err error
		for rest := data; len(rest) > 0; {
			n := min(1+r.IntN(200), len(rest))
			if wire, err = enc.Put(wire, rest[:n]); err != nil {
				t.Fatalf("Put: %v", err)
			}
			rest = rest[n:]
			if r.IntN(3) == 0 || len(rest) == 0 {
				if wire, err = enc.Flush(wire); err != nil {
					t.Fatalf("Flush: %v", err)
				}
			}
		}
		res := zDecode(t, &Zlib{}, fuzzChunks(wire, seed, 1+int(seed%64)), nil)
		if !bytes.Equal(res.out, data) || res.err != nil || len(res.pending) != 0 {
			t.Fatalf("round trip: %d bytes (want %d), err %v, pending %d bytes", len(res.out), len(data), res.err, len(res.pending))
		}
		if len(wire) > 0 {
			got := make([]byte, len(data))
			zr, err := zlib.NewReader(bytes.NewReader(wire))
			if err == nil {
				_, err = io.ReadFull(zr, got)
			}
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("compress/zlib read of our stream: err %v, equal %v", err, bytes.Equal(got, data))
			}
		}

		// data as a hostile zlib stream.
		res = zDecode(t, &Zlib{}, fuzzChunks(data, seed, 8), nil)
		if res.err != nil && !errors.Is(res.err, ErrZlibCorrupt) && !errors.Is(res.err, ErrZlibStreamEnd) && !errors.Is(res.err, ErrInflateLimit) {
			t.Fatalf("decoding data as zlib: error %v is none of the package's", res.err)
		}
	})
}

// FuzzInflate feeds arbitrary bytes to the raw inflater, whole and in
// chunks chosen by seed. It must never panic, and compress/flate is the
// oracle: when it decodes the bytes as a complete raw deflate stream, the
// inflater must give the identical output; when it does not, the inflater
// must not report a complete stream either.
func FuzzInflate(f *testing.F) {
	f.Add([]byte{0x03, 0x00}, uint64(1)) // an empty fixed block
	f.Add(stdFlate(f, 6, []byte(strings.Join(ircLines(20, 3), ""))), uint64(2))
	f.Add(stdFlate(f, 0, []byte("stored block")), uint64(3))
	f.Add(stdFlate(f, -2, []byte("huffman only huffman only")), uint64(4))
	f.Add(stdFlate(f, 9, make([]byte, 5000)), uint64(5))
	for _, s := range handMade(f) {
		f.Add(s.raw, uint64(6))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		if len(data) > 8<<10 {
			return
		}
		want, ok := flateOracle(data)
		for _, chunks := range [][][]byte{{data}, fuzzChunks(data, seed, 1+int(seed%16))} {
			got, done, err := rawInflate(chunks)
			if err != nil && !errors.Is(err, ErrZlibCorrupt) {
				t.Fatalf("error %v, want nil or %v", err, ErrZlibCorrupt)
			}
			if ok && (!done || !bytes.Equal(got, want)) {
				t.Fatalf("compress/flate decodes %d bytes; inflater gave %d, done %v, err %v (first difference at %d)",
					len(want), len(got), done, err, firstDiff(got, want))
			}
			if !ok && done {
				t.Fatalf("inflater decoded a complete stream of %d bytes that compress/flate rejects", len(got))
			}
		}
	})
}
