package irc

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func FuzzCTCP(f *testing.F) {
	for _, s := range []string{
		"\x01VERSION\x01", "\x01PING 1473523796 918320\x01", "\x01ACTION waves", "\x01\x01", "\x01",
		"plain", "Hello Ja\x01PING 34\x01ne!", "\x01SED a\\ab\x10r\x10n\x01", "\x01 x\x01", "\x01A\x01B",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if c, ok := ParseCTCP(s); ok {
			if c.Command == "" || strings.ContainsAny(c.Command, " \x01") || strings.Contains(c.Params, "\x01") {
				t.Fatalf("ParseCTCP(%q) = %+v", s, c)
			}
			if text, err := c.Text(); err == nil {
				back, ok := ParseCTCP(text)
				if !ok || back != c {
					t.Fatalf("ParseCTCP(Text(%+v)) = %+v, %v", c, back, ok)
				}
			}
		}
		if got := LowDequote(LowQuote(s)); got != s {
			t.Fatalf("LowDequote(LowQuote(%q)) = %q", s, got)
		}
		if q := LowQuote(s); strings.ContainsAny(q, "\x00\r\n") {
			t.Fatalf("LowQuote(%q) = %q keeps a NUL, CR or LF", s, q)
		}
		if got := CTCPDequote(CTCPQuote(s)); got != s {
			t.Fatalf("CTCPDequote(CTCPQuote(%q)) = %q", s, got)
		}
		if q := CTCPQuote(s); strings.Contains(q, "\x01") {
			t.Fatalf("CTCPQuote(%q) = %q keeps a \\x01", s, q)
		}
		frames, _, _ := ParseCTCPOld(s)
		for _, c := range frames {
			if c.Command == "" {
				t.Fatalf("ParseCTCPOld(%q) gave an empty command", s)
			}
		}
	})
}

func FuzzISupport(f *testing.F) {
	for _, l := range inspircd005 {
		f.Add(l)
	}
	f.Add(`-NICKLEN PREFIX=(ov)@ CHANMODES=a NETWORK=\x20\x2 MAXLIST=b: TARGMAX=:1`)
	f.Fuzz(func(t *testing.T, line string) {
		var is ISupport
		_ = is.Add(strings.Split(line, " "))
		p := is.Prefix()
		if len(p.Modes) != len(p.Symbols) {
			t.Fatalf("Prefix() = %+v: modes and symbols differ in length", p)
		}
		for i := range p.Symbols {
			if m, ok := p.Mode(p.Symbols[i]); !ok || strings.IndexByte(p.Modes, m) < 0 {
				t.Fatalf("Prefix().Mode(%q) = %q, %v", p.Symbols[i], m, ok)
			}
		}
		_, _ = p.Split(line)
		for _, n := range []int{is.NickLen(), is.ChannelLen(), is.TopicLen(), is.AwayLen(), is.KickLen(), is.MaxTargets(), is.Modes(), is.LineLen()} {
			if n < 0 {
				t.Fatalf("a limit is negative: %d", n)
			}
		}
		_, _ = is.Casemap()
		_ = is.ChanModes()
		_ = is.MaxList()
		_, _ = is.TargMax("PRIVMSG")
		_, _ = is.Monitor()
		_, _ = is.Excepts()
		_, _ = is.Invex()
		_, _ = is.Bot()
		_ = is.IsChannel(line)
		// A plain token without escapes reads back as sent.
		for _, tok := range strings.Split(line, " ") {
			name, value, _ := strings.Cut(tok, "=")
			if name == "" || strings.HasPrefix(tok, "-") || strings.Contains(value, `\x`) {
				continue
			}
			var one ISupport
			_ = one.Add([]string{tok})
			if got, ok := one.Get(name); !ok || got != value {
				t.Fatalf("Add(%q) then Get(%q) = %q, %v", tok, name, got, ok)
			}
		}
	})
}

