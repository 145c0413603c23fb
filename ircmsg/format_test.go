package ircmsg_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ircsock/ircsock/ircmsg"
)

func TestAppend(t *testing.T) {
	colon := ircmsg.Format{Colonify: true}
	cases := []struct {
		name string
		f    ircmsg.Format
		m    ircmsg.Message
		want string
	}{
		// The put cases of POE::Filter::IRCv3's t/parser.t (filter built
		// with colonify 1 unless the case says 0); "4.1" names that file.
		{"4.1 source lowercase command", colon, ircmsg.Message{Source: "test", Command: "foo"}, ":test foo"},
		{"4.1 parsed source only", colon, ircmsg.Message{Source: "test", Command: "FOO"}, ":test FOO"},
		{"4.1 privmsg", colon, ircmsg.Message{Source: "test!me@test.ing", Command: "PRIVMSG", Params: []string{"#Test", "This is a test"}},
			":test!me@test.ing PRIVMSG #Test :This is a test"},
		{"4.1 tab in command", colon, ircmsg.Message{Source: "test", Command: "FOO\tBAR", Params: []string{"baz", "quux", "A string"}},
			":test FOO\tBAR baz quux :A string"},
		{"4.1 tab in param", colon, ircmsg.Message{Source: "test", Command: "JOIN", Params: []string{"#foo\tbar", "baz"}},
			":test JOIN #foo\tbar :baz"},
		{"4.1 collapsed spaces", colon, ircmsg.Message{Source: "test", Command: "PRIVMSG", Params: []string{"foo", "bar"}},
			":test PRIVMSG foo :bar"},
		{"4.1 colonify middles", colon, ircmsg.Message{Command: "FOO", Params: []string{"bar", "baz", "quux"}}, "FOO bar baz :quux"},
		{"4.1 arbitrary bytes colonify 0", ircmsg.Format{}, ircmsg.Message{Source: "foo", Command: "PRIVMSG", Params: []string{"#f\xc3\x82\x83\xa0oo\xc7\x87"}},
			":foo PRIVMSG #f\xc3\x82\x83\xa0oo\xc7\x87"},
		{"4.1 colonify 1", colon, ircmsg.Message{Source: "test", Command: "FOO", Params: []string{"bar"}}, ":test FOO :bar"},
		{"4.1 colonify 0", ircmsg.Format{}, ircmsg.Message{Source: "test", Command: "FOO", Params: []string{"bar"}}, ":test FOO bar"},
		{"4.1 colonify 0 space", ircmsg.Format{}, ircmsg.Message{Command: "FOO", Params: []string{"foo", "A string"}}, "FOO foo :A string"},
		// §4.2, with the value escaped spec-correctly: upstream asserts
		// the backslash comes out unescaped ("bar\:\baz\rquux"), which
		// does not round-trip; IRCv3 message-tags requires "\\".
		{"4.2 escapes", ircmsg.Format{}, ircmsg.Message{Tags: []ircmsg.Tag{{Key: "foo", Value: "bar\nbaz quaux"}}, Command: "things"},
			`@foo=bar\nbaz\squaux things`},
		{"4.2 backslash escaped", ircmsg.Format{}, ircmsg.Message{Tags: []ircmsg.Tag{{Key: "foo", Value: "bar;\\baz\rquux"}}, Command: "stuff"},
			`@foo=bar\:\\baz\rquux stuff`},
		// §4.4: an empty source is left out.
		{"4.4 empty source", colon, ircmsg.Message{Command: "PRIVMSG", Params: []string{"#somewhere", "Some string"}}, "PRIVMSG #somewhere :Some string"},
		{"4.4 tag order kept", ircmsg.Format{},
			ircmsg.Message{Tags: []ircmsg.Tag{{Key: "intent", Value: "ACTION"}, {Key: "znc.in/extension", Value: "value"}, {Key: "foobar"}}, Command: "PRIVMSG", Params: []string{"#somewhere", "Some string"}},
			"@intent=ACTION;znc.in/extension=value;foobar PRIVMSG #somewhere :Some string"},

		// §2.1 put bugs, fixed.
		{"empty last param kept", ircmsg.Format{}, ircmsg.Message{Command: "PRIVMSG", Params: []string{"#c", ""}}, "PRIVMSG #c :"},
		{"last param leading colon", ircmsg.Format{}, ircmsg.Message{Command: "PRIVMSG", Params: []string{"#c", ":)"}}, "PRIVMSG #c ::)"},
		{"no params", ircmsg.Format{Colonify: true}, ircmsg.Message{Command: "QUIT"}, "QUIT"},
		{"empty params slice", ircmsg.Format{}, ircmsg.Message{Command: "QUIT", Params: []string{}}, "QUIT"},
		{"all escapes", ircmsg.Format{}, ircmsg.Message{Tags: []ircmsg.Tag{{Key: "+example.com/k", Value: "a;b c\\d\re\nf=g"}}, Command: "TAGMSG", Params: []string{"#c"}},
			`@+example.com/k=a\:b\sc\\d\re\nf=g TAGMSG #c`},
		{"empty value bare key", ircmsg.Format{}, ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a"}, {Key: "b", Value: "1"}}, Command: "X"}, "@a;b=1 X"},
		{"control bytes pass", ircmsg.Format{}, ircmsg.Message{Source: "n!u@h\x03", Command: "PRIVMSG", Params: []string{"#c", "\x02bold\x0f"}},
			":n!u@h\x03 PRIVMSG #c \x02bold\x0f"},
		{"body exactly 510", ircmsg.Format{}, ircmsg.Message{Command: "PRIVMSG", Params: []string{"#c", strings.Repeat("x", 497) + " "}},
			"PRIVMSG #c :" + strings.Repeat("x", 497) + " "},
		{"no body limit", ircmsg.Format{Limits: ircmsg.Limits{BodyBytes: -1}}, ircmsg.Message{Command: "P", Params: []string{strings.Repeat("x", 600)}},
			"P " + strings.Repeat("x", 600)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep:")
			got, err := tc.f.Append(dst, &tc.m)
			if err != nil {
				t.Fatalf("Append error: %v", err)
			}
			if want := "keep:" + tc.want; string(got) != want {
				t.Errorf("Append = %q, want %q", got, want)
			}
			// What Append writes parses back to the same message, command
			// uppercased.
			back := new(ircmsg.Message)
			if err := tc.f.Limits.ParseInto(back, got[len(dst):]); err != nil {
				t.Fatalf("Parse(Append()) error: %v", err)
			}
			want := tc.m.Clone()
			want.Command = strings.ToUpper(want.Command)
			if d := cmp.Diff(want, back, msgOpts); d != "" {
				t.Errorf("Parse(Append()) mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestAppendErrors(t *testing.T) {
	manyTags := func(n int, dupAt int) []ircmsg.Tag {
		var tags []ircmsg.Tag
		for i := 0; i < n; i++ {
			tags = append(tags, ircmsg.Tag{Key: "k" + strconv.Itoa(i)})
		}
		if dupAt >= 0 {
			tags[dupAt].Key = "k0"
		}
		return tags
	}
	cmd := func(m ircmsg.Message) ircmsg.Message {
		if m.Command == "" {
			m.Command = "PRIVMSG"
		}
		return m
	}
	cases := []struct {
		name  string
		f     ircmsg.Format
		m     ircmsg.Message
		err   error
		field string
		index int
	}{
		{"CRLF injection in trailing", ircmsg.Format{}, cmd(ircmsg.Message{Params: []string{"#c", "hi\r\nQUIT"}}), ircmsg.ErrBadByte, "param", 1},
		{"LF in middle", ircmsg.Format{}, cmd(ircmsg.Message{Params: []string{"#c\n", "x"}}), ircmsg.ErrBadByte, "param", 0},
		{"NUL in trailing", ircmsg.Format{}, cmd(ircmsg.Message{Params: []string{"#c", "a\x00"}}), ircmsg.ErrBadByte, "param", 1},
		{"CR in source", ircmsg.Format{}, cmd(ircmsg.Message{Source: "a\rb"}), ircmsg.ErrBadByte, "source", 0},
		{"NUL in command", ircmsg.Format{}, ircmsg.Message{Command: "PRIV\x00MSG"}, ircmsg.ErrBadByte, "command", 0},
		{"NUL in tag value", ircmsg.Format{}, cmd(ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a", Value: "x\x00"}}}), ircmsg.ErrBadByte, "tag", 0},
		{"space in middle", ircmsg.Format{}, cmd(ircmsg.Message{Params: []string{"a b", "c"}}), ircmsg.ErrBadParam, "param", 0},
		{"empty middle", ircmsg.Format{}, cmd(ircmsg.Message{Params: []string{"a", "", "c"}}), ircmsg.ErrBadParam, "param", 1},
		{"colon middle", ircmsg.Format{}, cmd(ircmsg.Message{Params: []string{":a", "c"}}), ircmsg.ErrBadParam, "param", 0},
		{"space in source", ircmsg.Format{}, cmd(ircmsg.Message{Source: "a b"}), ircmsg.ErrBadSource, "source", 0},
		{"empty command", ircmsg.Format{}, ircmsg.Message{Source: "s"}, ircmsg.ErrBadCommand, "command", 0},
		{"space in command", ircmsg.Format{}, ircmsg.Message{Command: "A B"}, ircmsg.ErrBadCommand, "command", 0},
		{"colon command", ircmsg.Format{}, ircmsg.Message{Command: ":A"}, ircmsg.ErrBadCommand, "command", 0},
		{"at command", ircmsg.Format{}, ircmsg.Message{Command: "@A"}, ircmsg.ErrBadCommand, "command", 0},
		{"tag key with space", ircmsg.Format{}, cmd(ircmsg.Message{Tags: []ircmsg.Tag{{Key: "ok"}, {Key: "bad key"}}}), ircmsg.ErrBadTagKey, "tag", 1},
		{"empty tag key", ircmsg.Format{}, cmd(ircmsg.Message{Tags: []ircmsg.Tag{{Key: "", Value: "v"}}}), ircmsg.ErrBadTagKey, "tag", 0},
		{"tag key two slashes", ircmsg.Format{}, cmd(ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a/b/c"}}}), ircmsg.ErrBadTagKey, "tag", 0},
		{"tag key plus only", ircmsg.Format{}, cmd(ircmsg.Message{Tags: []ircmsg.Tag{{Key: "+"}}}), ircmsg.ErrBadTagKey, "tag", 0},
		{"tag key semicolon", ircmsg.Format{}, cmd(ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a;b"}}}), ircmsg.ErrBadTagKey, "tag", 0},
		{"tag key equals", ircmsg.Format{}, cmd(ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a=b"}}}), ircmsg.ErrBadTagKey, "tag", 0},
		{"duplicate tag", ircmsg.Format{}, cmd(ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a"}, {Key: "b"}, {Key: "a", Value: "2"}}}), ircmsg.ErrDuplicateTag, "tag", 2},
		{"duplicate among many tags", ircmsg.Format{}, cmd(ircmsg.Message{Tags: manyTags(40, 33)}), ircmsg.ErrDuplicateTag, "tag", 33},
		{"body too long", ircmsg.Format{}, cmd(ircmsg.Message{Params: []string{"#c", strings.Repeat("x", 498) + " "}}), ircmsg.ErrBodyTooLong, "message", 0},
		{"colonify tips body over", ircmsg.Format{Colonify: true}, cmd(ircmsg.Message{Params: []string{"#c", strings.Repeat("x", 499)}}), ircmsg.ErrBodyTooLong, "message", 0},
		{"tags too long", ircmsg.Format{}, cmd(ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a", Value: strings.Repeat(";", 4094)}}}), ircmsg.ErrTagsTooLong, "tags", 0},
		{"client tags too long", ircmsg.Format{}, cmd(ircmsg.Message{Tags: []ircmsg.Tag{{Key: "+a", Value: strings.Repeat("x", 2000)}, {Key: "s", Value: "1"}, {Key: "+b", Value: strings.Repeat("y", 2088)}}}),
			ircmsg.ErrClientTagsTooLong, "tags", 0},
		{"custom tag limit", ircmsg.Format{Limits: ircmsg.Limits{TagBytes: 7}}, cmd(ircmsg.Message{Tags: []ircmsg.Tag{{Key: "abcd", Value: "12"}}}), ircmsg.ErrTagsTooLong, "tags", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, 5, 4096)
			copy(dst, "keep:")
			got, err := tc.f.Append(dst, &tc.m)
			var fe *ircmsg.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Append error = %v, want a *FormatError wrapping %v", err, tc.err)
			}
			if !errors.Is(err, tc.err) || fe.Field != tc.field || fe.Index != tc.index {
				t.Errorf("Append error = %v (%q %d), want %v (%q %d)", err, fe.Field, fe.Index, tc.err, tc.field, tc.index)
			}
			if !strings.HasPrefix(err.Error(), "ircmsg: ") {
				t.Errorf("error text %q lacks the package prefix", err)
			}
			if string(got) != "keep:" {
				t.Errorf("Append returned %q on error, want dst unchanged %q", got, "keep:")
			}
			if spare := dst[5:cap(dst)]; strings.Trim(string(spare), "\x00") != "" {
				t.Errorf("Append wrote past len(dst) on error: %.40q", spare)
			}
		})
	}
}

// TestAppendLimitBoundaries checks that what is exactly at a limit is
// written.
func TestAppendLimitBoundaries(t *testing.T) {
	cases := []struct {
		name string
		m    ircmsg.Message
	}{
		// '@' + "a=" + 8187 bytes + ' ' = 8191.
		{"tags exactly 8191", ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a", Value: strings.Repeat("x", 8187)}}, Command: "X"}},
		{"escaped tags exactly 8191", ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a", Value: strings.Repeat(" ", 4093) + "x"}}, Command: "X"}},
		{"client tags exactly 4094", ircmsg.Message{Tags: []ircmsg.Tag{{Key: "+a", Value: strings.Repeat("x", 4091)}}, Command: "X"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ircmsg.Format{}.Append(nil, &tc.m)
			if err != nil {
				t.Fatalf("Append error: %v, want none", err)
			}
			back, err := ircmsg.Parse(got)
			if err != nil {
				t.Fatalf("Parse(Append()) error: %v", err)
			}
			if d := cmp.Diff(&tc.m, back, msgOpts); d != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestTagAccessors(t *testing.T) {
	var m ircmsg.Message
	m.SetTag("a", "1")
	m.SetTag("b", "")
	m.SetTag("c", "3")
	m.SetTag("a", "one") // keeps its place
	want := []ircmsg.Tag{{Key: "a", Value: "one"}, {Key: "b"}, {Key: "c", Value: "3"}}
	if d := cmp.Diff(want, m.Tags); d != "" {
		t.Fatalf("after SetTag (-want +got):\n%s", d)
	}
	lookups := []struct {
		key   string
		value string
		ok    bool
	}{{"a", "one", true}, {"b", "", true}, {"c", "3", true}, {"d", "", false}}
	for _, l := range lookups {
		if v, ok := m.Tag(l.key); v != l.value || ok != l.ok {
			t.Errorf("Tag(%q) = %q, %v; want %q, %v", l.key, v, ok, l.value, l.ok)
		}
	}
	m.DeleteTag("b")
	m.DeleteTag("missing")
	want = []ircmsg.Tag{{Key: "a", Value: "one"}, {Key: "c", Value: "3"}}
	if d := cmp.Diff(want, m.Tags); d != "" {
		t.Errorf("after DeleteTag (-want +got):\n%s", d)
	}
	if _, ok := m.Tag("b"); ok {
		t.Errorf("Tag(%q) present after DeleteTag", "b")
	}
}

func TestCloneIndependent(t *testing.T) {
	m, err := ircmsg.ParseString("@a=1 :s CMD x y")
	if err != nil {
		t.Fatal(err)
	}
	c := m.Clone()
	c.Params[0] = "changed"
	c.SetTag("a", "changed")
	if m.Params[0] != "x" || m.Tags[0].Value != "1" {
		t.Errorf("changing the clone changed the original: %v", m)
	}
}

func TestString(t *testing.T) {
	cases := []struct {
		name string
		m    ircmsg.Message
		want string
	}{
		{"valid", ircmsg.Message{Source: "s", Command: "PING", Params: []string{"x y"}}, ":s PING :x y"},
		{"invalid", ircmsg.Message{Command: "PRIVMSG", Params: []string{"#c", "a\r\nQUIT"}}, "!ircmsg(ircmsg: CR, LF or NUL byte (param 1))"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.m.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidTagKey(t *testing.T) {
	cases := []struct {
		key  string
		want bool
	}{
		{"a", true}, {"time", true}, {"+typing", true}, {"draft/reply", true}, {"+draft/reply", true},
		{"example.com/x-y", true}, {"A-9", true},
		{"", false}, {"+", false}, {"/a", false}, {"a/", false}, {"a/b/c", false}, {"a.b", false},
		{"a_b", false}, {"a b", false}, {"++a", false}, {"a+", false}, {"é", false}, {"vendor/a.b", false},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			if got := ircmsg.ValidTagKey(tc.key); got != tc.want {
				t.Errorf("ValidTagKey(%q) = %v, want %v", tc.key, got, tc.want)
			}
		})
	}
}

func TestSplitSourceExtra(t *testing.T) {
	cases := []struct {
		in               string
		nick, user, host string
	}{
		{"", "", "", ""},
		{"irc.example.com", "irc.example.com", "", ""},
		{"n@h!x", "n", "", "h!x"},
		{"n!u!v@h", "n", "u!v", "h"},
		{"!@", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			n, u, h := ircmsg.SplitSource(tc.in)
			if n != tc.nick || u != tc.user || h != tc.host {
				t.Errorf("SplitSource(%q) = %q, %q, %q; want %q, %q, %q", tc.in, n, u, h, tc.nick, tc.user, tc.host)
			}
		})
	}
}
