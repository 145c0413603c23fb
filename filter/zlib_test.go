package filter

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/ircsock/ircsock/internal/corpus"
	kflate "github.com/klauspost/compress/flate"
	kzlib "github.com/klauspost/compress/zlib"
)

// raceMaxSplits caps the two-piece splits of zChunkings under the race
// detector.
const raceMaxSplits = 64

// zChunking is one way to cut a compressed stream into Feed chunks.
type zChunking struct {
	name   string
	chunks [][]byte
}

// zChunkings returns the boundary matrix for a compressed stream: whole,
// one byte at a time (for inputs up to 8 KiB; longer ones get random
// chunks of 0 to 19 bytes), split in two at every index (at most
// maxSplits of them, evenly spread, if maxSplits > 0), and seeded random
// chunkings of small and of larger chunks.
//
// Under the race detector the two-piece splits are capped at
// raceMaxSplits, evenly spread: the decoders run on one goroutine, so
// repeating the split matrix instrumented finds no race the capped one
// misses, and every index is still tried by the plain test run.
func zChunkings(in []byte, maxSplits int) []zChunking {
	cs := []zChunking{{"whole", [][]byte{in}}}
	if len(in) <= 8<<10 {
		bytewise := make([][]byte, len(in))
		for i := range in {
			bytewise[i] = in[i : i+1]
		}
		cs = append(cs, zChunking{"bytewise", bytewise})
	}
	if raceEnabled && (maxSplits == 0 || maxSplits > raceMaxSplits) {
		maxSplits = raceMaxSplits
	}
	stride := 1
	if maxSplits > 0 && len(in) > maxSplits {
		stride = len(in)/maxSplits + 1
	}
	for i := 0; i <= len(in); i += stride {
		cs = append(cs, zChunking{fmt.Sprintf("split%d", i), [][]byte{in[:i], in[i:]}})
	}
	for seed := uint64(1); seed <= 6; seed++ {
		top := 20
		if seed > 3 {
			top = 2000
		}
		r := rand.New(rand.NewPCG(seed, 0x2b1))
		var chunks [][]byte
		for rest := in; len(rest) > 0; {
			n := min(r.IntN(top), len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		cs = append(cs, zChunking{fmt.Sprintf("random%d-%d", seed, top), chunks})
	}
	return cs
}

// zResult is what a Zlib decoder gave for a chunking.
type zResult struct {
	out     []byte
	chunks  int   // records returned
	err     error // the fatal error, if any
	pending []byte
	synced  bool
}

// zDecode feeds each chunk (a private copy, scribbled over once the
// decoder has asked for more input, as the contract allows) and collects
// the output until input is exhausted, then takes Pending. After a fatal
// error it keeps feeding, so that Pending has every later byte. If hook
// is set, it runs after every record.
func zDecode(t testing.TB, z *Zlib, chunks [][]byte, hook func()) zResult {
	t.Helper()
	var r zResult
	var held [][]byte // chunks the decoder may still refer to
	for _, c := range chunks {
		p := bytes.Clone(c)
		z.Feed(p)
		held = append(held, p)
		for r.err == nil {
			rec, ok, err := z.Next()
			if err != nil {
				r.err = err
				break
			}
			if !ok {
				for _, h := range held {
					for i := range h {
						h[i] = '#'
					}
				}
				held = held[:0]
				break
			}
			if len(rec) > zlibChunk {
				t.Fatalf("Next() returned a record of %d bytes, want at most %d", len(rec), zlibChunk)
			}
			r.out = append(r.out, rec...)
			r.chunks++
			if hook != nil {
				hook()
			}
		}
	}
	if r.err != nil {
		if _, ok, err := z.Next(); ok || err != r.err {
			t.Fatalf("Next() after %v = ok %v, err %v; want the same error again", r.err, ok, err)
		}
	}
	r.synced = z.Synced()
	r.pending = bytes.Clone(z.Pending())
	return r
}

// stdZlib compresses batches with the standard library's compress/zlib,
// flushing after each batch, and closing the stream if finish is set.
func stdZlib(t testing.TB, level int, batches []string, finish bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := zlib.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if _, err := w.Write([]byte(b)); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if finish {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// ircLines returns n varied IRC lines, CRLF-terminated, deterministic for
// a seed: PRIVMSGs with a source, tagged lines, numerics with many
// parameters, PINGs and a few long lines.
func ircLines(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 7))
	words := strings.Fields("the quick brown fox jumps over lazy dog irc server channel " +
		"hello world bouncer link compression zlib deflate window burst flood ping pong")
	text := func(k int) string {
		var b strings.Builder
		for i := range k {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[r.IntN(len(words))])
		}
		return b.String()
	}
	lines := make([]string, n)
	for i := range lines {
		var l string
		switch r.IntN(8) {
		case 0:
			l = fmt.Sprintf("PING :irc%d.example.net", r.IntN(4))
		case 1:
			l = fmt.Sprintf("@time=2026-11-21T19:%02d:%02d.%03dZ;msgid=%x;+draft/reply=a\\sb :nick%d!~u%d@host%d.example.org PRIVMSG #chan%d :%s",
				r.IntN(60), r.IntN(60), r.IntN(1000), r.Uint64(), r.IntN(40), r.IntN(40), r.IntN(9), r.IntN(5), text(3+r.IntN(12)))
		case 2:
			l = fmt.Sprintf(":irc.example.net 005 nick%d CHANTYPES=# EXCEPTS INVEX CHANMODES=eIbq,k,flj,CFLMPQScgimnprstz CHANLIMIT=#:120 PREFIX=(ov)@+ MAXLIST=bqeI:100 MODES=4 NETWORK=example KNOCK STATUSMSG=@+ CALLERID=g :are supported by this server", r.IntN(40))
		case 3:
			l = ":nick" + fmt.Sprint(r.IntN(40)) + "!~user@host.example.org PRIVMSG #long :" + text(90)[:400]
		default:
			l = fmt.Sprintf(":nick%d!~user%d@host%d.example.org PRIVMSG #chan%d :%s", r.IntN(40), r.IntN(40), r.IntN(9), r.IntN(5), text(2+r.IntN(15)))
		}
		lines[i] = l + "\r\n"
	}
	return lines
}

// batches groups lines into batches of size k.
func batches(lines []string, k int) []string {
	var out []string
	for i := 0; i < len(lines); i += k {
		out = append(out, strings.Join(lines[i:min(i+k, len(lines))], ""))
	}
	return out
}

func TestZlibDecodesStdlib(t *testing.T) {
	lines := ircLines(200, 1)
	big := ircLines(1500, 2) // more than the 32 KiB window
	cases := []struct {
		name    string
		level   int
		batches []string
		finish  bool
		splits  int // most split points tried
	}{
		{"one line", zlib.DefaultCompression, []string{"PING :irc.example.net\r\n"}, false, 0},
		{"one line finished", zlib.DefaultCompression, []string{"PING :irc.example.net\r\n"}, true, 0},
		{"empty finished", zlib.DefaultCompression, nil, true, 0},
		{"line per flush", zlib.DefaultCompression, lines[:30], false, 300},
		{"batches of 7", zlib.DefaultCompression, batches(lines[:60], 7), false, 300},
		{"batches finished", zlib.DefaultCompression, batches(lines[:60], 7), true, 300},
		{"best speed", zlib.BestSpeed, batches(lines, 20), false, 100},
		{"best compression", zlib.BestCompression, batches(lines, 20), true, 100},
		{"huffman only", zlib.HuffmanOnly, batches(lines[:60], 10), false, 100},
		{"stored", zlib.NoCompression, batches(lines[:60], 10), true, 100},
		{"one big burst", zlib.DefaultCompression, []string{strings.Join(big, "")}, false, 12},
		{"big batches finished", zlib.BestCompression, batches(big, 500), true, 12},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := stdZlib(t, tc.level, tc.batches, tc.finish)
			want := strings.Join(tc.batches, "")
			var wantErr error
			if tc.finish {
				wantErr = ErrZlibStreamEnd
			}
			for _, c := range zChunkings(in, tc.splits) {
				r := zDecode(t, &Zlib{}, c.chunks, nil)
				if string(r.out) != want {
					t.Fatalf("%s: output %d bytes, want %d (first difference at %d)", c.name, len(r.out), len(want), firstDiff(r.out, []byte(want)))
				}
				if !errors.Is(r.err, wantErr) || (wantErr == nil && r.err != nil) {
					t.Fatalf("%s: error %v, want %v", c.name, r.err, wantErr)
				}
				if len(r.pending) != 0 {
					t.Fatalf("%s: Pending() = %q, want nothing", c.name, r.pending)
				}
				if !r.synced {
					t.Fatalf("%s: Synced() = false after a flushed stream, want true", c.name)
				}
			}
		})
	}
}

