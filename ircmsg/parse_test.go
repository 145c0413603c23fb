package ircmsg_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ircsock/ircsock/ircmsg"
)

// msgOpts compares Messages treating nil and empty slices alike.
var msgOpts = cmpopts.EquateEmpty()

type parseCase struct {
	name string
	in   string
	want ircmsg.Message
}

// Cases of the Perl original's tests, named by file: "4.1" is
// POE::Filter::IRCv3's t/parser.t, "4.3" its t/from_yaml.t, "4.4"
// IRC::Message::Object's t/01_message_obj.t; where the original was wrong
// the case expects the fix (DESIGN.md, "Fixed on purpose").
var parseCases = []parseCase{
	{"4.1 source only", ":test foo", ircmsg.Message{Source: "test", Command: "FOO"}},
	{"4.1 trailing spaces", ":test foo   ", ircmsg.Message{Source: "test", Command: "FOO"}},
	{"4.1 privmsg", ":test!me@test.ing PRIVMSG #Test :This is a test",
		ircmsg.Message{Source: "test!me@test.ing", Command: "PRIVMSG", Params: []string{"#Test", "This is a test"}}},
	{"4.1 tab in command", ":test FOO\tBAR baz quux :A string",
		ircmsg.Message{Source: "test", Command: "FOO\tBAR", Params: []string{"baz", "quux", "A string"}}},
	{"4.1 tab in param", ":test JOIN #foo\tbar :baz",
		ircmsg.Message{Source: "test", Command: "JOIN", Params: []string{"#foo\tbar", "baz"}}},
	{"4.1 colon in middle", ":test PRIVMSG #fo:oo :This is a test",
		ircmsg.Message{Source: "test", Command: "PRIVMSG", Params: []string{"#fo:oo", "This is a test"}}},
	{"4.1 colon in middle no source", "PRIVMSG #fo:oo :This is a test",
		ircmsg.Message{Command: "PRIVMSG", Params: []string{"#fo:oo", "This is a test"}}},
	{"4.1 no source", "PRIVMSG #foo :No prefix test",
		ircmsg.Message{Command: "PRIVMSG", Params: []string{"#foo", "No prefix test"}}},
	{"4.1 spaces kept in trailing", ":test PRIVMSG foo :A string   with spaces   ",
		ircmsg.Message{Source: "test", Command: "PRIVMSG", Params: []string{"foo", "A string   with spaces   "}}},
	{"4.1 repeated spaces", ":test   PRIVMSG   foo   :bar",
		ircmsg.Message{Source: "test", Command: "PRIVMSG", Params: []string{"foo", "bar"}}},
	{"4.1 repeated spaces no trailing", "FOO  bar   baz   quux",
		ircmsg.Message{Command: "FOO", Params: []string{"bar", "baz", "quux"}}},
	{"4.1 empty tags", "@ foo bar", ircmsg.Message{Command: "FOO", Params: []string{"bar"}}},
	{"4.1 empty tags source", "@ :foo bar baz quux",
		ircmsg.Message{Source: "foo", Command: "BAR", Params: []string{"baz", "quux"}}},
	{"4.1 empty tags spaces", "@   foo bar", ircmsg.Message{Command: "FOO", Params: []string{"bar"}}},
	{"4.1 empty tags spaces source", "@   :foo bar baz",
		ircmsg.Message{Source: "foo", Command: "BAR", Params: []string{"baz"}}},
	{"4.1 tags and source", "@foo=bar;znc.in/ext=val;baz :test PRIVMSG #chan :A string",
		ircmsg.Message{
			Tags:   []ircmsg.Tag{{Key: "foo", Value: "bar"}, {Key: "znc.in/ext", Value: "val"}, {Key: "baz"}},
			Source: "test", Command: "PRIVMSG", Params: []string{"#chan", "A string"},
		}},
	{"4.1 arbitrary bytes", ":foo PRIVMSG #f\xc3\x82\x83\xa0oo\xc7\x87",
		ircmsg.Message{Source: "foo", Command: "PRIVMSG", Params: []string{"#f\xc3\x82\x83\xa0oo\xc7\x87"}}},
	// §4.2: "\a" is "a" (IRCv3: the backslash of an unknown escape is
	// dropped); POE::Filter::IRCv3 gave BEL.
	{"4.2 escapes", `@foo=bar\nbaz\squ\aux things`,
		ircmsg.Message{Tags: []ircmsg.Tag{{Key: "foo", Value: "bar\nbaz quaux"}}, Command: "THINGS"}},
	{"4.2 escapes 2", `@foo=bar\:\\baz\rquux stuff`,
		ircmsg.Message{Tags: []ircmsg.Tag{{Key: "foo", Value: "bar;\\baz\rquux"}}, Command: "STUFF"}},
	{"4.3 command only", "foo", ircmsg.Message{Command: "FOO"}},
	{"4.3 trailing with space", ":test   PRIVMSG   foo   :bar ",
		ircmsg.Message{Source: "test", Command: "PRIVMSG", Params: []string{"foo", "bar "}}},
	{"4.3 middles", ":test foo bar baz quux",
		ircmsg.Message{Source: "test", Command: "FOO", Params: []string{"bar", "baz", "quux"}}},
	{"4.3 middles no source", "foo   bar   baz   quux",
		ircmsg.Message{Command: "FOO", Params: []string{"bar", "baz", "quux"}}},
	{"4.3 middles and trailing", "foo bar baz quux :This is a test",
		ircmsg.Message{Command: "FOO", Params: []string{"bar", "baz", "quux", "This is a test"}}},
	{"4.4 numeric", ":server.org 001 user :Welcome to IRC",
		ircmsg.Message{Source: "server.org", Command: "001", Params: []string{"user", "Welcome to IRC"}}},
	{"4.4 tagged", "@intent=ACTION;znc.in/extension=value;foobar PRIVMSG #somewhere :Some string",
		ircmsg.Message{
			Tags:    []ircmsg.Tag{{Key: "intent", Value: "ACTION"}, {Key: "znc.in/extension", Value: "value"}, {Key: "foobar"}},
			Command: "PRIVMSG", Params: []string{"#somewhere", "Some string"},
		}},

	// Edge cases probed on the Perl original, with the fixes of DESIGN.md.
	{"empty trailing", "CMD :", ircmsg.Message{Command: "CMD", Params: []string{""}}},
	{"trailing with colon", "CMD :a :b", ircmsg.Message{Command: "CMD", Params: []string{"a :b"}}},
	{"trailing spaces after middle", "CMD a b  ", ircmsg.Message{Command: "CMD", Params: []string{"a", "b"}}},
	{"leading spaces", "   :src CMD a", ircmsg.Message{Source: "src", Command: "CMD", Params: []string{"a"}}},
	{"command zero", "0", ircmsg.Message{Command: "0"}},
	{"command uppercased ascii only", "caf\xe9 x", ircmsg.Message{Command: "CAF\xe9", Params: []string{"x"}}},
	{"value keeps equals", "@a=b=c CMD", ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a", Value: "b=c"}}, Command: "CMD"}},
	{"backslash zero", `@a=x\0y CMD`, ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a", Value: "x0y"}}, Command: "CMD"}},
	{"trailing backslash dropped", `@a=x\ CMD`, ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a", Value: "x"}}, Command: "CMD"}},
	{"double backslash", `@a=x\\s CMD`, ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a", Value: `x\s`}}, Command: "CMD"}},
	{"empty items skipped", "@a;;b; CMD", ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a"}, {Key: "b"}}, Command: "CMD"}},
	{"empty value is no value", "@a= CMD", ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a"}}, Command: "CMD"}},
	{"duplicate last wins at first place", "@a=1;b=2;a=3;c;a= CMD",
		ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a"}, {Key: "b", Value: "2"}, {Key: "c"}}, Command: "CMD"}},
	{"client-only kept", "@+draft/reply=abc;+typing=active TAGMSG #c",
		ircmsg.Message{Tags: []ircmsg.Tag{{Key: "+draft/reply", Value: "abc"}, {Key: "+typing", Value: "active"}}, Command: "TAGMSG", Params: []string{"#c"}}},
	{"invalid keys dropped", "@=v;bad_key=1;a/b/c=2;+=3;x.y=4;ok=5 CMD",
		ircmsg.Message{Tags: []ircmsg.Tag{{Key: "ok", Value: "5"}}, Command: "CMD"}},
	{"all keys invalid", "@=v CMD", ircmsg.Message{Command: "CMD"}},
	{"vendor with dots", "@example.com/x=1 CMD", ircmsg.Message{Tags: []ircmsg.Tag{{Key: "example.com/x", Value: "1"}}, Command: "CMD"}},
	{"many params", "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 :17 x",
		ircmsg.Message{Command: "CMD", Params: append(numbers(16), "17 x")}},
}

// numbers returns "1" to "n".
func numbers(n int) []string {
	var p []string
	for i := 1; i <= n; i++ {
		p = append(p, strconv.Itoa(i))
	}
	return p
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ircmsg.Parse([]byte(tc.in))
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tc.in, err)
			}
			if d := cmp.Diff(&tc.want, got, msgOpts); d != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.in, d)
			}
			gotS, err := ircmsg.ParseString(tc.in)
			if err != nil {
				t.Fatalf("ParseString(%q) error: %v", tc.in, err)
			}
			if d := cmp.Diff(&tc.want, gotS, msgOpts); d != "" {
				t.Errorf("ParseString(%q) mismatch (-want +got):\n%s", tc.in, d)
			}
			var owned ircmsg.Message
			if err := (ircmsg.Limits{}).ParseOwnedInto(&owned, []byte(tc.in)); err != nil {
				t.Fatalf("ParseOwnedInto(%q) error: %v", tc.in, err)
			}
			if d := cmp.Diff(&tc.want, &owned, msgOpts); d != "" {
				t.Errorf("ParseOwnedInto(%q) mismatch (-want +got):\n%s", tc.in, d)
			}
			var p ircmsg.Parser
			var reused ircmsg.Message
			for range 2 { // the second time into the grown buffer and Message
				if err := p.Parse(&reused, []byte(tc.in)); err != nil {
					t.Fatalf("Parser.Parse(%q) error: %v", tc.in, err)
				}
				if d := cmp.Diff(&tc.want, &reused, msgOpts); d != "" {
					t.Errorf("Parser.Parse(%q) mismatch (-want +got):\n%s", tc.in, d)
				}
			}
		})
	}
}

