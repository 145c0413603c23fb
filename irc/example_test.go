package irc_test

import (
	"fmt"
	"strings"

	"github.com/ircsock/ircsock/irc"
	"github.com/ircsock/ircsock/ircmsg"
)

// The toolkit in a few lines: a server's ISUPPORT, its case mapping, a
// ban mask, a mode change, formatting and a long message.
func Example() {
	var is irc.ISupport
	_ = is.Add([]string{"CASEMAPPING=rfc1459", "CHANMODES=beI,k,l,imnpst", "PREFIX=(ov)@+"})
	cm, _ := is.Casemap()
	fmt.Println(cm.Fold("Nick[Away]"), cm.Equal("[tag]Bob", "{TAG}bob"))

	fmt.Println(irc.MatchMask("*!*@*.example.net", "Troll!~t@host.EXAMPLE.net", cm))

	changes, _ := is.ChannelModes().Parse([]string{"+ov-k", "alice", "bob", "key"})
	fmt.Println(changes)

	fmt.Println(irc.StripFormatting("\x02bold\x02 and \x0304red\x03"))

	pieces, _ := irc.Splitter{Source: "me!u@host"}.Split("PRIVMSG", "#go", strings.Repeat("word ", 200))
	fmt.Println(len(pieces), "pieces")
	// Output:
	// nick{away} true
	// true
	// [+o alice +v bob -k key]
	// bold and red
	// 3 pieces
}

func ExampleCasemap_Fold() {
	name := "ChanServ"
	for _, cm := range []irc.Casemap{irc.ASCII, irc.RFC1459, irc.StrictRFC1459} {
		fmt.Printf("%-14s %s %s\n", cm, cm.Fold(name), cm.Fold("[a]~"))
	}
	// Output:
	// ascii          chanserv [a]~
	// rfc1459        chanserv {a}^
	// strict-rfc1459 chanserv {a}~
}

func ExampleISupport() {
	m, _ := ircmsg.ParseString(":irc.example.net 005 me CASEMAPPING=ascii PREFIX=(qaohv)~&@%+ CHANMODES=beI,k,l,imnst NETWORK=Example\\x20Net NICKLEN=30 :are supported by this server")
	var is irc.ISupport
	if err := is.AddMessage(m); err != nil {
		fmt.Println(err)
		return
	}
	cm, _ := is.Casemap()
	fmt.Println(cm, is.Prefix().Modes, is.Prefix().Symbols, is.ChanModes().A)
	fmt.Printf("%q %d %d\n", is.Network(), is.NickLen(), is.Modes())
	sym, nick := is.Prefix().Split("@+Alice")
	fmt.Println(sym, nick)
	// Output:
	// ascii qaohv ~&@%+ beI
	// "Example Net" 30 3
	// @+ Alice
}

func ExampleNumericName() {
	name, _ := irc.NumericName("433")
	code, _ := irc.NumericCode("RPL_SASLSUCCESS")
	fmt.Println(name, code, irc.ERR_NICKNAMEINUSE)
	// Output: ERR_NICKNAMEINUSE 903 433
}

func ExampleSplitter() {
	s := irc.Splitter{Source: "gopher!~gopher@example.net"}
	text := strings.Repeat("all work and no play makes a dull gopher ", 20)
	pieces, err := s.Split("PRIVMSG", "#go", text)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range pieces {
		fmt.Println(len(p), strings.HasSuffix(p, " "))
	}
	fmt.Println(strings.Join(pieces, "") == text)
	// Output:
	// 467 true
	// 353 true
	// true
}

func ExampleParseCTCP() {
	c, ok := irc.ParseCTCP("\x01PING 1473523796 918320\x01")
	fmt.Println(c.Command, c.Params, ok)
	reply, _ := irc.CTCPReply("mt", c)
	fmt.Printf("%q\n", reply.String())
	// Output:
	// PING 1473523796 918320 true
	// "NOTICE mt :\x01PING 1473523796 918320\x01"
}

func ExampleMatchMask() {
	ban := irc.NormalizeMask("*.example.net")
	fmt.Println(ban)
	fmt.Println(irc.MatchMask(ban, "Troll!~t@host.EXAMPLE.net", irc.RFC1459))
	fmt.Println(irc.MatchMask("*!*@192.0.2.0/24", "n!u@192.0.2.77", irc.RFC1459))
	fmt.Println(irc.MatchMask("nick[away]!*@*", "NICK{AWAY}!u@h", irc.RFC1459))
	// Output:
	// *!*@*.example.net
	// true
	// true
	// true
}

func ExampleModes_Parse() {
	var is irc.ISupport
	_ = is.Add([]string{"CHANMODES=beI,k,l,imnpst", "PREFIX=(ov)@+", "MODES=4"})
	changes, err := is.ChannelModes().Parse([]string{"+ov-k", "nick1", "nick2", "key"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range changes {
		fmt.Println(c)
	}
	msgs, _ := is.ModePacker("me!u@host").Pack("#go", changes)
	for _, m := range msgs {
		fmt.Println(m)
	}
	// Output:
	// +o nick1
	// +v nick2
	// -k key
	// MODE #go +ov-k nick1 nick2 key
}

func ExampleStripFormatting() {
	text := "\x02IRC\x02 is \x0304,12so\x03 \x1dgreat\x1d"
	fmt.Println(irc.StripFormatting(text))
	for _, sp := range irc.ParseFormatting(text) {
		fmt.Printf("%q bold=%v fg=%v bg=%v\n", sp.Text, sp.Bold, sp.Fg.Hex(), sp.Bg.Hex())
	}
	var b irc.Builder
	b.Color(irc.Red, irc.NoColor).Text("5 apples").Color(irc.Blue, irc.NoColor).Text(",5 pears")
	fmt.Printf("%q\n", b.String())
	// Output:
	// IRC is so great
	// "IRC" bold=true fg= bg=
	// " is " bold=false fg= bg=
	// "so" bold=false fg=#ff0000 bg=#0000fc
	// " " bold=false fg= bg=
	// "great" bold=false fg= bg=
	// "\x03045 apples\x0302\x02\x02,5 pears"
}