// short quotes b, cut to its first 100 bytes, for failure messages.
func short(b []byte) string {
	if len(b) > 100 {
		return fmt.Sprintf("%q... (%d bytes)", b[:100], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestZlibEncoderToStdlib(t *testing.T) {
	lines := ircLines(500, 3)
	cases := []struct {
		name  string
		level int
		batch int
		low   bool
	}{
		{"default level, line per batch", 0, 1, false},
		{"default level, batches of 50", 0, 50, false},
		{"level 1", 1, 10, false},
		{"level 9", 9, 10, false},
		{"huffman only", kflate.HuffmanOnly, 10, false},
		{"low memory, line per batch", 0, 1, true},
		{"low memory, batches of 10", 0, 10, true},
		{"low memory, one batch past 32 KiB", 0, 500, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			z := &Zlib{Level: tc.level, LowMemory: tc.low}
			var wire []byte
			var flushes []int // wire offsets where a Flush ended
			for i, l := range lines {
				var err error
				if wire, err = z.Put(wire, []byte(l)); err != nil {
					t.Fatalf("Put(%q) error %v", l, err)
				}
				if (i+1)%tc.batch == 0 || i == len(lines)-1 {
					if wire, err = z.Flush(wire); err != nil {
						t.Fatalf("Flush() error %v", err)
					}
					flushes = append(flushes, len(wire))
				}
			}
			if z.dec != nil {
				t.Errorf("a write-only Zlib allocated a decoder")
			}
			if !bytes.HasPrefix(wire, []byte{0x78}) {
				t.Errorf("stream starts % x, want a zlib header 78 xx", wire[:2])
			}
			for _, off := range flushes {
				if !bytes.HasSuffix(wire[:off], []byte{0, 0, 0xff, 0xff}) {
					t.Fatalf("output before offset %d ends % x, want the sync flush marker 00 00 ff ff", off, wire[max(0, off-4):off])
				}
			}
			// The standard library decodes every batch as soon as its
			// flush has arrived; the stream is not finished, so read
			// exactly what was written.
			want := strings.Join(lines, "")
			zr, err := zlib.NewReader(bytes.NewReader(wire))
			if err != nil {
				t.Fatalf("zlib.NewReader: %v", err)
			}
			got := make([]byte, len(want))
			if _, err := io.ReadFull(zr, got); err != nil {
				t.Fatalf("compress/zlib read: %v", err)
			}
			if string(got) != want {
				t.Fatalf("compress/zlib read %q..., want %q...", got[:80], want[:80])
			}
			// And our decoder reads it back under a few chunkings.
			for _, c := range zChunkings(wire, 10) {
				r := zDecode(t, &Zlib{}, c.chunks, nil)
				if string(r.out) != want || r.err != nil || len(r.pending) != 0 {
					t.Fatalf("%s: round trip output %d bytes (want %d), err %v, pending %d bytes", c.name, len(r.out), len(want), r.err, len(r.pending))
				}
			}
		})
	}
}

// TestZlibLowMemorySmall checks what LowMemory is for: an encoder that
// has written batches keeps little memory (the streaming compressor
// keeps about 740 KiB at the default level).
func TestZlibLowMemorySmall(t *testing.T) {
	lines := ircLines(100, 12)
	zs := make([]*Zlib, 50)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range zs {
		zs[i] = &Zlib{LowMemory: true}
		zEncode(t, zs[i], batches(lines, 10))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(len(zs))
	t.Logf("%d bytes per LowMemory encoder", per)
	if per > 32<<10 {
		t.Errorf("a LowMemory encoder keeps %d bytes, want at most 32 KiB", per)
	}
	runtime.KeepAlive(zs)
}

func TestZlibEncoderBadLevel(t *testing.T) {
	z := &Zlib{Level: 42}
	dst, err := z.Put([]byte("x"), []byte("PING :a\r\n"))
	if err == nil || !strings.Contains(err.Error(), "Zlib.Level 42") {
		t.Fatalf("Put with Level 42: error %v, want one naming Zlib.Level 42", err)
	}
	if string(dst) != "x" {
		t.Fatalf("Put with Level 42 returned %q, want dst unchanged %q", dst, "x")
	}
	if _, err2 := z.Flush(nil); err2 == nil {
		t.Fatalf("Flush after a bad level: no error, want %v", err)
	}
}

func TestZlibFlushBeforePut(t *testing.T) {
	var z Zlib
	out, err := z.Flush([]byte("keep"))
	if err != nil || string(out) != "keep" {
		t.Fatalf("Flush() on a fresh Zlib = %q, %v; want %q, nil", out, err, "keep")
	}
	if z.enc != nil || z.dec != nil {
		t.Fatalf("Flush() on a fresh Zlib allocated state")
	}
}

// TestZlibPythonFlushModes decodes streams written by the real zlib with
// flush modes Go's compressors cannot produce (see testdata/gen_partial.py).
func TestZlibPythonFlushModes(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "zlib_lines.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file   string
		finish bool
	}{
		{"zlib_partial.zz", false},
		{"zlib_partial_end.zz", true},
		{"zlib_full.zz", false},
		{"zlib_sync_batched.zz", false},
		{"zlib_noflush_end.zz", true},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range zChunkings(in, 500) {
				r := zDecode(t, &Zlib{}, c.chunks, nil)
				if !bytes.Equal(r.out, want) {
					t.Fatalf("%s: output %s, want %s", c.name, short(r.out), short([]byte(want)))
				}
				if tc.finish != errors.Is(r.err, ErrZlibStreamEnd) || (!tc.finish && r.err != nil) {
					t.Fatalf("%s: error %v, want stream end %v", c.name, r.err, tc.finish)
				}
				if len(r.pending) != 0 {
					t.Fatalf("%s: Pending() = % x, want nothing", c.name, r.pending)
				}
			}
		})
	}
}

