package irc

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ircsock/ircsock/ircmsg"
)

func TestParseCTCP(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want CTCP
		ok   bool
	}{
		{"version", "\x01VERSION\x01", CTCP{"VERSION", ""}, true},
		{"ping", "\x01PING 1473523796 918320\x01", CTCP{"PING", "1473523796 918320"}, true},
		{"action", "\x01ACTION writes the best specifications!\x01", CTCP{"ACTION", "writes the best specifications!"}, true},
		{"no final delimiter", "\x01ACTION waves", CTCP{"ACTION", "waves"}, true},
		{"no final delimiter, no params", "\x01VERSION", CTCP{"VERSION", ""}, true},
		{"params keep spaces", "\x01ACTION  two  spaces \x01", CTCP{"ACTION", " two  spaces "}, true},
		{"lower case kept", "\x01action x\x01", CTCP{"action", "x"}, true},
		{"empty frame", "\x01\x01", CTCP{}, false},
		{"lone delimiter", "\x01", CTCP{}, false},
		{"no command", "\x01 text\x01", CTCP{}, false},
		{"plain text", "hello", CTCP{}, false},
		{"empty", "", CTCP{}, false},
		{"delimiter later", "hi \x01VERSION\x01", CTCP{}, false},
		{"text after frame", "\x01PING 1\x01 and more", CTCP{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseCTCP(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ParseCTCP(%q) = %+v, %v, want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestExtractCTCP(t *testing.T) {
	cases := []struct {
		line      string
		want      CTCP
		reply, ok bool
	}{
		{":dx PRIVMSG SaberUK :\x01VERSION\x01", CTCP{"VERSION", ""}, false, true},
		{":SaberUK NOTICE dx :\x01VERSION Your Mother 6.9\x01", CTCP{"VERSION", "Your Mother 6.9"}, true, true},
		{":a PRIVMSG #c :hello", CTCP{}, false, false},
		{":a TOPIC #c :\x01VERSION\x01", CTCP{}, false, false},
		{":a PRIVMSG :\x01VERSION\x01", CTCP{}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			m, err := ircmsg.ParseString(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			got, reply, ok := ExtractCTCP(m)
			if got != tc.want || reply != tc.reply || ok != tc.ok {
				t.Errorf("ExtractCTCP = %+v, %v, %v, want %+v, %v, %v", got, reply, ok, tc.want, tc.reply, tc.ok)
			}
		})
	}
	if _, _, ok := ExtractCTCP(nil); ok {
		t.Error("ExtractCTCP(nil) ok")
	}
}

func TestCTCPBuild(t *testing.T) {
	m, err := CTCPRequest("SaberUK", CTCP{Command: "VERSION"})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != "PRIVMSG SaberUK \x01VERSION\x01" {
		t.Errorf("CTCPRequest = %q", got)
	}
	m, err = CTCPReply("dx", CTCP{Command: "VERSION", Params: "Your Mother 6.9"})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != "NOTICE dx :\x01VERSION Your Mother 6.9\x01" {
		t.Errorf("CTCPReply = %q", got)
	}
	m, err = Action("#ircv3", "writes specs")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != "PRIVMSG #ircv3 :\x01ACTION writes specs\x01" {
		t.Errorf("Action = %q", got)
	}
	if text, ok := ActionText(m); !ok || text != "writes specs" {
		t.Errorf("ActionText = %q, %v", text, ok)
	}
	notice, _ := CTCPReply("x", CTCP{Command: "ACTION", Params: "y"})
	if _, ok := ActionText(notice); ok {
		t.Error("ActionText(NOTICE) ok")
	}
	for _, bad := range []CTCP{
		{Command: ""},
		{Command: "VER SION"},
		{Command: "A\x01"},
		{Command: "PING", Params: "a\x01b"},
		{Command: "PING", Params: "a\r\nQUIT"},
		{Command: "PING", Params: "a\x00"},
	} {
		if _, err := CTCPRequest("t", bad); !errors.Is(err, ErrCTCPInvalid) {
			t.Errorf("CTCPRequest(%+v) err = %v, want ErrCTCPInvalid", bad, err)
		}
	}
}

func TestLowQuote(t *testing.T) {
	cases := []struct{ raw, quoted string }{
		{"plain", "plain"},
		{"a\x00b", "a\x100b"},
		{"a\nb\rc", "a\x10nb\x10rc"},
		{"\x10", "\x10\x10"},
		{"\x10n", "\x10\x10n"},
	}
	for _, tc := range cases {
		t.Run(tc.quoted, func(t *testing.T) {
			if got := LowQuote(tc.raw); got != tc.quoted {
				t.Errorf("LowQuote(%q) = %q, want %q", tc.raw, got, tc.quoted)
			}
			if got := LowDequote(tc.quoted); got != tc.raw {
				t.Errorf("LowDequote(%q) = %q, want %q", tc.quoted, got, tc.raw)
			}
		})
	}
	// A DLE before any other byte is dropped; a trailing DLE too.
	if got := LowDequote("a\x10xb\x10"); got != "axb" {
		t.Errorf("LowDequote(stray DLE) = %q", got)
	}
}

func TestCTCPQuote(t *testing.T) {
	cases := []struct{ raw, quoted string }{
		{"plain", "plain"},
		{"a\x01b", `a\ab`},
		{`back\slash`, `back\\slash`},
		{`\a`, `\\a`},
	}
	for _, tc := range cases {
		t.Run(tc.quoted, func(t *testing.T) {
			if got := CTCPQuote(tc.raw); got != tc.quoted {
				t.Errorf("CTCPQuote(%q) = %q, want %q", tc.raw, got, tc.quoted)
			}
			if got := CTCPDequote(tc.quoted); got != tc.raw {
				t.Errorf("CTCPDequote(%q) = %q, want %q", tc.quoted, got, tc.raw)
			}
		})
	}
	if got := CTCPDequote(`a\xb\`); got != "axb" {
		t.Errorf("CTCPDequote(stray backslash) = %q", got)
	}
}

func TestParseCTCPOld(t *testing.T) {
	// The 1994 specification's own example.
	frames, plain, err := ParseCTCPOld("Hello Ja\x01PING 34\x01ne! How's the we\x01VERSION\x01ather?")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]CTCP{{"PING", "34"}, {"VERSION", ""}}, frames); diff != "" {
		t.Errorf("frames (-want +got):\n%s", diff)
	}
	if plain != "Hello Jane! How's the weather?" {
		t.Errorf("plain = %q", plain)
	}
	// Both quoting levels undone: a \x01 inside a frame and a CR LF.
	frames, plain, err = ParseCTCPOld("\x01SED a\\ab\x10r\x10n\x01\x01\x01")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]CTCP{{"SED", "a\x01b\r\n"}}, frames); diff != "" || plain != "" {
		t.Errorf("frames (-want +got):\n%s plain %q", diff, plain)
	}
	frames, plain, err = ParseCTCPOld("x\x01PING 1\x01y\x01VERSION")
	if !errors.Is(err, ErrCTCPUnbalanced) {
		t.Errorf("unbalanced: err = %v", err)
	}
	if len(frames) != 1 || plain != "xyVERSION" {
		t.Errorf("unbalanced: frames %+v plain %q", frames, plain)
	}
}
