package irc

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ircsock/ircsock/ircmsg"
)

var testModes = Modes{
	ChanModes: ChanModes{A: "beI", B: "k", C: "lf", D: "imnpst"},
	Prefix:    Prefix{Modes: "qaohv", Symbols: "~&@%+"},
}

func TestParseModes(t *testing.T) {
	cases := []struct {
		name   string
		params []string
		want   []ModeChange
		err    error
	}{
		{"issue example", []string{"+ov-k", "nick1", "nick2", "key"},
			[]ModeChange{{true, 'o', "nick1"}, {true, 'v', "nick2"}, {false, 'k', "key"}}, nil},
		{"flags", []string{"+nt-s"},
			[]ModeChange{{true, 'n', ""}, {true, 't', ""}, {false, 's', ""}}, nil},
		{"limit set and unset", []string{"+l-l", "10"},
			[]ModeChange{{true, 'l', "10"}, {false, 'l', ""}}, nil},
		{"bans", []string{"+bb-e", "*!*@a", "*!*@b", "*!*@c"},
			[]ModeChange{{true, 'b', "*!*@a"}, {true, 'b', "*!*@b"}, {false, 'e', "*!*@c"}}, nil},
		{"list request", []string{"+b"}, []ModeChange{{true, 'b', ""}}, nil},
		{"no sign", []string{"o", "nick"}, []ModeChange{{true, 'o', "nick"}}, nil},
		{"several mode strings", []string{"+o", "a", "-v", "b"},
			[]ModeChange{{true, 'o', "a"}, {false, 'v', "b"}}, nil},
		{"param that looks like a sign", []string{"+k", "-weird"}, []ModeChange{{true, 'k', "-weird"}}, nil},
		{"324 reply", []string{"+nstkl", "secret", "50"},
			[]ModeChange{{true, 'n', ""}, {true, 's', ""}, {true, 't', ""}, {true, 'k', "secret"}, {true, 'l', "50"}}, nil},
		{"key unset takes param", []string{"-k", "*"}, []ModeChange{{false, 'k', "*"}}, nil},
		{"empty", nil, nil, nil},
		{"unknown", []string{"+nZo", "nick"}, []ModeChange{{true, 'n', ""}}, ErrModeUnknown},
		{"missing prefix param", []string{"+oo", "a"}, []ModeChange{{true, 'o', "a"}}, ErrModeMissingParam},
		{"missing key", []string{"+k"}, nil, ErrModeMissingParam},
		{"extra", []string{"+n", "stray"}, []ModeChange{{true, 'n', ""}}, ErrModeExtraParams},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := testModes.Parse(tc.params)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("Parse(%q) error = %v, want %v", tc.params, err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tc.params, diff)
			}
		})
	}
}

func TestModeKinds(t *testing.T) {
	want := map[byte]ModeKind{'b': ModeList, 'k': ModeParam, 'l': ModeParamWhenSet, 'n': ModeFlag, 'o': ModePrefix, 'Z': ModeUnknown}
	for m, k := range want {
		if got := testModes.Kind(m); got != k {
			t.Errorf("Kind(%q) = %v, want %v", m, got, k)
		}
	}
	var is ISupport
	if got := is.ChannelModes().Kind('v'); got != ModePrefix {
		t.Errorf("default Kind(v) = %v", got)
	}
	if got := is.ChannelModes().Kind('k'); got != ModeParam {
		t.Errorf("default Kind(k) = %v", got)
	}
}

func TestParseUserModes(t *testing.T) {
	got, err := ParseUserModes([]string{"+iw-x"}, ChanModes{})
	if err != nil {
		t.Fatal(err)
	}
	want := []ModeChange{{true, 'i', ""}, {true, 'w', ""}, {false, 'x', ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// InspIRCd's snomask user mode takes a parameter (USERMODES=,,s,...).
	var is ISupport
	must(t, is.Add([]string{"USERMODES=,,s,BDHILRSTWcdghikorwxz"}))
	got, err = ParseUserModes([]string{"+is", "+cC"}, is.UserModes())
	if err != nil {
		t.Fatal(err)
	}
	want = []ModeChange{{true, 'i', ""}, {true, 's', "+cC"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snomask (-want +got):\n%s", diff)
	}
}

func TestModePack(t *testing.T) {
	changes := []ModeChange{
		{true, 'o', "alice"}, {true, 'o', "bob"}, {true, 'v', "carol"}, {true, 'v', "dave"},
		{false, 'k', "key"}, {true, 'n', ""}, {false, 't', ""}, {true, 'b', "*!*@x"},
	}
	msgs, err := ModePacker{Source: testSource}.Pack("#c", changes)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, m := range msgs {
		lines = append(lines, m.String())
	}
	want := []string{
		"MODE #c +oov alice bob carol",
		"MODE #c +v-k+n-t+b dave key *!*@x",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Packed lines parse back into the same changes.
	var back []ModeChange
	for _, m := range msgs {
		got, err := testModes.Parse(m.Params[1:])
		if err != nil {
			t.Fatal(err)
		}
		back = append(back, got...)
	}
	if diff := cmp.Diff(changes, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// No limit: one line.
	msgs, _ = ModePacker{Modes: -1, Source: testSource}.Pack("#c", changes)
	if len(msgs) != 1 {
		t.Errorf("unlimited MODES: %d lines", len(msgs))
	}
}

func TestModePackLineLength(t *testing.T) {
	var changes []ModeChange
	for i := range 200 {
		changes = append(changes, ModeChange{Add: i%3 != 0, Mode: 'b', Param: "*!*@host-" + strings.Repeat("x", i%40) + ".example.net"})
	}
	p := ModePacker{Modes: -1, Source: testSource}
	msgs, err := p.Pack("#channel", changes)
	if err != nil {
		t.Fatal(err)
	}
	var back []ModeChange
	for i, m := range msgs {
		m.Source = testSource
		line, err := ircmsg.Format{Colonify: true}.Append(nil, m)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if len(line)+2 > 512 {
			t.Fatalf("line %d is %d bytes", i, len(line)+2)
		}
		got, err := testModes.Parse(m.Params[1:])
		if err != nil {
			t.Fatal(err)
		}
		back = append(back, got...)
	}
	if diff := cmp.Diff(changes, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if len(msgs) < 10 {
		t.Errorf("%d lines for 200 bans", len(msgs))
	}
}

func TestModePackErrors(t *testing.T) {
	for _, bad := range []string{":x", "a b", "a\r\n"} {
		if _, err := (ModePacker{}).Pack("#c", []ModeChange{{true, 'k', bad}}); !errors.Is(err, ErrModeBadParam) {
			t.Errorf("Pack(+k %q) err = %v, want ErrModeBadParam", bad, err)
		}
	}
	if _, err := (ModePacker{Source: testSource}).Pack("#c", []ModeChange{{true, 'b', strings.Repeat("x", 500)}}); !errors.Is(err, ErrSplitNoRoom) {
		t.Errorf("Pack(huge ban) err = %v, want ErrSplitNoRoom", err)
	}
	var is ISupport
	must(t, is.Add([]string{"MODES"}))
	if p := is.ModePacker("me!u@h"); p.Modes != -1 || p.LineLen != 512 || p.Source != "me!u@h" {
		t.Errorf("ModePacker from MODES without a value = %+v", p)
	}
}

func BenchmarkParseModes(b *testing.B) {
	params := []string{"+ov-k+bl", "nick1", "nick2", "key", "*!*@bad.example.net", "50"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := testModes.Parse(params); err != nil {
			b.Fatal(err)
		}
	}
}