// TestZlibLineDecodableAtItsFlush checks, for streams written by the real
// zlib, that every line decodes as soon as the flush after it has arrived,
// with nothing of the next line: also after Z_PARTIAL_FLUSH, which leaves
// the stream in the middle of a byte.
func TestZlibLineDecodableAtItsFlush(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("testdata", "zlib_lines.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(text), "\n")
	for _, mode := range []struct {
		name  string
		every int // lines per flush
	}{{"partial", 1}, {"partial_end", 1}, {"full", 1}, {"sync_batched", 3}} {
		t.Run(mode.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "zlib_"+mode.name+".zz"))
			if err != nil {
				t.Fatal(err)
			}
			offs, err := os.ReadFile(filepath.Join("testdata", "zlib_"+mode.name+".offsets"))
			if err != nil {
				t.Fatal(err)
			}
			z := &Zlib{}
			var got []byte
			prev := 0
			unaligned := 0
			for i, f := range strings.Fields(string(offs)) {
				var off int
				if _, err := fmt.Sscan(f, &off); err != nil {
					t.Fatal(err)
				}
				for ; prev < off; prev++ { // byte by byte up to the flush
					z.Feed(in[prev : prev+1])
					for {
						rec, ok, err := z.Next()
						if err != nil {
							t.Fatalf("after %d bytes: %v", prev+1, err)
						}
						if !ok {
							break
						}
						got = append(got, rec...)
					}
				}
				if z.dec.nbits&7 != 0 {
					unaligned++
				}
				want := strings.Join(lines[:(i+1)*mode.every], "")
				if string(got) != want {
					t.Fatalf("after flush %d (%d bytes): output %s, want %s", i, off, short(got), short([]byte(want)))
				}
			}
			if strings.HasPrefix(mode.name, "partial") && unaligned == 0 {
				t.Errorf("no partial flush left the stream mid-byte; the test data does not exercise it")
			}
		})
	}
}

