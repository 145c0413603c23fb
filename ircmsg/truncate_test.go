package ircmsg_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ircsock/ircsock/ircmsg"
)

func TestTruncate(t *testing.T) {
	x700 := strings.Repeat("X", 700)
	tagged := "@intent=ACTION;znc.in/extension=value;foobar PRIVMSG #somewhere :"
	cases := []struct {
		name     string
		f        ircmsg.Format
		in       string // parsed with no body limit
		wantBody int    // length of the written body, tags excluded
		wantLast string // prefix check on the cut last parameter
	}{
		// IRC::Message::Object's t/01_message_obj.t: 510 bytes remain, all X.
		{"4.4 untagged", ircmsg.Format{}, "PRIVMSG #somewhere :" + x700, 510, "XXXX"},
		{"4.4 tagged keeps tags", ircmsg.Format{}, tagged + x700, 510, "XXXX"},
		{"colonify", ircmsg.Format{Colonify: true}, "PRIVMSG #c " + x700, 510, "XXXX"},
		{"utf8 boundary", ircmsg.Format{}, "PRIVMSG #c :" + strings.Repeat("é", 300), 509, "éé"},
		{"cut to empty", ircmsg.Format{Limits: ircmsg.Limits{BodyBytes: 14}}, "PRIVMSG #c :a bc", 12, ""},
		{"fits already", ircmsg.Format{}, "PRIVMSG #c :short", 16, "short"},
		{"custom limit", ircmsg.Format{Limits: ircmsg.Limits{BodyBytes: 22}}, "PRIVMSG #c :hello world", 20, "hello wo"},
		// The cut keeps a space, so the ':' stays and is counted.
		{"colon kept", ircmsg.Format{Limits: ircmsg.Limits{BodyBytes: 17}}, "PRIVMSG #c :a bcdef", 15, "a b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := new(ircmsg.Message)
			if err := (ircmsg.Limits{BodyBytes: -1}).ParseStringInto(m, tc.in); err != nil {
				t.Fatal(err)
			}
			if err := tc.f.Truncate(m); err != nil {
				t.Fatalf("Truncate error: %v", err)
			}
			out, err := tc.f.Append(nil, m)
			if err != nil {
				t.Fatalf("Append after Truncate: %v", err)
			}
			body := string(out)
			if strings.HasPrefix(body, "@") {
				body = body[strings.IndexByte(body, ' ')+1:]
			}
			if len(body) != tc.wantBody {
				t.Errorf("body length %d, want %d: %q", len(body), tc.wantBody, body)
			}
			last := m.Params[len(m.Params)-1]
			if !strings.HasPrefix(last, tc.wantLast) || !utf8.ValidString(last) {
				t.Errorf("last param %.30q..., want prefix %q and valid UTF-8", last, tc.wantLast)
			}
			if strings.HasPrefix(tc.in, "@") && len(m.Tags) != 3 {
				t.Errorf("tags %v, want the 3 parsed tags kept", m.Tags)
			}
		})
	}
}

func TestTruncateImpossible(t *testing.T) {
	long := strings.Repeat("m", 600)
	cases := []struct {
		name string
		m    ircmsg.Message
		err  error
	}{
		{"middle too long", ircmsg.Message{Command: "PRIVMSG", Params: []string{long, "x"}}, ircmsg.ErrBodyTooLong},
		{"no params", ircmsg.Message{Command: "X", Source: long}, ircmsg.ErrBodyTooLong},
		{"other fault", ircmsg.Message{Command: "PRIVMSG", Params: []string{"#c", long + "\r\n"}}, ircmsg.ErrBadByte},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.m.Clone()
			err := ircmsg.Format{}.Truncate(&tc.m)
			if !errors.Is(err, tc.err) {
				t.Errorf("Truncate error = %v, want %v", err, tc.err)
			}
			if tc.m.Params != nil && tc.m.Params[len(tc.m.Params)-1] != before.Params[len(before.Params)-1] {
				t.Errorf("Truncate changed the message on error")
			}
		})
	}
}
