package filter

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ircsock/ircsock/ircmsg"
)

func TestIRCv3Decode(t *testing.T) {
	cases := []struct {
		name string
		line string
		want *ircmsg.Message
		err  error // a sentinel of ircmsg, for a bad line
	}{
		{name: "privmsg with source", line: ":nick!u@h PRIVMSG #chan :hi there",
			want: &ircmsg.Message{Source: "nick!u@h", Command: "PRIVMSG", Params: []string{"#chan", "hi there"}}},
		{name: "tags escaped", line: `@a=b\sc;+d :s NOTICE x :y`,
			want: &ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a", Value: "b c"}, {Key: "+d"}}, Source: "s", Command: "NOTICE", Params: []string{"x", "y"}}},
		{name: "lower command uppercased", line: "ping :x",
			want: &ircmsg.Message{Command: "PING", Params: []string{"x"}}},
		{name: "empty line", line: "", err: ircmsg.ErrEmpty},
		{name: "tags only", line: "@a=b ", err: ircmsg.ErrNoCommand},
		{name: "source only", line: ":pfx ", err: ircmsg.ErrNoCommand},
		{name: "bare cr left by the framer", line: "PING a\r", err: ircmsg.ErrBadByte},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c IRCv3
			m, err := c.Decode([]byte(tc.line))
			if tc.err != nil {
				var pe *ircmsg.ParseError
				if m != nil || !IsRecordError(err) || !errors.Is(err, tc.err) || !errors.As(err, &pe) {
					t.Fatalf("Decode(%q) = %v, %v; want a RecordError wrapping a ParseError for %v", tc.line, m, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%q) error %v", tc.line, err)
			}
			// No tags may come back as a nil or an empty slice.
			if diff := cmp.Diff(tc.want, m, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("Decode(%q) mismatch (-want +got):\n%s", tc.line, diff)
			}
			var into ircmsg.Message
			into.Params = make([]string, 0, 8)
			if err := c.DecodeInto(&into, []byte(tc.line)); err != nil {
				t.Fatalf("DecodeInto(%q) error %v", tc.line, err)
			}
			if into.Command != tc.want.Command || !slices.Equal(into.Params, tc.want.Params) {
				t.Fatalf("DecodeInto(%q) = %v, want %v", tc.line, &into, tc.want)
			}
		})
	}
}

func TestIRCv3Encode(t *testing.T) {
	cases := []struct {
		name     string
		colonify bool
		msg      *ircmsg.Message
		want     string
		err      error
	}{
		{name: "plain", msg: &ircmsg.Message{Command: "PRIVMSG", Params: []string{"#c", "hi"}}, want: "PRIVMSG #c hi"},
		{name: "colonify", colonify: true, msg: &ircmsg.Message{Command: "PRIVMSG", Params: []string{"#c", "hi"}}, want: "PRIVMSG #c :hi"},
		{name: "space needs colon", msg: &ircmsg.Message{Command: "PRIVMSG", Params: []string{"#c", "hi there"}}, want: "PRIVMSG #c :hi there"},
		{name: "empty last param", msg: &ircmsg.Message{Command: "TOPIC", Params: []string{"#c", ""}}, want: "TOPIC #c :"},
		{name: "injection refused", msg: &ircmsg.Message{Command: "PRIVMSG", Params: []string{"#c", "x\r\nQUIT"}}, err: ircmsg.ErrBadByte},
		{name: "space in middle param", msg: &ircmsg.Message{Command: "MODE", Params: []string{"a b", "c"}}, err: ircmsg.ErrBadParam},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := IRCv3{Format: ircmsg.Format{Colonify: tc.colonify}}
			got, err := c.Encode([]byte("pre:"), tc.msg)
			if tc.err != nil {
				if !IsRecordError(err) || !errors.Is(err, tc.err) || string(got) != "pre:" {
					t.Fatalf("Encode = %q, %v; want dst unchanged and a RecordError wrapping %v", got, err, tc.err)
				}
				return
			}
			if err != nil || string(got) != "pre:"+tc.want {
				t.Fatalf("Encode = %q, %v; want %q", got, err, "pre:"+tc.want)
			}
		})
	}
}

// TestIRCv3Stream decodes a stream with bad lines among good ones, in
// every chunking: each good line arrives, each bad one is one per-record
// error, as POE::Filter::IRCv3 inside Stackable skips them.
func TestIRCv3Stream(t *testing.T) {
	wire := []byte("PING :1\r\n@a= \r\n:x PRIVMSG #c :two\r\n: NOTICE\r\nPONG 3\n")
	want := []string{"PING 1", ":x PRIVMSG #c two", "PONG 3"}
	for _, c := range namedSplits(wire) {
		var codec IRCv3
		var got []string
		bad := 0
		s := NewStack(&Line{})
		_, err := decodeAll(s, c.chunks, func(_ int, rec []byte) {
			m, err := codec.Decode(rec)
			if err != nil {
				if !IsRecordError(err) {
					t.Fatalf("%s: Decode(%q) gave a fatal error %v", c.name, rec, err)
				}
				bad++
				return
			}
			got = append(got, m.String())
		})
		if err != nil || !slices.Equal(got, want) || bad != 2 {
			t.Fatalf("%s: got %q and %d bad lines, %v; want %q and 2 bad lines", c.name, got, bad, err, want)
		}
	}
}
