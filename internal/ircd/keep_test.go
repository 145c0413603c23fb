package ircd

import (
	"strings"
	"testing"
	"unsafe"
)

// TestCoreKeepsNoInputBytes: what the core stores from a client's lines
// (nick, user, real name, channel, away message) is its own copy, not a
// view of the line. The Backend parses each line in place, so a kept view
// would hold the whole line's block for the client's life, and a line
// block handed back for reuse would change the stored strings under the
// server. The parameters here are views of one buffer, scribbled over
// after the commands ran.
func TestCoreKeepsNoInputBytes(t *testing.T) {
	h := newHarness(t, Config{})
	buf := []byte("alice|alice|Alice Liddell|#wonderland|down the hole")
	view := func(s string) string {
		i := strings.Index(string(buf), s)
		return unsafe.String(&buf[i], len(s))
	}
	h.open(1)
	h.in(1, "NICK", view("alice"))
	h.in(1, "USER", "alice", "0", "*", view("Alice Liddell"))
	h.in(1, "JOIN", view("#wonderland"))
	h.in(1, "AWAY", view("down the hole"))
	h.take(1)
	for i := range buf {
		buf[i] = 'X'
	}
	h.register(2, "bob")
	h.in(2, "WHOIS", "alice")
	got := strings.Join(h.take(2), "\n")
	for _, want := range []string{" alice ", "Alice Liddell", "#wonderland", "down the hole"} {
		if !strings.Contains(got, want) {
			t.Errorf("WHOIS reply lacks %q after the input bytes changed:\n%s", want, got)
		}
	}
	h.in(2, "JOIN", "#wonderland")
	if got := strings.Join(h.take(2), "\n"); !strings.Contains(got, "alice") {
		t.Errorf("joining #wonderland after the input bytes changed: no alice in\n%s", got)
	}
}
