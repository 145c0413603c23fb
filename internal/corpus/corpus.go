// Package corpus generates realistic IRC lines for benchmarks and fuzz
// seeds, so that every package measures against the same traffic.
//
// [Lines] returns lines without CR LF. The mix, chosen to resemble what a
// busy client or server link carries (and the mix the Perl original was
// once measured with, see BENCHMARKS.md):
//
//   - 55% PRIVMSG from a nick!user@host source to a channel or a nick, with
//     3 to 30 words of text (some with ':' or a CTCP ACTION);
//   - 8% NOTICE from a server or a user; 6% JOIN; 4% PART with a reason;
//     3% QUIT; 5% MODE with 1 to 3 mode parameters;
//   - 4% 353 (NAMES) with 10 to 40 prefixed nicks; 5% PING;
//   - 4% 005 (ISUPPORT) with 15 parameters, the RFC 1459 maximum;
//   - 3% PRIVMSG padded to exactly 510 bytes, the longest body allowed;
//   - 3% other numerics (001, 372) with a trailing parameter.
//
// Half of the lines, drawn independently, carry IRCv3 tags:
// "@time=...;msgid=...;account=..." (server tags), of which 20% also carry
// "+draft/reply=<msgid>" (a client-only tag) and 10% an escaped vendor tag
// "example.com/note=" whose value holds "\s", "\:" and "\\".
//
// The same n and seed always give the same lines.
package corpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

var (
	nicks = []string{"alice", "bob", "carol", "dave", "eve", "mallory", "trent", "peggy",
		"victor", "walter", "Zed`", "[away]ann", "sybil_", "oscar|w", "nick123", "q"}
	hosts = []string{"host-1.example.net", "198.51.100.7", "2001:db8::17", "user/alice",
		"gateway/web/irccloud.com/x-abcdefgh", "c-73-1-2-3.hsd1.example.com"}
	chans = []string{"#go-nuts", "#irc", "##chat", "#a", "#ircsock-dev", "&local"}
	words = strings.Fields(`the quick brown fox jumps over lazy dog hello world is anyone
		around today I think that should work fine :) lol ok see https://example.com/x?y=1
		yes no maybe tomorrow build passed failed again ping pong server client line 42
		über café naïve 日本語 emoji 🎉 test`)
	servers = []string{"irc.example.net", "hub.example.org", "leaf1.example.net"}
)

// Lines returns n lines, without CR LF, drawn from the mix in the package
// doc with the given seed.
func Lines(n int, seed int64) [][]byte {
	g := &gen{r: rand.New(rand.NewPCG(uint64(seed), 0x1dc50c))}
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(g.line())
	}
	return out
}

type gen struct {
	r   *rand.Rand
	seq int
}

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *gen) source() string {
	return g.pick(nicks) + "!~" + strings.ToLower(strings.Trim(g.pick(nicks), "[]`|_")) + "@" + g.pick(hosts)
}

func (g *gen) text(min, max int) string {
	n := min + g.r.IntN(max-min+1)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.pick(words)
	}
	return strings.Join(ws, " ")
}

func (g *gen) msgid() string {
	g.seq++
	return fmt.Sprintf("%08x%04x", g.r.Uint32(), g.seq&0xffff)
}

func (g *gen) tags() string {
	var b strings.Builder
	fmt.Fprintf(&b, "@time=2024-%02d-%02dT%02d:%02d:%02d.%03dZ;msgid=%s;account=%s",
		1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), g.r.IntN(1000),
		g.msgid(), strings.Trim(g.pick(nicks), "[]`|"))
	if g.r.IntN(5) == 0 {
		b.WriteString(";+draft/reply=" + g.msgid())
	}
	if g.r.IntN(10) == 0 {
		b.WriteString(`;example.com/note=see\sthe\sdocs\:\sC:\\path\\file`)
	}
	b.WriteByte(' ')
	return b.String()
}

func (g *gen) line() string {
	var body string
	switch p := g.r.IntN(100); {
	case p < 55:
		target := g.pick(chans)
		if g.r.IntN(5) == 0 {
			target = g.pick(nicks)
		}
		text := g.text(3, 30)
		if g.r.IntN(20) == 0 {
			text = "\x01ACTION " + text + "\x01"
		}
		body = ":" + g.source() + " PRIVMSG " + target + " :" + text
	case p < 63:
		if g.r.IntN(2) == 0 {
			body = ":" + g.pick(servers) + " NOTICE " + g.pick(nicks) + " :*** " + g.text(4, 12)
		} else {
			body = ":" + g.source() + " NOTICE " + g.pick(chans) + " :" + g.text(2, 15)
		}
	case p < 69:
		body = ":" + g.source() + " JOIN " + g.pick(chans)
	case p < 73:
		body = ":" + g.source() + " PART " + g.pick(chans) + " :" + g.text(1, 6)
	case p < 76:
		body = ":" + g.source() + " QUIT :Quit: " + g.text(1, 5)
	case p < 81:
		modes := []string{"+o", "+ov", "-v+b", "+k", "+l"}[g.r.IntN(5)]
		body = ":" + g.pick(nicks) + "!op@" + g.pick(hosts) + " MODE " + g.pick(chans) + " " + modes
		for i := 0; i < 1+g.r.IntN(3); i++ {
			body += " " + g.pick(nicks)
		}
	case p < 85:
		var b strings.Builder
		b.WriteString(":" + g.pick(servers) + " 353 " + g.pick(nicks) + " = " + g.pick(chans) + " :")
		for i := 0; i < 10+g.r.IntN(31); i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString([]string{"", "", "@", "+", "%"}[g.r.IntN(5)] + g.pick(nicks))
		}
		body = b.String()
	case p < 90:
		if g.r.IntN(2) == 0 {
			body = "PING :" + g.pick(servers)
		} else {
			body = "PING " + fmt.Sprint(g.r.Uint32())
		}
	case p < 94:
		// 15 parameters: the nick, 13 tokens and the trailing text.
		body = ":" + g.pick(servers) + " 005 " + g.pick(nicks) +
			" AWAYLEN=200 CASEMAPPING=rfc1459 CHANLIMIT=#:25 CHANMODES=beI,k,l,imnpstCMRS" +
			" CHANNELLEN=50 CHANTYPES=#& ELIST=CTU EXCEPTS=e INVEX=I KICKLEN=255 MODES=4" +
			" NETWORK=ExampleNet PREFIX=(ohv)@%+ :are supported by this server"
	case p < 97:
		body = ":" + g.source() + " PRIVMSG " + g.pick(chans) + " :"
		text := g.text(90, 120)
		for len(body)+len(text) < 510 {
			text += " " + g.text(10, 20)
		}
		body += text[:510-len(body)]
	default:
		if g.r.IntN(2) == 0 {
			body = ":" + g.pick(servers) + " 001 " + g.pick(nicks) + " :Welcome to the ExampleNet IRC Network " + g.source()
		} else {
			body = ":" + g.pick(servers) + " 372 " + g.pick(nicks) + " :- " + g.text(5, 12)
		}
	}
	if g.r.IntN(2) == 0 {
		return g.tags() + body
	}
	return body
}