// TestZlibStopsAtFlush checks the flush-point stop: with k sync-flushed
// batches followed by plaintext, a reader that takes the output it
// expects and then stops (as a Stack does when the last compressed line
// comes out) finds exactly the plaintext in Pending, whatever the
// chunking. When the input ended before the flush marker, Synced is false
// and the reader feeds on, getting no output, until Synced is true.
func TestZlibStopsAtFlush(t *testing.T) {
	lines := ircLines(12, 4)
	plain := "PRIVMSG #after :plaintext now\r\nPING :x\r\n"
	for k := 1; k <= 4; k++ {
		for _, enc := range []string{"stdlib", "Zlib"} {
			t.Run(fmt.Sprintf("%d batches by %s", k, enc), func(t *testing.T) {
				bs := batches(lines, 3)[:k]
				var in []byte
				if enc == "stdlib" {
					in = stdZlib(t, zlib.DefaultCompression, bs, false)
				} else {
					in = zEncode(t, &Zlib{}, bs)
				}
				want := strings.Join(bs, "")
				in = append(in, plain...)
				for _, c := range zChunkings(in, 0) {
					out, pending, err := readThenStop(&Zlib{}, c.chunks, len(want))
					if err != nil || string(out) != want || string(pending) != plain {
						t.Fatalf("%s: output %s, pending %q, err %v; want %s, %q, nil", c.name, short(out), pending, err, short([]byte(want)), plain)
					}
				}
			})
		}
	}
}

// readThenStop reads n bytes of output from z, then feeds the rest of the
// chunks while z is not Synced (expecting no more output), and returns
// the output and Pending followed by the chunks not fed.
func readThenStop(z *Zlib, chunks [][]byte, n int) (out, rest []byte, err error) {
	i := 0
	for ; i < len(chunks) && len(out) < n; i++ {
		z.Feed(chunks[i])
		for len(out) < n {
			rec, ok, err := z.Next()
			if err != nil {
				return out, nil, err
			}
			if !ok {
				break
			}
			out = append(out, rec...)
		}
	}
	for !z.Synced() {
		if i == len(chunks) {
			return out, nil, fmt.Errorf("input ended before Synced()")
		}
		z.Feed(chunks[i])
		i++
		for {
			rec, ok, err := z.Next()
			if err != nil {
				return out, nil, err
			}
			if len(rec) > 0 {
				return out, nil, fmt.Errorf("output %q after the first %d bytes", rec, n)
			}
			if !ok || z.Synced() {
				break
			}
		}
	}
	rest = bytes.Clone(z.Pending())
	for _, c := range chunks[i:] {
		rest = append(rest, c...)
	}
	return out, rest, nil
}

// zEncode writes each batch with Put per line and one Flush.
func zEncode(t testing.TB, z *Zlib, bs []string) []byte {
	t.Helper()
	var out []byte
	var err error
	for _, b := range bs {
		for _, l := range strings.SplitAfter(b, "\n") {
			if l == "" {
				continue
			}
			if out, err = z.Put(out, []byte(l)); err != nil {
				t.Fatal(err)
			}
		}
		if out, err = z.Flush(out); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestZlibOneBatchPerNext checks that Next returns each sync-flushed batch
// as its own chunk when the whole stream is fed at once: it stops at the
// flush marker and does not read the next block.
func TestZlibOneBatchPerNext(t *testing.T) {
	bs := batches(ircLines(9, 5), 3)
	in := stdZlib(t, zlib.DefaultCompression, bs, false)
	z := &Zlib{}
	z.Feed(in)
	for i, want := range bs {
		rec, ok, err := z.Next()
		if !ok || err != nil || string(rec) != want {
			t.Fatalf("Next() #%d = %q, %v, %v; want %q, true, nil", i, rec, ok, err, want)
		}
		if !z.Synced() {
			t.Fatalf("Synced() = false after batch %d, want true", i)
		}
	}
	if rec, ok, err := z.Next(); ok || err != nil {
		t.Fatalf("Next() after the last batch = %q, %v, %v; want nil, false, nil", rec, ok, err)
	}
}

// TestZlibFullChunkThenFlush checks that when a chunk fills up exactly at
// the end of a batch, the end of block and flush marker after it are
// consumed before the chunk is returned, so Pending is exact at once.
func TestZlibFullChunkThenFlush(t *testing.T) {
	line := "PRIVMSG #c :" + strings.Repeat("ab", 26) + "\r\n" // 66 bytes
	var b strings.Builder
	for b.Len()+len(line) <= zlibChunk {
		b.WriteString(line)
	}
	b.WriteString(strings.Repeat("x", zlibChunk-b.Len()))
	batch := b.String()
	if len(batch) != zlibChunk {
		t.Fatalf("batch is %d bytes, want %d", len(batch), zlibChunk)
	}
	plain := "PING :plain\r\n"
	for _, level := range []int{zlib.NoCompression, zlib.BestSpeed, zlib.DefaultCompression} {
		t.Run(fmt.Sprintf("level %d", level), func(t *testing.T) {
			in := append(stdZlib(t, level, []string{batch}, false), plain...)
			z := &Zlib{}
			z.Feed(in)
			var got []byte
			for len(got) < len(batch) {
				rec, ok, err := z.Next()
				if !ok || err != nil {
					t.Fatalf("Next() = %v, %v after %d bytes, want a chunk", ok, err, len(got))
				}
				got = append(got, rec...)
			}
			if string(got) != batch {
				t.Fatalf("output differs from the batch at %d", firstDiff(got, []byte(batch)))
			}
			if p := z.Pending(); string(p) != plain {
				t.Fatalf("Pending() right after the last chunk = %q, want %q", p, plain)
			}
		})
	}
}

func TestZlibStreamEnd(t *testing.T) {
	after := "NICK plain\r\nUSER a 0 * :b\r\n"
	cases := []struct {
		name    string
		batches []string
		after   string
	}{
		{"lines then plaintext", batches(ircLines(10, 6), 4), after},
		{"lines then nothing", batches(ircLines(10, 6), 4), ""},
		{"empty stream then plaintext", nil, after},
		{"then a second zlib stream", []string{"PING :a\r\n"}, string(stdZlib(t, 6, []string{"PING :b\r\n"}, true))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := append(stdZlib(t, zlib.DefaultCompression, tc.batches, true), tc.after...)
			want := strings.Join(tc.batches, "")
			for _, c := range zChunkings(in, 0) {
				r := zDecode(t, &Zlib{}, c.chunks, nil)
				if string(r.out) != want {
					t.Fatalf("%s: output %s, want %s", c.name, short(r.out), short([]byte(want)))
				}
				if !errors.Is(r.err, ErrZlibStreamEnd) {
					t.Fatalf("%s: error %v, want %v", c.name, r.err, ErrZlibStreamEnd)
				}
				if string(r.pending) != tc.after {
					t.Fatalf("%s: Pending() = %q, want %q", c.name, r.pending, tc.after)
				}
				if !r.synced {
					t.Fatalf("%s: Synced() = false after the stream end, want true", c.name)
				}
			}
		})
	}
}

// TestZlibPendingRoundTrip checks that Pending followed by Feed of the
// same bytes continues the stream exactly, at every record and with the
// partial byte a Z_PARTIAL_FLUSH leaves, as a Stack does when it detaches
// the layers above a change.
func TestZlibPendingRoundTrip(t *testing.T) {
	for _, file := range []string{"zlib_partial.zz", "zlib_partial_end.zz", "zlib_full.zz"} {
		t.Run(file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "zlib_lines.txt"))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range zChunkings(in, 300) {
				z := &Zlib{}
				r := zDecode(t, z, c.chunks, func() { z.Feed(bytes.Clone(z.Pending())) })
				if !bytes.Equal(r.out, want) || len(r.pending) != 0 {
					t.Fatalf("%s: output %s, pending % x; want %s and nothing", c.name, short(r.out), r.pending, short(want))
				}
			}
		})
	}
}