// TestParseNoCopy checks the two parses that make no copy of their line:
// ParseOwnedInto and ParseStringInto (for a line without tag escapes and
// with an uppercase command) allocate nothing into a reused Message, and
// their strings lie inside the line. The string lines are constants in
// read-only memory, so a write into them would crash the test.
func TestParseNoCopy(t *testing.T) {
	const line = "@time=2026-01-01T00:00:00.000Z;msgid=abc :nick!user@host PRIVMSG #chan :hello there"
	inside := func(s string, base *byte, n int) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		b := uintptr(unsafe.Pointer(base))
		return p >= b && p+uintptr(len(s)) <= b+uintptr(n)
	}
	var m ircmsg.Message
	if err := m.ParseString(line); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{m.Source, m.Params[0], m.Params[1], m.Tags[0].Value} {
		if !inside(s, unsafe.StringData(line), len(line)) {
			t.Errorf("ParseStringInto: %q is a copy, want it inside the line", s)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = m.ParseString(line) }); n != 0 {
		t.Errorf("ParseStringInto into a reused Message: %v allocations, want 0", n)
	}
	own := []byte(line)
	if err := (ircmsg.Limits{}).ParseOwnedInto(&m, own); err != nil {
		t.Fatal(err)
	}
	if !inside(m.Source, &own[0], len(own)) || !inside(m.Params[1], &own[0], len(own)) {
		t.Errorf("ParseOwnedInto: source %q or text %q is a copy", m.Source, m.Params[1])
	}
	if n := testing.AllocsPerRun(100, func() {
		own := own[:len(line):len(line)]
		_ = (ircmsg.Limits{}).ParseOwnedInto(&m, own)
	}); n != 0 {
		t.Errorf("ParseOwnedInto into a reused Message: %v allocations, want 0", n)
	}

	// What must be rewritten is, without touching the constant.
	for _, tc := range []struct{ in, cmd, tag string }{
		{"@a=x\\sy :n privmsg #c :t", "PRIVMSG", "x y"},
		{"@a=b frob #c", "FROB", "b"},
	} {
		if err := m.ParseString(tc.in); err != nil {
			t.Fatal(err)
		}
		if m.Command != tc.cmd || m.Tags[0].Value != tc.tag {
			t.Errorf("ParseString(%q): command %q, tag %q; want %q, %q", tc.in, m.Command, m.Tags[0].Value, tc.cmd, tc.tag)
		}
	}
}

