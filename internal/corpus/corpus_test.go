package corpus_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/ircsock/ircsock/internal/corpus"
	"github.com/ircsock/ircsock/ircmsg"
)

func TestLinesDeterministic(t *testing.T) {
	a, b := corpus.Lines(500, 7), corpus.Lines(500, 7)
	if !slices.EqualFunc(a, b, bytes.Equal) {
		t.Error("Lines(500, 7) differs between two calls")
	}
	if c := corpus.Lines(500, 8); slices.EqualFunc(a, c, bytes.Equal) {
		t.Error("Lines(500, 7) and Lines(500, 8) are identical")
	}
}

// TestLinesMix checks that every line is a valid message within the default
// limits and that each kind of line the doc promises shows up.
func TestLinesMix(t *testing.T) {
	lines := corpus.Lines(5000, 1)
	if len(lines) != 5000 {
		t.Fatalf("len(Lines(5000, 1)) = %d", len(lines))
	}
	seen := map[string]int{}
	var m ircmsg.Message
	for _, l := range lines {
		if bytes.ContainsAny(l, "\r\n\x00") {
			t.Fatalf("line holds CR, LF or NUL: %q", l)
		}
		if err := m.Parse(l); err != nil {
			t.Fatalf("Parse(%q): %v", l, err)
		}
		seen[m.Command]++
		if len(m.Tags) > 0 {
			seen["tagged"]++
		}
		if _, ok := m.Tag("+draft/reply"); ok {
			seen["reply"]++
		}
		if v, _ := m.Tag("example.com/note"); strings.Contains(v, `\`) && strings.Contains(v, ";") {
			seen["escaped"]++
		}
		if len(m.Params) == 15 {
			seen["15 params"]++
		}
		body := l
		if l[0] == '@' {
			body = l[bytes.IndexByte(l, ' ')+1:]
		}
		if len(body) == 510 {
			seen["510"]++
		}
	}
	for _, k := range []string{"PRIVMSG", "NOTICE", "JOIN", "PART", "QUIT", "MODE", "353", "PING", "005", "001", "372",
		"tagged", "reply", "escaped", "15 params", "510"} {
		if seen[k] == 0 {
			t.Errorf("no %s line in 5000 (seen: %v)", k, seen)
		}
	}
	if n := seen["tagged"]; n < 2000 || n > 3000 {
		t.Errorf("%d tagged lines of 5000, want about half", n)
	}
}
