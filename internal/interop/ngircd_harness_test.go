package interop

import (
	"context"
	"testing"
	"time"
)

// TestNgircdHarness checks the harness itself against ngircd alone: two
// observers, one plain and one over ngircd's TLS port trusting only the
// test CA, register, join and exchange messages. When a Backend test fails
// while this one passes, the fault is on the ircsock side.
func TestNgircdHarness(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := startNgircd(ctx, t, ngircdOpts{})

	a := dialRaw(t, "alice", hostPort(n.Port), nil)
	a.register(ctx, t, "alice")
	b := dialRaw(t, "bob", hostPort(n.SSLPort), n.PKI.ClientTLS())
	b.register(ctx, t, "bob")

	a.send("JOIN #test")
	a.expect(ctx, t, "alice's JOIN echo", isCommand("JOIN"))
	b.send("JOIN #test")
	a.expect(ctx, t, "bob's JOIN", func(l rawLine) bool { return l.Command == "JOIN" && l.Nick() == "bob" })

	cases := []struct {
		name     string
		from, to *rawClient
		fromNick string
		target   string
	}{
		{"channel plain to TLS", a, b, "alice", "#test"},
		{"channel TLS to plain", b, a, "bob", "#test"},
		{"private plain to TLS", a, b, "alice", "bob"},
		{"private TLS to plain", b, a, "bob", "alice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := "hello via " + tc.name
			tc.from.send("PRIVMSG %s :%s", tc.target, text)
			tc.to.expect(ctx, t, "PRIVMSG "+text, isMsg(tc.fromNick, tc.target, text))
		})
	}
}
