package ircmsg_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ircsock/ircsock/internal/corpus"
	"github.com/ircsock/ircsock/ircmsg"
)

// fuzzSeeds returns the conformance inputs, the table cases and a slice of
// the benchmark corpus.
func fuzzSeeds(t testing.TB) []string {
	var seeds []string
	var split struct {
		Tests []struct {
			Input string `yaml:"input"`
		} `yaml:"tests"`
	}
	loadYAML(t, "msg-split.yaml", &split)
	for _, tc := range split.Tests {
		seeds = append(seeds, tc.Input)
	}
	var join struct {
		Tests []struct {
			Matches []string `yaml:"matches"`
		} `yaml:"tests"`
	}
	loadYAML(t, "msg-join.yaml", &join)
	for _, tc := range join.Tests {
		seeds = append(seeds, tc.Matches...)
	}
	for _, tc := range parseCases {
		seeds = append(seeds, tc.in)
	}
	seeds = append(seeds, "", " ", "@", "@ ", ":pfx", ": foo", "@a=b :p", "CMD a\r", "@a=x\\", "@a=\\\\\\",
		"@+a=1;+a=2;b;b=;=;; :s!u@h c :", ":s :c", "@a @c")
	// Past the linear duplicate scan, with the switch on the last item.
	seeds = append(seeds, "@a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p;q CMD", "@a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p;q;a=1;r= CMD")
	for _, l := range corpus.Lines(20, 1) {
		seeds = append(seeds, string(l))
	}
	return seeds
}

// checkRoundTrip parses line and, when it parses, checks that formatting it
// in both colonify modes and parsing again gives the same message and the
// same bytes: parse -> format -> parse is a fixed point.
func checkRoundTrip(t *testing.T, line []byte) {
	var m ircmsg.Message
	err := m.Parse(line)
	var m2 ircmsg.Message
	err2 := m2.ParseString(string(line))
	if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
		t.Fatalf("Parse and ParseString disagree on %q: %v / %v", line, err, err2)
	}
	if err != nil {
		var pe *ircmsg.ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("Parse(%q) error %v is not a *ParseError", line, err)
		}
		return
	}
	if d := cmp.Diff(&m, &m2, msgOpts); d != "" {
		t.Fatalf("Parse and ParseString disagree on %q (-Parse +ParseString):\n%s", line, d)
	}
	var m3 ircmsg.Message
	if err := (ircmsg.Limits{}).ParseOwnedInto(&m3, append([]byte(nil), line...)); err != nil {
		t.Fatalf("Parse accepts %q, ParseOwnedInto says %v", line, err)
	}
	if d := cmp.Diff(&m, &m3, msgOpts); d != "" {
		t.Fatalf("Parse and ParseOwnedInto disagree on %q (-Parse +ParseOwnedInto):\n%s", line, d)
	}
	if m.Command == "" || m.Command != upperASCII(m.Command) {
		t.Fatalf("Parse(%q) gave command %q", line, m.Command)
	}
	for _, f := range []ircmsg.Format{{}, {Colonify: true}} {
		out, err := f.Append(nil, &m)
		if err != nil {
			// Only colonify may add a byte and tip a full body over.
			if f.Colonify && errors.Is(err, ircmsg.ErrBodyTooLong) {
				continue
			}
			t.Fatalf("%+v.Append(Parse(%q)) error: %v", f, line, err)
		}
		var back ircmsg.Message
		if err := back.Parse(out); err != nil {
			t.Fatalf("Parse(%q) (from %q) error: %v", out, line, err)
		}
		if d := cmp.Diff(&m, &back, msgOpts); d != "" {
			t.Fatalf("round trip of %q via %q (-first +second):\n%s", line, out, d)
		}
		again, err := f.Append(nil, &back)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("format not a fixed point: %q then %q (%v)", out, again, err)
		}
	}
}