func FuzzSplit(f *testing.F) {
	f.Add("hello world", 512)
	f.Add(strings.Repeat("\x0312,05ab ", 100), 300)
	f.Add(strings.Repeat("世界🙂 ", 100), 200)
	f.Add("\x01ACTION "+strings.Repeat("x ", 400)+"\x01", 512)
	f.Fuzz(func(t *testing.T, text string, lineLen int) {
		s := Splitter{Source: testSource, LineLen: lineLen%4096 + 100}
		pieces, err := s.Split("PRIVMSG", "#c", text)
		if err != nil {
			return
		}
		if c, ok := ParseCTCP(text); ok && len(pieces) > 1 && strings.HasSuffix(text, "\x01") {
			var joined strings.Builder
			for _, p := range pieces {
				pc, ok := ParseCTCP(p)
				if !ok || pc.Command != c.Command {
					t.Fatalf("piece %q is not a %s frame", p, c.Command)
				}
				joined.WriteString(pc.Params)
			}
			if joined.String() != c.Params {
				t.Fatalf("joined frame parameters differ")
			}
			return
		}
		checkPieces(t, s, "PRIVMSG", "#c", text, pieces)
	})
}

// refMatch is a dynamic-programming glob matcher, written independently
// of Mask, for FuzzMaskMatch.
func refMatch(mask, name string, cm Casemap) bool {
	type tok struct {
		kind byte // 'l', '?', '*'
		c    byte
	}
	var toks []tok
	for i := 0; i < len(mask); i++ {
		switch c := mask[i]; {
		case c == '\\' && i+1 < len(mask) && (mask[i+1] == '*' || mask[i+1] == '?' || mask[i+1] == '\\'):
			i++
			toks = append(toks, tok{'l', mask[i]})
		case c == '*' || c == '?':
			toks = append(toks, tok{kind: c})
		default:
			toks = append(toks, tok{'l', c})
		}
	}
	// ok[j]: toks[:j] matches the name read so far.
	ok := make([]bool, len(toks)+1)
	ok[0] = true
	for j := 1; j <= len(toks) && toks[j-1].kind == '*'; j++ {
		ok[j] = true
	}
	for i := 0; i < len(name); i++ {
		next := make([]bool, len(toks)+1)
		for j, t := range toks {
			switch {
			case t.kind == '*':
				next[j+1] = next[j+1] || ok[j+1] || next[j]
			case ok[j] && (t.kind == '?' || cm.Equal(string([]byte{t.c}), name[i:i+1])):
				next[j+1] = true
			}
		}
		ok = next
	}
	return ok[len(toks)]
}

func FuzzMaskMatch(f *testing.F) {
	f.Add("cool[guy]!*@*", "cool[guy]!guy@127.0.0.1")
	f.Add("*?*?*?*?x", "aaaaaaaaaa")
	f.Add(`a\*b\\c\?d\e`, `a*b\c?d\e`)
	f.Add("*!*@192.0.2.0/24", "n!u@192.0.2.7")
	f.Add("N~[]!*@*", "n^{}!x@y")
	f.Fuzz(func(t *testing.T, mask, name string) {
		if len(mask) > 600 || len(name) > 600 {
			return
		}
		for _, cm := range []Casemap{ASCII, RFC1459, StrictRFC1459} {
			got := MatchMask(mask, name, cm)
			want := refMatch(mask, name, cm)
			if got != want {
				// Only a CIDR host may add matches.
				m := CompileMask(mask, cm)
				if !got || !m.cidr.IsValid() {
					t.Fatalf("MatchMask(%q, %q, %v) = %v, reference says %v", mask, name, cm, got, want)
				}
			}
		}
		_ = NormalizeMask(mask)
		_ = ValidHostname(name)
	})
}

