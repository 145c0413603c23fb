package ircmsg_test

import (
	"strings"
	"testing"

	"github.com/ircsock/ircsock/ircmsg"
)

// benchSets are the whole corpus ("mix") and single typical lines, so that
// both the average and the cost of each shape show. One benchmark op is one
// line.
func benchSets() []struct {
	name  string
	lines [][]byte
	size  int64
} {
	mix, size := benchCorpus()
	one := func(s string) [][]byte { return [][]byte{[]byte(s)} }
	long := ":nick!~user@host.example.net PRIVMSG #channel :"
	long += strings.Repeat("x", 510-len(long))
	sets := []struct {
		name  string
		lines [][]byte
		size  int64
	}{
		{"mix", mix, size},
		{"privmsg", one(":alice!~alice@host-1.example.net PRIVMSG #go-nuts :hello world, is anyone around today"), 0},
		{"tagged", one(`@time=2024-05-06T07:08:09.123Z;msgid=3f2a9c1b0042;account=alice;+draft/reply=77aa00110043;example.com/note=see\sthe\sdocs\:\sC:\\path :alice!~alice@host-1.example.net PRIVMSG #go-nuts :hello world`), 0},
		{"005", one(":irc.example.net 005 alice AWAYLEN=200 CASEMAPPING=rfc1459 CHANLIMIT=#:25 CHANMODES=beI,k,l,imnpstCMRS CHANNELLEN=50 CHANTYPES=#& ELIST=CTU EXCEPTS=e INVEX=I KICKLEN=255 MODES=4 NETWORK=ExampleNet PREFIX=(ohv)@%+ :are supported by this server"), 0},
		{"ping", one("PING :irc.example.net"), 0},
		{"510", one(long), 0},
	}
	for i := range sets {
		if sets[i].size == 0 {
			sets[i].size = int64(len(sets[i].lines[0]))
		}
	}
	return sets
}

// BenchmarkParse parses into one reused Message: the path of a stream
// decoder.
func BenchmarkParse(b *testing.B) {
	for _, set := range benchSets() {
		b.Run(set.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(set.size / int64(len(set.lines)))
			var m ircmsg.Message
			i := 0
			for b.Loop() {
				if err := m.Parse(set.lines[i]); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(set.lines) {
					i = 0
				}
			}
		})
	}
}

// BenchmarkParser parses into one reused Message through one Parser: the
// path of a stream decoder that reuses its read buffer.
func BenchmarkParser(b *testing.B) {
	for _, set := range benchSets() {
		b.Run(set.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(set.size / int64(len(set.lines)))
			var p ircmsg.Parser
			var m ircmsg.Message
			i := 0
			for b.Loop() {
				if err := p.Parse(&m, set.lines[i]); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(set.lines) {
					i = 0
				}
			}
		})
	}
}

// BenchmarkParseNew parses into a new Message per line.
func BenchmarkParseNew(b *testing.B) {
	for _, set := range benchSets() {
		b.Run(set.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(set.size / int64(len(set.lines)))
			i := 0
			for b.Loop() {
				if _, err := ircmsg.Parse(set.lines[i]); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(set.lines) {
					i = 0
				}
			}
		})
	}
}

// BenchmarkFormat appends each message to one reused buffer.
func BenchmarkFormat(b *testing.B) {
	for _, set := range benchSets() {
		msgs := make([]*ircmsg.Message, len(set.lines))
		for i, l := range set.lines {
			m, err := ircmsg.Parse(l)
			if err != nil {
				b.Fatal(err)
			}
			msgs[i] = m
		}
		for _, f := range []struct {
			name string
			f    ircmsg.Format
		}{{"", ircmsg.Format{}}, {"colonify", ircmsg.Format{Colonify: true}}} {
			name := set.name
			if f.name != "" {
				name += "/" + f.name
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(set.size / int64(len(set.lines)))
				buf := make([]byte, 0, 16384)
				var err error
				i := 0
				for b.Loop() {
					if buf, err = f.f.Append(buf[:0], msgs[i]); err != nil && !f.f.Colonify {
						b.Fatal(err)
					}
					if i++; i == len(msgs) {
						i = 0
					}
				}
			})
		}
	}
}

var sink []byte

// BenchmarkBaselineCopy allocates and copies each line, nothing else: the
// floor under BenchmarkParse, whose one allocation is this copy. Comparing
// the two in the same run takes out most of the noise of a shared machine.
func BenchmarkBaselineCopy(b *testing.B) {
	for _, set := range benchSets() {
		b.Run(set.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(set.size / int64(len(set.lines)))
			i := 0
			for b.Loop() {
				l := set.lines[i]
				sink = make([]byte, len(l))
				copy(sink, l)
				if i++; i == len(set.lines) {
					i = 0
				}
			}
		})
	}
}