// checkSmallLimits parses under tight limits, so that the limit paths are
// reached by short inputs: what parses within them formats within them
// (colonify aside, which may add a byte to the body).
func checkSmallLimits(t *testing.T, line []byte) {
	lim := ircmsg.Limits{TagBytes: 24, ClientTagBytes: 10, BodyBytes: 24}
	var m ircmsg.Message
	if err := lim.ParseInto(&m, line); err != nil {
		return
	}
	for _, f := range []ircmsg.Format{{Limits: lim}, {Colonify: true, Limits: lim}} {
		out, err := f.Append(nil, &m)
		if err != nil {
			if f.Colonify && errors.Is(err, ircmsg.ErrBodyTooLong) {
				continue
			}
			t.Fatalf("%+v.Append(Parse(%q)) error: %v", f, line, err)
		}
		var back ircmsg.Message
		if err := lim.ParseInto(&back, out); err != nil {
			t.Fatalf("Parse(%q) under %+v (from %q) error: %v", out, lim, line, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		checkRoundTrip(t, line)
		checkSmallLimits(t, line)
	})
}

// FuzzFormat builds messages from arbitrary parts: whatever Append accepts
// must parse back to the same message (command uppercased), and whatever it
// refuses must leave dst untouched.
func FuzzFormat(f *testing.F) {
	f.Add("time", "2024-01-01T00:00:00Z", "+draft/reply", "a;b c\\d", "nick!user@host", "privmsg", "#chan", "x", "hello world", uint8(3), false)
	f.Add("a", "", "b", "\r\n", "", "PING", ":x", "", "", uint8(1), true)
	f.Add("bad key", "v", "a", "v", "s s", "CMD", "a b", "", "", uint8(2), false)
	f.Add("a", "1", "a", "2", "s", "001", "nick", "", "\x00", uint8(3), true)
	f.Add("a", "", "", "", "s", "PRIVMSG", "#c", strings.Repeat("é", 300), "", uint8(2), true)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, source, command, p1, p2, p3 string, n uint8, colonify bool) {
		m := &ircmsg.Message{Source: source, Command: command}
		if k1 != "" || v1 != "" {
			m.Tags = append(m.Tags, ircmsg.Tag{Key: k1, Value: v1})
		}
		if k2 != "" || v2 != "" {
			m.Tags = append(m.Tags, ircmsg.Tag{Key: k2, Value: v2})
		}
		m.Params = []string{p1, p2, p3}[:n%4]
		form := ircmsg.Format{Colonify: colonify}
		dst := make([]byte, 3, 1024)
		copy(dst, "abc")
		out, err := form.Append(dst, m)
		if err != nil {
			var fe *ircmsg.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Append error %v is not a *FormatError", err)
			}
			if string(out) != "abc" || bytes.ContainsFunc(dst[3:cap(dst)], func(r rune) bool { return r != 0 }) {
				t.Fatalf("Append wrote on error %v: %q", err, dst[:cap(dst)])
			}
			if errors.Is(err, ircmsg.ErrBodyTooLong) {
				// Truncate either makes it fit or leaves it as it was.
				before := m.Clone()
				if terr := form.Truncate(m); terr != nil {
					if d := cmp.Diff(before, m, msgOpts); d != "" {
						t.Fatalf("Truncate failed (%v) but changed m (-before +after):\n%s", terr, d)
					}
				} else if _, err := form.Append(nil, m); err != nil {
					t.Fatalf("Append after a successful Truncate: %v", err)
				}
			}
			return
		}
		line := out[3:]
		if bytes.ContainsAny(line, "\r\n\x00") {
			t.Fatalf("Append wrote a CR, LF or NUL: %q", line)
		}
		back, err := ircmsg.Parse(line)
		if err != nil {
			t.Fatalf("Parse(Append(%#v)) = Parse(%q) error: %v", m, line, err)
		}
		want := m.Clone()
		want.Command = upperASCII(want.Command)
		if d := cmp.Diff(want, back, msgOpts); d != "" {
			t.Fatalf("Parse(%q) (-want +got):\n%s", line, d)
		}
		checkRoundTrip(t, line)
	})
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

// FuzzParser parses two lines in turn with one Parser into one Message, as
// a stream decoder does: each result must equal ParseString's, errors
// included, the caller's line must not change, and a DeepClone of the
// first result must survive the second parse.
func FuzzParser(f *testing.F) {
	seeds := fuzzSeeds(f)
	for i, s := range seeds {
		f.Add([]byte(seeds[(i+1)%len(seeds)]), []byte(s))
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		var p ircmsg.Parser
		var m ircmsg.Message
		var kept *ircmsg.Message
		for _, line := range [][]byte{first, second} {
			in := string(line)
			err := p.Parse(&m, line)
			if string(line) != in {
				t.Fatalf("Parser.Parse wrote into its line: %q became %q", in, line)
			}
			want, werr := ircmsg.ParseString(in)
			if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
				t.Fatalf("Parser.Parse and ParseString disagree on %q: %v / %v", in, err, werr)
			}
			if err != nil {
				if d := cmp.Diff(&ircmsg.Message{}, &m, msgOpts); d != "" {
					t.Fatalf("Parser.Parse(%q) failed but left (-want +got):\n%s", in, d)
				}
				kept = nil
				continue
			}
			if d := cmp.Diff(want, &m, msgOpts); d != "" {
				t.Fatalf("Parser.Parse(%q) (-ParseString +Parser):\n%s", in, d)
			}
			if kept != nil {
				back, _ := ircmsg.ParseString(string(first))
				if d := cmp.Diff(back, kept, msgOpts); d != "" {
					t.Fatalf("DeepClone of %q changed by parsing %q (-want +got):\n%s", first, in, d)
				}
			}
			kept = m.DeepClone()
		}
	})
}
