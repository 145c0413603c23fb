package irc

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ircsock/ircsock/ircmsg"
)

func TestISupportDefaults(t *testing.T) {
	var is ISupport
	cm, ok := is.Casemap()
	if cm != RFC1459 || !ok {
		t.Errorf("Casemap() = %v, %v, want rfc1459, true", cm, ok)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ChanTypes", is.ChanTypes(), "#&"},
		{"ChanModes", is.ChanModes(), ChanModes{"b", "k", "l", "imnpst"}},
		{"Prefix", is.Prefix(), Prefix{"ov", "@+"}},
		{"StatusMsg", is.StatusMsg(), ""},
		{"Network", is.Network(), ""},
		{"NickLen", is.NickLen(), 9},
		{"ChannelLen", is.ChannelLen(), 200},
		{"TopicLen", is.TopicLen(), 0},
		{"AwayLen", is.AwayLen(), 0},
		{"KickLen", is.KickLen(), 0},
		{"MaxTargets", is.MaxTargets(), 1},
		{"Modes", is.Modes(), 3},
		{"LineLen", is.LineLen(), 512},
		{"UTF8Only", is.UTF8Only(), false},
		{"MaxList", is.MaxList(), []ListLimit(nil)},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s() default (-want +got):\n%s", c.name, diff)
		}
	}
	if _, ok := is.Monitor(); ok {
		t.Error("Monitor() ok by default")
	}
	if _, ok := is.Excepts(); ok {
		t.Error("Excepts() ok by default")
	}
	if _, ok := is.Invex(); ok {
		t.Error("Invex() ok by default")
	}
	if _, ok := is.Bot(); ok {
		t.Error("Bot() ok by default")
	}
	if _, ok := is.TargMax("PRIVMSG"); ok {
		t.Error("TargMax(PRIVMSG) ok by default")
	}
	if !is.IsChannel("#go") || !is.IsChannel("&local") || is.IsChannel("nick") || is.IsChannel("") {
		t.Error("IsChannel with default CHANTYPES is wrong")
	}
}

// InspIRCd 3's 005 lines as it sends them, in three messages.
var inspircd005 = []string{
	":irc.test 005 me AWAYLEN=200 CASEMAPPING=rfc1459 CHANLIMIT=#:20 CHANMODES=IXbeg,k,Hfjl,ACKMNOPQRSTcimnprstz CHANNELLEN=64 CHANTYPES=# ELIST=CMNTU ESILENCE=CcdiNnPpTtx EXCEPTS=e EXTBAN=,ACNOQRSTUacjmnprswz HOSTLEN=64 :are supported by this server",
	":irc.test 005 me INVEX=I KEYLEN=32 KICKLEN=255 LINELEN=512 MAXLIST=I:100,X:100,b:100,e:100,g:100 MAXTARGETS=20 MODES=20 MONITOR=30 NAMELEN=128 NAMESX NETWORK=Test\\x20Net NICKLEN=30 :are supported by this server",
	":irc.test 005 me PREFIX=(Yqaohv)!~&@%+ REMOVE SAFELIST SECURELIST=60 SILENCE=32 STATUSMSG=!~&@%+ TOPICLEN=307 UHNAMES USERIP USERLEN=10 USERMODES=,,s,BDHILRSTWcdghikorwxz WHOX BOT=B UTF8ONLY TARGMAX=PRIVMSG:4,NOTICE:4,JOIN:,WHOIS:1 :are supported by this server",
}