func TestZlibReset(t *testing.T) {
	var z Zlib
	first := stdZlib(t, 6, []string{"PING :one\r\n"}, true)
	r := zDecode(t, &z, [][]byte{first}, nil)
	if string(r.out) != "PING :one\r\n" || !errors.Is(r.err, ErrZlibStreamEnd) {
		t.Fatalf("first stream: %q, %v", r.out, r.err)
	}
	if _, err := z.Put(nil, []byte("x")); err != nil {
		t.Fatal(err)
	}
	z.Reset()
	if z.dec != nil || z.enc != nil {
		t.Fatalf("Reset() kept state")
	}
	second := stdZlib(t, 6, []string{"PING :two\r\n"}, false)
	r = zDecode(t, &z, [][]byte{second}, nil)
	if string(r.out) != "PING :two\r\n" || r.err != nil {
		t.Fatalf("after Reset: %q, %v; want %q, nil", r.out, r.err, "PING :two\r\n")
	}
	out, err := z.Put(nil, []byte("PING :three\r\n"))
	if err != nil || !bytes.HasPrefix(out, []byte{0x78}) {
		t.Fatalf("Put after Reset = % x, %v; want a new stream's header", out, err)
	}
}

func TestZlibLazyState(t *testing.T) {
	var z Zlib
	if rec, ok, err := z.Next(); ok || err != nil || rec != nil {
		t.Fatalf("Next() on a fresh Zlib = %q, %v, %v; want nil, false, nil", rec, ok, err)
	}
	if p := z.Pending(); p != nil {
		t.Fatalf("Pending() on a fresh Zlib = %q, want nil", p)
	}
	if !z.Synced() {
		t.Fatalf("Synced() on a fresh Zlib = false, want true")
	}
	z.Feed(nil)
	if z.dec != nil || z.enc != nil {
		t.Fatalf("an empty Feed allocated state")
	}
	z.Feed([]byte{0x78})
	if z.dec == nil || z.enc != nil {
		t.Fatalf("Feed allocated dec %v enc %v; want only the decoder", z.dec != nil, z.enc != nil)
	}
	if p := z.Pending(); string(p) != "\x78" {
		t.Fatalf("Pending() = % x, want 78", p)
	}
}

// rawBits assembles a deflate bit stream for hand-made test streams.
type rawBits struct {
	out   []byte
	acc   uint64
	nbits uint
}

// put appends the low n bits of v, least significant first.
func (w *rawBits) put(v uint64, n uint) {
	w.acc |= (v & (1<<n - 1)) << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
}

// code appends a Huffman code of n bits, most significant bit first.
func (w *rawBits) code(c uint64, n uint) { w.put(uint64(reverse(uint16(c), n)), n) }

func (w *rawBits) bytes() []byte {
	if w.nbits > 0 {
		return append(w.out, byte(w.acc))
	}
	return w.out
}