// TestParseReuse parses every case into one Message in turn, so stale tags
// or parameters of a longer message would show.
func TestParseReuse(t *testing.T) {
	var m ircmsg.Message
	reversed := slices.Clone(parseCases)
	slices.Reverse(reversed)
	for _, order := range [][]parseCase{parseCases, reversed} {
		for _, tc := range order {
			if err := m.Parse([]byte(tc.in)); err != nil {
				t.Fatalf("Parse(%q) error: %v", tc.in, err)
			}
			if d := cmp.Diff(&tc.want, &m, msgOpts); d != "" {
				t.Errorf("reused Parse(%q) mismatch (-want +got):\n%s", tc.in, d)
			}
		}
	}
}

// TestParseInputNotKept checks that the parsed strings do not alias the
// caller's buffer.
func TestParseInputNotKept(t *testing.T) {
	line := []byte(`@a=x\sy :n!u@h PRIVMSG #c :hello`)
	m, err := ircmsg.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	want := m.Clone()
	for i := range line {
		line[i] = 'Z'
	}
	if d := cmp.Diff(want, m, msgOpts); d != "" {
		t.Errorf("message changed with the input buffer (-want +got):\n%s", d)
	}
	if want.Params[1] != "hello" || want.Tags[0].Value != "x y" {
		t.Errorf("parsed %v, want params[1] hello and tag a=%q", want, "x y")
	}
}