func TestISupportInspIRCd(t *testing.T) {
	var is ISupport
	for _, line := range inspircd005 {
		m, err := ircmsg.ParseString(line)
		if err != nil {
			t.Fatal(err)
		}
		if err := is.AddMessage(m); err != nil {
			t.Fatalf("AddMessage(%q) = %v", line, err)
		}
	}
	cm, ok := is.Casemap()
	if cm != RFC1459 || !ok {
		t.Errorf("Casemap() = %v, %v", cm, ok)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ChanTypes", is.ChanTypes(), "#"},
		{"ChanModes", is.ChanModes(), ChanModes{"IXbeg", "k", "Hfjl", "ACKMNOPQRSTcimnprstz"}},
		{"Prefix", is.Prefix(), Prefix{"Yqaohv", "!~&@%+"}},
		{"StatusMsg", is.StatusMsg(), "!~&@%+"},
		{"Network", is.Network(), "Test Net"},
		{"NickLen", is.NickLen(), 30},
		{"ChannelLen", is.ChannelLen(), 64},
		{"TopicLen", is.TopicLen(), 307},
		{"AwayLen", is.AwayLen(), 200},
		{"KickLen", is.KickLen(), 255},
		{"MaxTargets", is.MaxTargets(), 20},
		{"Modes", is.Modes(), 20},
		{"LineLen", is.LineLen(), 512},
		{"UTF8Only", is.UTF8Only(), true},
		{"MaxList", is.MaxList(), []ListLimit{{"I", 100}, {"X", 100}, {"b", 100}, {"e", 100}, {"g", 100}}},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s() (-want +got):\n%s", c.name, diff)
		}
	}
	if n, ok := is.Monitor(); n != 30 || !ok {
		t.Errorf("Monitor() = %d, %v", n, ok)
	}
	if m, ok := is.Excepts(); m != 'e' || !ok {
		t.Errorf("Excepts() = %q, %v", m, ok)
	}
	if m, ok := is.Invex(); m != 'I' || !ok {
		t.Errorf("Invex() = %q, %v", m, ok)
	}
	if m, ok := is.Bot(); m != 'B' || !ok {
		t.Errorf("Bot() = %q, %v", m, ok)
	}
	for cmd, want := range map[string]int{"PRIVMSG": 4, "NOTICE": 4, "JOIN": 0, "WHOIS": 1} {
		if n, ok := is.TargMax(cmd); n != want || !ok {
			t.Errorf("TargMax(%s) = %d, %v, want %d, true", cmd, n, ok, want)
		}
	}
	if _, ok := is.TargMax("KICK"); ok {
		t.Error("TargMax(KICK) ok, want not listed")
	}
	// Unknown tokens are kept raw, with and without values.
	if v, ok := is.Get("USERMODES"); v != ",,s,BDHILRSTWcdghikorwxz" || !ok {
		t.Errorf("Get(USERMODES) = %q, %v", v, ok)
	}
	if v, ok := is.Get("WHOX"); v != "" || !ok {
		t.Errorf("Get(WHOX) = %q, %v", v, ok)
	}
	if _, ok := is.Get("NOPE"); ok {
		t.Error("Get(NOPE) ok")
	}
	if n := len(is.Names()); n != 38 {
		t.Errorf("Names() has %d tokens, want 38: %v", n, is.Names())
	}
	if !slices.IsSorted(is.Names()) {
		t.Error("Names() not sorted")
	}
	if sym, rest := is.Prefix().Split("!@+nick"); sym != "!@+" || rest != "nick" {
		t.Errorf("Prefix().Split = %q, %q", sym, rest)
	}
	if s, ok := is.Prefix().Symbol('o'); s != '@' || !ok {
		t.Errorf("Symbol(o) = %q, %v", s, ok)
	}
	if m, ok := is.Prefix().Mode('%'); m != 'h' || !ok {
		t.Errorf("Mode(%%) = %q, %v", m, ok)
	}
	if _, ok := is.Prefix().Mode('x'); ok {
		t.Error("Mode(x) ok")
	}
}

func TestISupportRemoveAndReplace(t *testing.T) {
	var is ISupport
	must(t, is.Add([]string{"NICKLEN=30", "EXCEPTS", "PREFIX=(qov)~@+", "CHANTYPES="}))
	if is.NickLen() != 30 || is.ChanTypes() != "" || is.IsChannel("#x") {
		t.Fatalf("after add: NickLen %d ChanTypes %q", is.NickLen(), is.ChanTypes())
	}
	must(t, is.Add([]string{"-NICKLEN", "-EXCEPTS", "PREFIX=(ov)@+", "-CHANTYPES", "-NEVERSENT"}))
	if is.NickLen() != 9 {
		t.Errorf("NickLen after -NICKLEN = %d, want default 9", is.NickLen())
	}
	if _, ok := is.Excepts(); ok {
		t.Error("Excepts after -EXCEPTS still ok")
	}
	if _, ok := is.Get("NICKLEN"); ok {
		t.Error("Get(NICKLEN) after removal ok")
	}
	if is.Prefix() != (Prefix{"ov", "@+"}) {
		t.Errorf("Prefix after replace = %v", is.Prefix())
	}
	if is.ChanTypes() != "#&" {
		t.Errorf("ChanTypes after removal = %q", is.ChanTypes())
	}
	must(t, is.Add([]string{"MODES", "PREFIX=", "TOPICLEN="}))
	if is.Modes() != 0 || is.Prefix() != (Prefix{}) || is.TopicLen() != 0 {
		t.Errorf("empty values: Modes %d Prefix %v", is.Modes(), is.Prefix())
	}
}

