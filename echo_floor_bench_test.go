package ircsock

import (
	"testing"

	"github.com/ircsock/ircsock/ircmsg"
)

// perfLine is the line of BenchmarkEcho, without its CR LF.
const perfLine = ":nick!user@host.example.net PRIVMSG #bench :The quick brown fox jumps over the lazy dog 0123456789"

// BenchmarkEchoFloor measures, without sockets, goroutines or channels,
// the work per message that the Backend cannot skip in BenchmarkEcho and
// that a bufio echo never does: parsing the line into a block the
// controller may keep (as connHandler.record does) and formatting it back
// (as Send does). Compared with BenchmarkEcho/ratio's bufio-cpu-ns/msg, it
// bounds the Backend's share of the bufio rate from above. "keep" takes a
// fresh block per line, as for a controller that keeps its Messages;
// "release" hands each block back, as Input.Release does.
func BenchmarkEchoFloor(b *testing.B) {
	for _, release := range []bool{false, true} {
		name := "keep"
		if release {
			name = "release"
		}
		b.Run(name, func(b *testing.B) {
			var f Config
			rec := []byte(perfLine)
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				blk, line := newInputBlock(rec)
				if err := f.Format.Limits.ParseOwnedInto(&blk.m, line); err != nil {
					b.Fatal(err)
				}
				var err error
				if buf, err = f.Format.Append(buf[:0], &blk.m); err != nil {
					b.Fatal(err)
				}
				if release {
					blk.recycle()
				}
			}
			if string(buf) != perfLine {
				b.Fatalf("formatted %q, want %q", buf, perfLine)
			}
		})
	}
}

// BenchmarkEchoParse and BenchmarkEchoFormat split BenchmarkEchoFloor.
func BenchmarkEchoParse(b *testing.B) {
	rec := []byte(perfLine)
	b.ReportAllocs()
	for b.Loop() {
		blk, line := newInputBlock(rec)
		if err := (ircmsg.Limits{}).ParseOwnedInto(&blk.m, line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEchoFormat(b *testing.B) {
	m, err := ircmsg.ParseString(perfLine)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = (ircmsg.Format{}).Append(buf[:0], m); err != nil {
			b.Fatal(err)
		}
	}
}