func TestParseErrors(t *testing.T) {
	long := func(n int, c string) string { return strings.Repeat(c, n) }
	cases := []struct {
		name   string
		in     string
		lim    ircmsg.Limits
		err    error
		offset int
	}{
		{"empty", "", ircmsg.Limits{}, ircmsg.ErrEmpty, 0},
		{"one space", " ", ircmsg.Limits{}, ircmsg.ErrNoCommand, 1},
		{"spaces", "   ", ircmsg.Limits{}, ircmsg.ErrNoCommand, 3},
		{"at only", "@", ircmsg.Limits{}, ircmsg.ErrNoCommand, 1},
		{"tag only", "@a", ircmsg.Limits{}, ircmsg.ErrNoCommand, 2},
		{"tag value only", "@a=b", ircmsg.Limits{}, ircmsg.ErrNoCommand, 4},
		{"tags and space", "@a=b ", ircmsg.Limits{}, ircmsg.ErrNoCommand, 5},
		{"at space", "@ ", ircmsg.Limits{}, ircmsg.ErrNoCommand, 2},
		{"source only", ":foo", ircmsg.Limits{}, ircmsg.ErrNoCommand, 4},
		{"source and space", ":foo ", ircmsg.Limits{}, ircmsg.ErrNoCommand, 5},
		{"tags and source only", "@foo :foo", ircmsg.Limits{}, ircmsg.ErrNoCommand, 9},
		{"tags and source only 2", "@a=b :p", ircmsg.Limits{}, ircmsg.ErrNoCommand, 7},
		{"empty source", ": foo", ircmsg.Limits{}, ircmsg.ErrEmptySource, 0},
		{"colon command", ":src :cmd", ircmsg.Limits{}, ircmsg.ErrBadCommand, 5},
		{"at command", "@a @cmd x", ircmsg.Limits{}, ircmsg.ErrBadCommand, 3},
		{"indented tags", " @a CMD", ircmsg.Limits{}, ircmsg.ErrBadCommand, 1},
		// A NUL or a bare CR is refused (POE::Filter::IRCv3 kept them): it
		// could only be re-emitted as an injection or be cut by the peer.
		{"NUL in tag value", "@foo=bar;znc.in/ext=val\x00;baz PRIVMSG #chan :A string", ircmsg.Limits{}, ircmsg.ErrBadByte, 23},
		{"NUL in trailing", ":foo PRIVMSG #f\xc3\x82oo\x00", ircmsg.Limits{}, ircmsg.ErrBadByte, 19},
		{"bare CR at end", "CMD a\r", ircmsg.Limits{}, ircmsg.ErrBadByte, 5},
		{"LF inside", "PRIVMSG #a :x\nQUIT", ircmsg.Limits{}, ircmsg.ErrBadByte, 13},
		{"first bad byte reported", "A \n\r\x00", ircmsg.Limits{}, ircmsg.ErrBadByte, 2},
		{"tags too long", "@" + long(8190, "a") + " CMD", ircmsg.Limits{}, ircmsg.ErrTagsTooLong, 8191},
		{"tags too long no space", "@" + long(9000, "a"), ircmsg.Limits{}, ircmsg.ErrTagsTooLong, 8191},
		{"tags too long custom", "@abcd=1 CMD", ircmsg.Limits{TagBytes: 7}, ircmsg.ErrTagsTooLong, 7},
		{"client tags too long", "@+" + long(4094, "a") + " CMD", ircmsg.Limits{}, ircmsg.ErrClientTagsTooLong, 4096},
		{"client tags too long in sum", "@+a=" + long(2000, "x") + ";b=1;+c=" + long(2088, "y") + " CMD", ircmsg.Limits{}, ircmsg.ErrClientTagsTooLong, 4100},
		{"body too long", "PRIVMSG #c :" + long(499, "x"), ircmsg.Limits{}, ircmsg.ErrBodyTooLong, 510},
		{"body too long after tags", "@a=b PRIVMSG #c :" + long(499, "x"), ircmsg.Limits{}, ircmsg.ErrBodyTooLong, 515},
		{"body too long custom", "PING :12345", ircmsg.Limits{BodyBytes: 12}, ircmsg.ErrBodyTooLong, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := func(name string, err error) {
				t.Helper()
				var pe *ircmsg.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("%s(%.40q) error = %v, want a *ParseError wrapping %v", name, tc.in, err, tc.err)
				}
				if !errors.Is(err, tc.err) || pe.Offset != tc.offset {
					t.Errorf("%s(%.40q) = %v (offset %d), want %v at offset %d", name, tc.in, err, pe.Offset, tc.err, tc.offset)
				}
				if want := tc.in[:min(len(tc.in), 1024)]; pe.Line != want {
					t.Errorf("%s: ParseError.Line = %.40q (len %d), want %.40q (len %d)", name, pe.Line, len(pe.Line), want, len(want))
				}
				if !strings.HasPrefix(err.Error(), "ircmsg: ") {
					t.Errorf("%s: error text %q lacks the package prefix", name, err)
				}
			}
			m := ircmsg.Message{Command: "OLD", Source: "old", Params: []string{"p"}, Tags: []ircmsg.Tag{{Key: "k"}}}
			check("ParseInto", tc.lim.ParseInto(&m, []byte(tc.in)))
			if d := cmp.Diff(&ircmsg.Message{}, &m, msgOpts); d != "" {
				t.Errorf("message not emptied after error (-want +got):\n%s", d)
			}
			check("ParseStringInto", tc.lim.ParseStringInto(&m, tc.in))
			m = ircmsg.Message{Command: "OLD", Source: "old", Params: []string{"p"}, Tags: []ircmsg.Tag{{Key: "k"}}}
			p := ircmsg.Parser{Limits: tc.lim}
			check("Parser.Parse", p.Parse(&m, []byte(tc.in)))
			if d := cmp.Diff(&ircmsg.Message{}, &m, msgOpts); d != "" {
				t.Errorf("Parser.Parse: message not emptied after error (-want +got):\n%s", d)
			}
			if tc.lim == (ircmsg.Limits{}) {
				got, err := ircmsg.ParseString(tc.in)
				if got != nil {
					t.Errorf("ParseString returned a message %v with error %v", got, err)
				}
				check("ParseString", err)
			}
		})
	}
}