func TestISupportEscapes(t *testing.T) {
	cases := []struct{ token, want string }{
		{`NETWORK=Some\x20Net`, "Some Net"},
		{`NETWORK=a\x5Cb\x3d`, `a\b=`},
		{`NETWORK=bad\x2`, `bad\x2`},
		{`NETWORK=bad\xZZ`, `bad\xZZ`},
		{`NETWORK=\x`, `\x`},
		{`NETWORK=a=b`, `a=b`},
		{`NETWORK=plain`, `plain`},
	}
	for _, tc := range cases {
		t.Run(tc.token, func(t *testing.T) {
			var is ISupport
			must(t, is.Add([]string{tc.token}))
			if got := is.Network(); got != tc.want {
				t.Errorf("Network() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestISupportMalformed(t *testing.T) {
	cases := []struct {
		token string
		check func(*ISupport) bool // the accessor fell back to its default
	}{
		{"NICKLEN=abc", func(is *ISupport) bool { return is.NickLen() == 9 }},
		{"NICKLEN=-3", func(is *ISupport) bool { return is.NickLen() == 9 }},
		{"MODES=+4", func(is *ISupport) bool { return is.Modes() == 3 }},
		{"PREFIX=(ov)@", func(is *ISupport) bool { return is.Prefix() == Prefix{"ov", "@+"} }},
		{"PREFIX=ov@+", func(is *ISupport) bool { return is.Prefix() == Prefix{"ov", "@+"} }},
		{"CHANMODES=b,k", func(is *ISupport) bool { return is.ChanModes().D == "imnpst" }},
		{"MAXLIST=b100", func(is *ISupport) bool { return is.MaxList() == nil }},
		{"TARGMAX=PRIVMSG", func(is *ISupport) bool { _, ok := is.TargMax("PRIVMSG"); return !ok }},
		{"EXCEPTS=ee", func(is *ISupport) bool { _, ok := is.Excepts(); return !ok }},
		{"=value", func(is *ISupport) bool { return len(is.Names()) == 1 }},
		{"-", func(is *ISupport) bool { return len(is.Names()) == 1 }},
	}
	for _, tc := range cases {
		t.Run(tc.token, func(t *testing.T) {
			var is ISupport
			err := is.Add([]string{tc.token, "NETWORK=kept"})
			if !errors.Is(err, ErrISupportToken) {
				t.Fatalf("Add(%q) = %v, want ErrISupportToken", tc.token, err)
			}
			if is.Network() != "kept" {
				t.Errorf("the well-formed token after %q was not added", tc.token)
			}
			if !tc.check(&is) {
				t.Errorf("accessor did not fall back to its default after %q", tc.token)
			}
		})
	}
}

func TestISupportAddMessageRejects(t *testing.T) {
	for _, line := range []string{
		":s 001 me :Welcome",
		":s 005 me :are supported",
		":s 005 me",
	} {
		m, err := ircmsg.ParseString(line)
		if err != nil {
			t.Fatal(err)
		}
		var is ISupport
		if err := is.AddMessage(m); !errors.Is(err, ErrNotISupport) {
			t.Errorf("AddMessage(%q) = %v, want ErrNotISupport", line, err)
		}
	}
	var is ISupport
	if err := is.AddMessage(nil); !errors.Is(err, ErrNotISupport) {
		t.Errorf("AddMessage(nil) = %v", err)
	}
}

func TestISupportUnknownCasemap(t *testing.T) {
	var is ISupport
	must(t, is.Add([]string{"CASEMAPPING=BINARY"}))
	if cm, ok := is.Casemap(); cm != ASCII || ok {
		t.Errorf("Casemap() = %v, %v, want ascii, false", cm, ok)
	}
	must(t, is.Add([]string{"CASEMAPPING=rfc8265"}))
	if cm, ok := is.Casemap(); cm != RFC7613 || !ok {
		t.Errorf("Casemap() = %v, %v, want rfc7613, true", cm, ok)
	}
	must(t, is.Add([]string{"CASEMAPPING=ascii", "UTF8MAPPING=rfc8265"}))
	if cm, ok := is.Casemap(); cm != RFC7613 || !ok {
		t.Errorf("ascii with UTF8MAPPING=rfc8265: Casemap() = %v, %v, want rfc7613, true", cm, ok)
	}
	must(t, is.Add([]string{"-UTF8MAPPING"}))
	must(t, is.Add([]string{"CASEMAPPING=strict-rfc1459"}))
	if cm, ok := is.Casemap(); cm != StrictRFC1459 || !ok {
		t.Errorf("Casemap() = %v, %v, want strict-rfc1459, true", cm, ok)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func BenchmarkISupportAdd(b *testing.B) {
	var lines [][]string
	for _, l := range inspircd005 {
		m, err := ircmsg.ParseString(l)
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, m.Params[1:len(m.Params)-1])
	}
	b.ReportAllocs()
	for b.Loop() {
		var is ISupport
		for _, p := range lines {
			if err := is.Add(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func TestISupportClone(t *testing.T) {
	var is ISupport
	must(t, is.Add([]string{"NICKLEN=30", `NETWORK=A\x20B\x5Cx=y`}))
	c := is.Clone()
	must(t, is.Add([]string{"NICKLEN=12", "-NETWORK"}))
	if c.NickLen() != 30 || c.Network() != `A B\x=y` {
		t.Errorf("clone changed with the original: NickLen %d Network %q", c.NickLen(), c.Network())
	}
	if is.NickLen() != 12 || is.Network() != "" {
		t.Errorf("original: NickLen %d Network %q", is.NickLen(), is.Network())
	}
	var empty ISupport
	if e := empty.Clone(); e.NickLen() != 9 || len(e.Names()) != 0 {
		t.Error("clone of the zero value is not empty")
	}
}