// fixedLitCode appends the fixed Huffman code of literal/length symbol s.
func (w *rawBits) fixedLitCode(s int) {
	switch {
	case s < 144:
		w.code(uint64(0x30+s), 8)
	case s < 256:
		w.code(uint64(0x190+s-144), 9)
	case s < 280:
		w.code(uint64(s-256), 7)
	default:
		w.code(uint64(0xc0+s-280), 8)
	}
}

// zwrap adds a zlib header and trailer around a raw deflate stream.
func zwrap(raw []byte, content []byte) []byte {
	out := append([]byte{0x78, 0x9c}, raw...)
	a := adler32(1, content)
	return append(out, byte(a>>24), byte(a>>16), byte(a>>8), byte(a))
}

func TestZlibCorrupt(t *testing.T) {
	good := stdZlib(t, 6, batches(ircLines(12, 7), 4), true)
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x55
		return b
	}
	fixedWith := func(f func(w *rawBits)) []byte {
		var w rawBits
		w.put(1, 1) // final
		w.put(1, 2) // fixed
		f(&w)
		return w.bytes()
	}
	cases := []struct {
		name   string
		in     []byte
		detail string
	}{
		{"method not deflate", []byte{0x79, 0x9c - 0x1b, 0, 0}, "compression method 9"},
		{"window too big", []byte{0x88, 0x98 + 0x0f, 0, 0}, "window size"},
		{"check bits", []byte{0x78, 0x9d, 0, 0}, "check bits"},
		{"preset dictionary", []byte{0x78, 0xbb, 0, 0, 0, 0}, "preset dictionary"},
		{"bad adler", flip(len(good) - 1), "Adler-32"},
		{"block type 3", zwrap([]byte{0x07}, nil), "block type 3"},
		{"stored length", zwrap([]byte{0x01, 0x05, 0x00, 0xfa, 0xfe, 'a'}, nil), "stored block length"},
		{"distance too far", zwrap(fixedWith(func(w *rawBits) {
			w.fixedLitCode('a')
			w.fixedLitCode(257) // length 3
			w.code(1, 5)        // distance 2, with one byte of history
			w.fixedLitCode(256)
		}), nil), "distance 2 beyond the 1 bytes"},
		{"distance code 30", zwrap(fixedWith(func(w *rawBits) {
			w.fixedLitCode('a')
			w.fixedLitCode(257)
			w.code(30, 5)
		}), nil), "distance code 30"},
		{"length symbol 286", zwrap(fixedWith(func(w *rawBits) {
			w.fixedLitCode('a')
			w.fixedLitCode(286)
		}), nil), "length symbol 286"},
		{"too many length codes", zwrap(func() []byte {
			var w rawBits
			w.put(1, 1)
			w.put(2, 2)
			w.put(30, 5) // 287 literal/length codes
			w.put(0, 5)
			w.put(0, 4)
			return w.bytes()
		}(), nil), "287 literal/length codes"},
		{"oversubscribed code length code", zwrap(func() []byte {
			var w rawBits
			w.put(1, 1)
			w.put(2, 2)
			w.put(0, 5)
			w.put(0, 5)
			w.put(0, 4)  // 4 code length codes
			w.put(1, 3)  // 16: length 1
			w.put(1, 3)  // 17: length 1
			w.put(1, 3)  // 18: length 1: three 1-bit codes
			w.put(0, 3)  // 0
			w.put(0, 16) // padding so the header is complete
			return w.bytes()
		}(), nil), "invalid code length code"},
		{"repeat with no previous length", zwrap(func() []byte {
			var w rawBits
			w.put(1, 1)
			w.put(2, 2)
			w.put(0, 5)
			w.put(0, 5)
			w.put(0, 4)
			w.put(1, 3) // 16: length 1
			w.put(0, 3)
			w.put(0, 3)
			w.put(1, 3) // 0: length 1
			w.code(1, 1)
			w.put(0, 16)
			return w.bytes()
		}(), nil), "no previous length"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range zChunkings(tc.in, 0) {
				r := zDecode(t, &Zlib{}, c.chunks, nil)
				if !errors.Is(r.err, ErrZlibCorrupt) || !strings.Contains(r.err.Error(), tc.detail) {
					t.Fatalf("%s: error %v, want %v saying %q", c.name, r.err, ErrZlibCorrupt, tc.detail)
				}
			}
		})
	}

	// Every single-byte change after the header: an error or a stream
	// still waiting for input, never a panic, and never a stream end with
	// output that differs from the original.
	want := strings.Join(batches(ircLines(12, 7), 4), "")
	corrupt := 0
	for i := 2; i < len(good); i++ {
		for _, x := range []byte{0x01, 0xff} {
			b := bytes.Clone(good)
			b[i] ^= x
			r := zDecode(t, &Zlib{}, [][]byte{b}, nil)
			switch {
			case errors.Is(r.err, ErrZlibCorrupt):
				corrupt++
			case errors.Is(r.err, ErrZlibStreamEnd):
				if string(r.out) != want {
					t.Fatalf("byte %d ^ %#x: stream ended with different output, want %v", i, x, ErrZlibCorrupt)
				}
			case r.err != nil:
				t.Fatalf("byte %d ^ %#x: error %v, want %v", i, x, r.err, ErrZlibCorrupt)
			}
		}
	}
	if total := 2 * (len(good) - 2); corrupt < total*9/10 {
		t.Errorf("only %d of %d single-byte changes detected as corrupt", corrupt, total)
	}
}