func TestParseLimitBoundaries(t *testing.T) {
	long := func(n int, c string) string { return strings.Repeat(c, n) }
	cases := []struct {
		name string
		in   string
		lim  ircmsg.Limits
	}{
		{"tags exactly 8191", "@" + long(8189, "a") + " CMD", ircmsg.Limits{}},
		{"client tags exactly 4094", "@+" + long(4093, "a") + " CMD", ircmsg.Limits{}},
		{"body exactly 510", "PRIVMSG #c :" + long(498, "x"), ircmsg.Limits{}},
		{"body exactly 510 after tags", "@a=b PRIVMSG #c :" + long(498, "x"), ircmsg.Limits{}},
		{"no tag limit", "@" + long(20000, "a") + " CMD", ircmsg.Limits{TagBytes: -1, ClientTagBytes: -1}},
		{"no client tag limit", "@+" + long(5000, "a") + " CMD", ircmsg.Limits{ClientTagBytes: -1}},
		{"no body limit", "PRIVMSG #c :" + long(20000, "x"), ircmsg.Limits{BodyBytes: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m ircmsg.Message
			if err := tc.lim.ParseInto(&m, []byte(tc.in)); err != nil {
				t.Errorf("ParseInto(%.40q...) error: %v, want none", tc.in, err)
			}
		})
	}
}

