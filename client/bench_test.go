package client

import (
	"strings"
	"testing"

	"github.com/ircsock/ircsock/ircmsg"
)

// InspIRCd 3.15's CAP LS reply as the tests see it.
const benchCapLS = "account-notify account-tag away-notify batch cap-notify chghost echo-message extended-join inspircd.org/poison inspircd.org/standard-replies labeled-response multi-prefix sasl=PLAIN,EXTERNAL server-time setname userhost-in-names"

func BenchmarkParseCaps(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchCapLS)))
	for b.Loop() {
		_ = parseCaps(benchCapLS)
	}
}

func BenchmarkAuthenticateRoundTrip(b *testing.B) {
	raw := []byte(strings.Repeat("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", 20)) // 700 bytes: 3 chunks
	a := authBuffer{max: DefaultMaxSASLResponse}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		for _, l := range authenticateLines(raw) {
			_, _, _ = a.feed(l)
		}
	}
}

// BenchmarkSCRAMSHA256 is one whole client exchange at RFC 7677's 4096
// iterations: PBKDF2 is nearly all of it.
func BenchmarkSCRAMSHA256(b *testing.B) {
	v := scramVectors[1]
	b.ReportAllocs()
	for b.Loop() {
		m := newSCRAM(v.mech, "user", "pencil", []byte(v.nonce))
		_, _ = m.start()
		_, _ = m.next([]byte(v.serverFirst))
		if _, err := m.next([]byte(v.serverFinal)); err != nil {
			b.Fatal(err)
		}
	}
}

func benchClient(b *testing.B) *Client {
	c, err := New(Config{Addr: "h:1", Nick: "me", Flood: Flood{MaxQueue: 1 << 20}})
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []string{
		":irc.test 005 me CASEMAPPING=rfc1459 PREFIX=(qaohv)~&@%+ CHANMODES=beI,k,l,imnpst :are supported",
		":me!u@h JOIN #chan",
	} {
		m, _ := ircmsg.ParseString(s)
		c.track(m)
	}
	return c
}

// BenchmarkTrackNames is the state update for one RPL_NAMREPLY of 30
// members with multi-prefix and userhost-in-names, in a channel that
// already holds them (the common case of a NAMES refresh).
func BenchmarkTrackNames(b *testing.B) {
	c := benchClient(b)
	var names []string
	for i := range 30 {
		names = append(names, "@+N"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+string(rune('a'+i/26))+"!u@h.ex")
	}
	m, err := ircmsg.ParseString(":irc.test 353 me = #chan :" + strings.Join(names, " "))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.track(m)
	}
}

// BenchmarkTrackPrivmsg is the state step every channel message takes
// (nothing changes, the lookup of the tags and the switch).
func BenchmarkTrackPrivmsg(b *testing.B) {
	c := benchClient(b)
	m, err := ircmsg.ParseString("@time=2026-01-01T00:00:00.000Z;account=acct :nick!user@host PRIVMSG #chan :hello there")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.track(m)
	}
}

// BenchmarkPrivmsgQueue is Privmsg of a 400-byte text: check, split,
// encode and queue.
func BenchmarkPrivmsgQueue(b *testing.B) {
	c := benchClient(b)
	text := strings.Repeat("lorem ipsum ", 33)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if err := c.Privmsg("#chan", text); err != nil {
			b.Fatal(err)
		}
		c.qmu.Lock()
		c.normal = c.normal[:0]
		c.qmu.Unlock()
	}
}
