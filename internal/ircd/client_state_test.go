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

// TestJoinZeroLeavesEveryChannel: RFC 2812 3.2.1's JOIN 0 parts every
// channel the client is in, each PART seen by that channel's members,
// and an emptied channel is gone.
func TestJoinZeroLeavesEveryChannel(t *testing.T) {
	h := newHarness(t, Config{})
	h.register(1, "alice")
	h.register(2, "bob")
	h.in(1, "JOIN", "#a,#B,#c")
	h.in(2, "JOIN", "#b")
	h.take(1)
	h.take(2)
	h.in(1, "JOIN", "0")
	got := commandsOf(h.take(1))
	expect(t, "alice's lines after JOIN 0", got, []string{"PART", "PART", "PART"})
	if bob := strings.Join(h.take(2), "\n"); !strings.Contains(bob, "PART :#B") {
		t.Errorf("bob saw %q, want alice's PART of #B", bob)
	}
	if n := len(h.s.clients[1].channels); n != 0 {
		t.Errorf("alice still in %d channels", n)
	}
	for _, name := range []string{"#a", "#c"} {
		if _, ok := h.s.chans[name]; ok {
			t.Errorf("%s kept after its last member left", name)
		}
	}
	if _, ok := h.s.chans["#b"]; !ok {
		t.Error("#b dropped while bob is in it")
	}
	h.in(1, "JOIN", "#b")
	if got := strings.Join(h.take(1), "\n"); !strings.Contains(got, "JOIN") {
		t.Errorf("rejoining #b: %q", got)
	}
}