// TestParseManyTags checks duplicate handling past the linear scan: the
// last value wins at the place of the first, for thousands of tags.
func TestParseManyTags(t *testing.T) {
	cases := []struct {
		name     string
		distinct int
		repeat   int
	}{
		{"one key 4000 times", 1, 4000},
		{"17 keys twice", 17, 2},
		{"800 keys 3 times", 800, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteByte('@')
			for r := 0; r < tc.repeat; r++ {
				for k := 0; k < tc.distinct; k++ {
					if b.Len() > 1 {
						b.WriteByte(';')
					}
					b.WriteString("k" + strconv.Itoa(k) + "=" + strconv.Itoa(r))
				}
			}
			b.WriteString(" CMD")
			lim := ircmsg.Limits{TagBytes: -1}
			var m ircmsg.Message
			if err := lim.ParseInto(&m, []byte(b.String())); err != nil {
				t.Fatal(err)
			}
			var want []ircmsg.Tag
			for k := 0; k < tc.distinct; k++ {
				want = append(want, ircmsg.Tag{Key: "k" + strconv.Itoa(k), Value: strconv.Itoa(tc.repeat - 1)})
			}
			if d := cmp.Diff(want, m.Tags); d != "" {
				t.Errorf("tags mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// TestParseSeventeenTags puts the switch to the duplicate map on the last
// item of the section, where no item follows.
func TestParseSeventeenTags(t *testing.T) {
	for _, n := range []int{16, 17, 18} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			var keys []string
			var want []ircmsg.Tag
			for i := 0; i < n; i++ {
				keys = append(keys, "k"+strconv.Itoa(i))
				want = append(want, ircmsg.Tag{Key: keys[i]})
			}
			m, err := ircmsg.ParseString("@" + strings.Join(keys, ";") + " CMD")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, m.Tags); d != "" {
				t.Errorf("tags (-want +got):\n%s", d)
			}
		})
	}
}