func FuzzModes(f *testing.F) {
	f.Add("+ov-k nick1 nick2 key")
	f.Add("+bl-e+k *!*@x 10 *!*@y key")
	f.Add("o nick -v n2")
	f.Add("+Z")
	f.Fuzz(func(t *testing.T, line string) {
		params := strings.Fields(line)
		changes, err := testModes.Parse(params)
		if err != nil {
			return
		}
		var packable []ModeChange
		for _, c := range changes {
			if c.Param == "" && testModes.Kind(c.Mode).takesParam(c.Add) {
				continue // a list request
			}
			packable = append(packable, c)
		}
		for _, p := range []ModePacker{{Source: testSource}, {Modes: -1, Source: testSource}, {Modes: 1, LineLen: 100, Source: "n!u@h"}} {
			msgs, err := p.Pack("#c", packable)
			if err != nil {
				continue // a parameter no line can carry
			}
			var back []ModeChange
			for _, m := range msgs {
				got, err := testModes.Parse(m.Params[1:])
				if err != nil {
					t.Fatalf("packed %v does not parse: %v", m, err)
				}
				back = append(back, got...)
			}
			if len(back) != len(packable) {
				t.Fatalf("packed %d changes, read back %d", len(packable), len(back))
			}
			for i := range back {
				if back[i] != packable[i] {
					t.Fatalf("change %d: packed %v, read back %v", i, packable[i], back[i])
				}
			}
		}
		_, _ = ParseUserModes(params, ChanModes{C: "s"})
	})
}

func FuzzFormatting(f *testing.F) {
	f.Add("I love \x033IRC! \x03It is the \x037best protocol ever!")
	f.Add("Rules: Don't spam 5\x0313,8,6\x03,7,8, and especially not \x029\x02\x1d!")
	f.Add("\x04FF00aa,00ff00x\x04y\x0412345")
	f.Add("\x03\x031\x0312,\x0312,3\x0f\x16\x11\x1e")
	f.Fuzz(func(t *testing.T, s string) {
		plain := StripFormatting(s)
		for i := 0; i < len(plain); i++ {
			if isCodeByte(plain[i]) {
				t.Fatalf("StripFormatting(%q) = %q keeps a code", s, plain)
			}
		}
		if StripFormatting(plain) != plain {
			t.Fatalf("StripFormatting is not idempotent on %q", s)
		}
		var joined strings.Builder
		var b Builder
		prev := Plain
		for i, sp := range ParseFormatting(s) {
			if sp.Text == "" {
				t.Fatalf("span %d of %q is empty", i, s)
			}
			if i > 0 && sp.Style == prev {
				t.Fatalf("spans %d and %d of %q have the same style", i-1, i, s)
			}
			prev = sp.Style
			joined.WriteString(sp.Text)
			// Rebuild the span with the Builder: the result must parse
			// back to the same spans.
			b.Reset()
			if sp.Bold {
				b.Bold()
			}
			if sp.Italics {
				b.Italics()
			}
			if sp.Underline {
				b.Underline()
			}
			if sp.Strikethrough {
				b.Strikethrough()
			}
			if sp.Monospace {
				b.Monospace()
			}
			if sp.Reverse {
				b.Reverse()
			}
			if sp.Fg != NoColor || sp.Bg != NoColor {
				fg := sp.Fg
				if fg == NoColor {
					fg = DefaultColor
				}
				b.Color(fg, sp.Bg)
			}
			b.Text(sp.Text)
		}
		if joined.String() != plain {
			t.Fatalf("joined spans of %q = %q, StripFormatting gives %q", s, joined.String(), plain)
		}
		if b.Err() != nil {
			return // an RGB colour paired with one that has no RGB value
		}
		// What the Builder was asked to write, as it documents writing
		// it: a background alone keeps the default foreground, and a pair
		// with an RGB colour is written as RGB, palette colours given their
		// RGB value. Two spans can then share one style (palette 1 is
		// #000000), and parse back as one.
		var want []Span
		for _, w := range ParseFormatting(s) {
			if w.Fg == NoColor && w.Bg != NoColor {
				w.Fg = DefaultColor
			}
			if w.Fg.IsRGB() || w.Bg.IsRGB() {
				w.Fg, w.Bg = hexed(w.Fg), hexed(w.Bg)
			}
			if k := len(want) - 1; k >= 0 && want[k].Style == w.Style {
				want[k].Text += w.Text
				continue
			}
			want = append(want, w)
		}
		if diff := cmp.Diff(want, ParseFormatting(b.String())); diff != "" {
			t.Fatalf("rebuilt %q as %q (-want +got):\n%s", s, b.String(), diff)
		}
	})
}