func TestZlibCorruptKeepsGoodOutput(t *testing.T) {
	good := stdZlib(t, 6, []string{"PING :one\r\n", "PING :two\r\n"}, false)
	bad := append(bytes.Clone(good), 0x07) // a block of type 3
	r := zDecode(t, &Zlib{}, [][]byte{bad}, nil)
	if string(r.out) != "PING :one\r\nPING :two\r\n" || !errors.Is(r.err, ErrZlibCorrupt) {
		t.Fatalf("output %q, error %v; want both lines, then %v", r.out, r.err, ErrZlibCorrupt)
	}
}

// TestZlibLegitBursts checks that the default inflate limit lets real
// bursts through under every chunking.
func TestZlibLegitBursts(t *testing.T) {
	same := strings.Repeat(":nick!~u@h.example.org PRIVMSG #chan :the same line again and again\r\n", 50)
	cases := []struct {
		name    string
		batches []string
		splits  int
	}{
		{"50 identical PRIVMSGs in one batch", []string{same}, 0},
		{"server burst of 2000 lines", []string{strings.Join(ircLines(2000, 8), "")}, 10},
		{"1000 identical lines in batches of 100", batches(strings.SplitAfter(strings.Repeat(same, 20), "\n")[:1000], 100), 50},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := stdZlib(t, zlib.BestCompression, tc.batches, false)
			want := strings.Join(tc.batches, "")
			t.Logf("%d bytes deflate to %d (ratio %.0f)", len(want), len(in), float64(len(want))/float64(len(in)))
			for _, c := range zChunkings(in, tc.splits) {
				r := zDecode(t, &Zlib{}, c.chunks, nil)
				if string(r.out) != want || r.err != nil {
					t.Fatalf("%s: %d bytes out, err %v; want %d bytes, nil", c.name, len(r.out), r.err, len(want))
				}
			}
		})
	}
}

// bombWriter feeds what a compressor writes straight into a Zlib decoder,
// draining it, so a bomb is never held in memory.
type bombWriter struct {
	z        *Zlib
	in, out  int64
	err      error
	maxChunk int
}

var errBombStopped = errors.New("bomb stopped")

func (b *bombWriter) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, errBombStopped
	}
	for len(p) > 0 {
		n := min(len(p), b.maxChunk)
		b.z.Feed(p[:n])
		b.in += int64(n)
		p = p[n:]
		for {
			rec, ok, err := b.z.Next()
			if err != nil {
				b.err = err
				return 0, errBombStopped
			}
			if !ok {
				break
			}
			b.out += int64(len(rec))
		}
	}
	return len(p), nil
}

// bombZeros is how many zeros the shared bomb of TestZlibBomb holds:
// at best compression the encoder emits its first bytes only after about
// 8 MiB, and the decoder must trip on those.
const bombZeros = 16 << 20

