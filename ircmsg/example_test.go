package ircmsg_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ircsock/ircsock/ircmsg"
)

func ExampleParse() {
	m, err := ircmsg.Parse([]byte(`@time=2024-01-02T03:04:05.678Z;+example.com/note=hi\sthere :nick!user@host privmsg #chan :Hello, world`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range m.Tags {
		fmt.Printf("tag %s = %q\n", t.Key, t.Value)
	}
	fmt.Println(m.Source)
	fmt.Println(m.Command)
	fmt.Printf("%q\n", m.Params)

	_, err = ircmsg.Parse([]byte("@a=b :only.a.source"))
	fmt.Println(errors.Is(err, ircmsg.ErrNoCommand), err)
	// Output:
	// tag time = "2024-01-02T03:04:05.678Z"
	// tag +example.com/note = "hi there"
	// nick!user@host
	// PRIVMSG
	// ["#chan" "Hello, world"]
	// true ircmsg: no command at offset 19 of "@a=b :only.a.source"
}

func ExampleFormat_Append() {
	m := &ircmsg.Message{
		Tags:    []ircmsg.Tag{{Key: "msgid", Value: "abc"}, {Key: "+draft/reply", Value: "x;y"}},
		Source:  "irc.example.net",
		Command: "NOTICE",
		Params:  []string{"nick", "hello"},
	}
	buf := make([]byte, 0, 512)
	buf, _ = ircmsg.Format{}.Append(buf, m)
	fmt.Println(string(buf))

	buf, _ = ircmsg.Format{Colonify: true}.Append(buf[:0], m)
	fmt.Println(string(buf))

	m.Params[1] = "hi\r\nQUIT"
	_, err := ircmsg.Format{}.Append(buf[:0], m)
	fmt.Println(err)
	// Output:
	// @msgid=abc;+draft/reply=x\:y :irc.example.net NOTICE nick hello
	// @msgid=abc;+draft/reply=x\:y :irc.example.net NOTICE nick :hello
	// ircmsg: CR, LF or NUL byte (param 1)
}

func ExampleSplitSource() {
	nick, user, host := ircmsg.SplitSource("alice!~al@example.org")
	fmt.Println(nick, user, host)
	nick, user, host = ircmsg.SplitSource("irc.example.net")
	fmt.Printf("%q %q %q\n", nick, user, host)
	// Output:
	// alice ~al example.org
	// "irc.example.net" "" ""
}

func ExampleMessage_SetTag() {
	m, _ := ircmsg.ParseString("@account=alice;msgid=1 PRIVMSG #c :hi")
	m.SetTag("msgid", "2")      // keeps its place
	m.SetTag("+typing", "done") // added at the end
	m.DeleteTag("account")
	v, ok := m.Tag("msgid")
	fmt.Println(v, ok)
	fmt.Println(m)
	// Output:
	// 2 true
	// @msgid=2;+typing=done PRIVMSG #c hi
}

func ExampleLimits_ParseInto() {
	// A stream decoder reuses one Message: one allocation per line.
	lim := ircmsg.Limits{BodyBytes: 64}
	var m ircmsg.Message
	for _, line := range []string{
		"PING :irc.example.net",
		"PRIVMSG #c :" + strings.Repeat("spam ", 20),
		":n!u@h JOIN #c",
	} {
		if err := lim.ParseInto(&m, []byte(line)); err != nil {
			fmt.Println(errors.Is(err, ircmsg.ErrBodyTooLong), err.(*ircmsg.ParseError).Offset)
			continue
		}
		fmt.Println(m.Command, m.Params)
	}
	// Output:
	// PING [irc.example.net]
	// true 62
	// JOIN [#c]
}

func ExampleFormat_Truncate() {
	f := ircmsg.Format{Limits: ircmsg.Limits{BodyBytes: 32}}
	m := &ircmsg.Message{Command: "PRIVMSG", Params: []string{"#c", "a rather long message that will not fit"}}
	_, err := f.Append(nil, m)
	fmt.Println(err)
	if err := f.Truncate(m); err != nil {
		fmt.Println(err)
		return
	}
	out, _ := f.Append(nil, m)
	fmt.Printf("%q %d\n", out, len(out))
	// Output:
	// ircmsg: message too long (message)
	// "PRIVMSG #c :a rather long mess" 30
}

// A Parser decodes lines out of a buffer that is reused for every read,
// with no allocation per line. The Message's strings live in the Parser's
// buffer until the next Parse: DeepClone keeps one past that.
func ExampleParser() {
	var p ircmsg.Parser
	var m ircmsg.Message
	var kept []*ircmsg.Message
	readBuf := make([]byte, 0, 512)
	for _, wire := range []string{
		`@msgid=1 :alice!a@host privmsg #chan :hi`,
		`@msgid=2;+note=a\sb :bob!b@host PRIVMSG #chan :hello`,
	} {
		readBuf = append(readBuf[:0], wire...) // the same memory each time
		if err := p.Parse(&m, readBuf); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(m.Source, m.Command, m.Params)
		kept = append(kept, m.DeepClone())
	}
	fmt.Println(kept[0].Source, kept[0].Tags[0].Value, "|", kept[1].Source, kept[1].Tags[1].Value)
	// Output:
	// alice!a@host PRIVMSG [#chan hi]
	// bob!b@host PRIVMSG [#chan hello]
	// alice!a@host 1 | bob!b@host a b
}
