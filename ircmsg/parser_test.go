package ircmsg_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ircsock/ircsock/ircmsg"
)

// TestParserReuse checks the Parser's contract line by line through the
// test table: the caller's line is never written (its escapes and
// lowercase command are rewritten in the Parser's copy), the next parse
// overwrites the Message's strings as documented, and a DeepClone taken
// before it does not change.
func TestParserReuse(t *testing.T) {
	var p ircmsg.Parser
	var m ircmsg.Message
	var kept []*ircmsg.Message
	var wants []*ircmsg.Message
	lines := []string{
		`@a=x\sy\:z;+b=\\ :n!u@h privmsg #c :hello there`,
		`@a=1 :other!u@h notice #d :same length here!`,
		"ping :x",
	}
	for _, tc := range parseCases {
		lines = append(lines, tc.in)
	}
	for _, line := range lines {
		in := []byte(line)
		if err := p.Parse(&m, in); err != nil {
			t.Fatalf("Parser.Parse(%q) error: %v", line, err)
		}
		if string(in) != line {
			t.Fatalf("Parser.Parse wrote into its line: %q became %q", line, in)
		}
		want, err := ircmsg.ParseString(line)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, &m, msgOpts); d != "" {
			t.Fatalf("Parser.Parse(%q) mismatch (-ParseString +Parser):\n%s", line, d)
		}
		kept = append(kept, m.DeepClone())
		wants = append(wants, want)
	}
	for i := range kept {
		if d := cmp.Diff(wants[i], kept[i], msgOpts); d != "" {
			t.Errorf("DeepClone of %q changed by later parses (-want +got):\n%s", lines[i], d)
		}
	}

	// The documented price: a string of the Message is overwritten by
	// the next parse, because the buffer is reused.
	if err := p.Parse(&m, []byte("PRIVMSG #c :aaaa")); err != nil {
		t.Fatal(err)
	}
	text := m.Params[1]
	if err := p.Parse(&m, []byte("PRIVMSG #c :bbbb")); err != nil {
		t.Fatal(err)
	}
	if text != "bbbb" {
		t.Errorf("a string kept past the next Parse reads %q; the buffer is meant to be reused (want %q)", text, "bbbb")
	}
}

// TestDeepClone checks that DeepClone copies everything, nil slices stay
// nil, and the clone shares no memory with the original.
func TestDeepClone(t *testing.T) {
	src := []byte("@a=1;b :n!u@h PRIVMSG #c :hi")
	var p ircmsg.Parser
	var m ircmsg.Message
	if err := p.Parse(&m, src); err != nil {
		t.Fatal(err)
	}
	c := m.DeepClone()
	if d := cmp.Diff(&m, c); d != "" {
		t.Fatalf("DeepClone mismatch (-orig +clone):\n%s", d)
	}
	if &c.Tags[0] == &m.Tags[0] || &c.Params[0] == &m.Params[0] {
		t.Error("DeepClone shares a slice with the original")
	}
	if err := p.Parse(&m, []byte("@x=9;y :zz!z@z NOTICE #d :yo")); err != nil {
		t.Fatal(err)
	}
	want := &ircmsg.Message{Tags: []ircmsg.Tag{{Key: "a", Value: "1"}, {Key: "b"}}, Source: "n!u@h", Command: "PRIVMSG", Params: []string{"#c", "hi"}}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("clone changed with the Parser's buffer (-want +got):\n%s", d)
	}
	empty := (&ircmsg.Message{Command: "X"}).DeepClone()
	if empty.Tags != nil || empty.Params != nil || empty.Command != "X" {
		t.Errorf("DeepClone of a bare message = %#v", empty)
	}
}