// zeroBomb is a zlib stream of bombZeros zeros at best compression
// (deflate's densest, about 1032 to 1), compressed once: under the race
// detector each compression of it costs some 20 seconds.
var zeroBomb = sync.OnceValues(func() ([]byte, error) {
	var buf bytes.Buffer
	w, err := kzlib.NewWriterLevel(&buf, kzlib.BestCompression)
	if err != nil {
		return nil, err
	}
	zeros := make([]byte, 1<<20)
	for range bombZeros >> 20 {
		if _, err := w.Write(zeros); err != nil {
			return nil, err
		}
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
})

func TestZlibBomb(t *testing.T) {
	cases := []struct {
		name     string
		ratio    int
		zeros    int64 // how many zeros the bomb holds (0: the shared zeroBomb)
		chunk    int   // Feed size
		wantTrip bool
	}{
		{"16 MiB of zeros in 64 KiB chunks", 0, 0, 64 << 10, true},
		{"16 MiB of zeros in 4 KiB chunks", 0, 0, 4 << 10, true},
		{"16 MiB of zeros fed bytewise", 0, 0, 1, true},
		{"1 MB of zeros, ratio 2000", 2000, 1 << 20, 4 << 10, false},
		{"1 MB of zeros, no limit", -1, 1 << 20, 4 << 10, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var bomb []byte
			if tc.wantTrip {
				var err error
				if bomb, err = zeroBomb(); err != nil {
					t.Fatal(err)
				}
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			bw := &bombWriter{z: &Zlib{MaxRatio: tc.ratio}, maxChunk: tc.chunk}
			if tc.wantTrip {
				_, _ = bw.Write(bomb)
			} else {
				w, err := kzlib.NewWriterLevel(bw, kzlib.BestCompression)
				if err != nil {
					t.Fatal(err)
				}
				zeros := make([]byte, 1<<20)
				for written := int64(0); written < tc.zeros && bw.err == nil; {
					n, _ := w.Write(zeros)
					written += int64(n)
				}
				if bw.err == nil {
					w.Flush()
				}
			}
			runtime.ReadMemStats(&after)
			grow := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			t.Logf("decoder fed %d bytes, inflated %d, err %v; heap grew %d KiB", bw.in, bw.out, bw.err, grow>>10)
			if !tc.wantTrip {
				if bw.err != nil || bw.out != tc.zeros {
					t.Fatalf("inflated %d bytes, err %v; want %d, nil", bw.out, bw.err, tc.zeros)
				}
				return
			}
			if !errors.Is(bw.err, ErrInflateLimit) || !strings.Contains(bw.err.Error(), "Zlib.MaxRatio") {
				t.Fatalf("error %v, want %v naming Zlib.MaxRatio", bw.err, ErrInflateLimit)
			}
			if limit := DefaultMaxRatio*bw.in + zlibSlack; bw.out > limit {
				t.Errorf("inflated %d bytes from %d before the error, more than the limit %d", bw.out, bw.in, limit)
			}
			if first := int64(max(tc.chunk, 4<<10)); bw.in > first {
				t.Errorf("the limit tripped only after %d of the bomb's %d bytes, want within the first %d", bw.in, len(bomb), first)
			}
			if grow > 8<<20 {
				t.Errorf("heap grew %d KiB, want under 8 MiB", grow>>10)
			}
		})
	}
}

func TestZlibSmallRatio(t *testing.T) {
	text := strings.Join(ircLines(3000, 9), "")
	in := stdZlib(t, 9, []string{text}, false)
	r := zDecode(t, &Zlib{MaxRatio: 1}, [][]byte{in}, nil)
	if !errors.Is(r.err, ErrInflateLimit) {
		t.Fatalf("MaxRatio 1 on %d bytes from %d: error %v, want %v", len(text), len(in), r.err, ErrInflateLimit)
	}
	if int64(len(r.out)) > int64(len(in))+zlibSlack {
		t.Fatalf("inflated %d bytes before the limit, want at most %d", len(r.out), len(in)+zlibSlack)
	}
	if !strings.HasPrefix(text, string(r.out)) {
		t.Fatalf("output before the limit is not a prefix of the text")
	}
}

// benchStream returns a realistic compressed link: corpus lines written
// by Zlib's encoder in batches of 10, each sync-flushed, and the text.
func benchStream(b *testing.B, lines int) (wire, text []byte) {
	b.Helper()
	z := &Zlib{}
	var err error
	for i, l := range corpus.Lines(lines, 1) {
		l = append(l, '\r', '\n')
		text = append(text, l...)
		if wire, err = z.Put(wire, l); err != nil {
			b.Fatal(err)
		}
		if i%10 == 9 {
			if wire, err = z.Flush(wire); err != nil {
				b.Fatal(err)
			}
		}
	}
	if wire, err = z.Flush(wire); err != nil {
		b.Fatal(err)
	}
	return wire, text
}

// BenchmarkZlibInflate decodes a whole link's stream (5000 lines) per
// op, fed in 4 KiB reads, with a new decoder each time; compress/zlib's
// and klauspost's readers decode the same bytes in the same run.
func BenchmarkZlibInflate(b *testing.B) {
	wire, text := benchStream(b, 5000)
	b.Logf("%d bytes of text deflate to %d (ratio %.1f)", len(text), len(wire), float64(len(text))/float64(len(wire)))
	b.Run("Zlib", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			z := &Zlib{}
			n := 0
			for rest := wire; len(rest) > 0; {
				c := rest[:min(4096, len(rest))]
				rest = rest[len(c):]
				z.Feed(c)
				for {
					rec, ok, err := z.Next()
					if err != nil {
						b.Fatal(err)
					}
					if !ok {
						break
					}
					n += len(rec)
				}
			}
			if n != len(text) {
				b.Fatalf("inflated %d bytes, want %d", n, len(text))
			}
		}
	})
	buf := make([]byte, 16<<10)
	readers := []struct {
		name string
		open func(io.Reader) (io.ReadCloser, error)
	}{
		{"compress-zlib", zlib.NewReader},
		{"klauspost-zlib", kzlib.NewReader},
	}
	for _, r := range readers {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				zr, err := r.open(bytes.NewReader(wire))
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for n < len(text) {
					k, err := zr.Read(buf[:min(len(buf), len(text)-n)])
					n += k
					if err != nil && n < len(text) {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkZlibInflateBatch is the steady state of a live link: one
// decoder, each op a batch of 10 sync-flushed lines fed and drained.
func BenchmarkZlibInflateBatch(b *testing.B) {
	wire, text := benchStream(b, 20000)
	// The wire offsets just after each flush marker.
	var ends []int
	for i := 0; ; {
		j := bytes.Index(wire[i:], []byte{0, 0, 0xff, 0xff})
		if j < 0 {
			break
		}
		i += j + 4
		ends = append(ends, i)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(text) / len(ends)))
	z := &Zlib{}
	start, k := 0, 0
	for b.Loop() {
		if k == len(ends) {
			b.StopTimer()
			z.Reset()
			start, k = 0, 0
			b.StartTimer()
		}
		z.Feed(wire[start:ends[k]])
		start = ends[k]
		k++
		for {
			_, ok, err := z.Next()
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
		}
	}
}

// BenchmarkZlibDeflate is the write side of a live link: each op puts a
// batch of 10 corpus lines and flushes, appending to a reused buffer.
func BenchmarkZlibDeflate(b *testing.B) {
	lines := corpus.Lines(1000, 2)
	for i := range lines {
		lines[i] = append(lines[i], '\r', '\n')
	}
	for _, level := range []int{1, 0, 9, -1} {
		name := fmt.Sprintf("level%d", level)
		if level < 0 {
			name = "lowmemory"
		}
		b.Run(name, func(b *testing.B) {
			z := &Zlib{Level: max(level, 0), LowMemory: level < 0}
			var buf []byte
			var in, out int64
			i := 0
			b.ReportAllocs()
			b.SetBytes(int64(len(bytes.Join(lines[:10], nil))))
			for b.Loop() {
				buf = buf[:0]
				var err error
				for range 10 {
					in += int64(len(lines[i]))
					if buf, err = z.Put(buf, lines[i]); err != nil {
						b.Fatal(err)
					}
					i = (i + 1) % len(lines)
				}
				if buf, err = z.Flush(buf); err != nil {
					b.Fatal(err)
				}
				out += int64(len(buf))
			}
			b.ReportMetric(float64(in)/float64(out), "ratio")
		})
	}
}
