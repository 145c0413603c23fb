package client_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/ircsock/ircsock/client"
	"github.com/ircsock/ircsock/ircmsg"
)

// saslPlain: right password (900, 903, WHOIS 330), wrong password (904
// reported), wrong password with SASL required (no registration).
func saslPlain(t *testing.T, n *network) {
	registerAccount(t, n, "plainuser", "plainpass1")

	t.Run("right password", func(t *testing.T) {
		c := newTClient(t, "plain-ok", client.Config{
			Addr: n.addr(), Nick: "plainok",
			SASL: client.SASL{Username: "plainuser", Password: "plainpass1", Mechanisms: []string{"PLAIN"}},
		}).start()
		ev := c.waitEvent(client.EventLoggedIn)
		if ev.Account != "plainuser" || ev.Mechanism != "PLAIN" {
			t.Errorf("logged-in event = %+v, want account plainuser by PLAIN", ev)
		}
		c.waitMsg("900", isCmd("900"))
		c.waitMsg("903", isCmd("903"))
		c.waitEvent(client.EventRegistered)
		if got := c.Account(); got != "plainuser" {
			t.Errorf("Account() = %q, want plainuser", got)
		}
		if err := c.Send(&ircmsg.Message{Command: "WHOIS", Params: []string{"plainok"}}); err != nil {
			t.Fatal(err)
		}
		m := c.waitMsg("WHOIS 330", isCmd("330"))
		if m.Params[2] != "plainuser" {
			t.Errorf("330 = %v, want account plainuser", m.Params)
		}
		tr := c.traceText()
		for _, secret := range []string{"plainpass1", base64.StdEncoding.EncodeToString([]byte("\x00plainuser\x00plainpass1"))} {
			if strings.Contains(tr, secret) {
				t.Errorf("the trace holds the password (%q)", secret)
			}
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		c := newTClient(t, "plain-bad", client.Config{
			Addr: n.addr(), Nick: "plainbad",
			SASL: client.SASL{Username: "plainuser", Password: "wrong", Mechanisms: []string{"PLAIN"}},
		}).start()
		ev := c.waitEvent(client.EventSASLFailed)
		var ne *client.NumericError
		if !errors.As(ev.Err, &ne) || ne.Numeric != "904" || !errors.Is(ev.Err, client.ErrSASLFailed) {
			t.Errorf("sasl-failed error = %v, want a 904 NumericError wrapping ErrSASLFailed", ev.Err)
		}
		c.waitEvent(client.EventRegistered) // not required: registration goes on
		if c.Account() != "" {
			t.Errorf("Account() = %q after a failed login", c.Account())
		}
	})

	t.Run("wrong password, SASL required", func(t *testing.T) {
		c := newTClient(t, "plain-req", client.Config{
			Addr: n.addr(), Nick: "plainreq",
			SASL: client.SASL{Username: "plainuser", Password: "wrong", Mechanisms: []string{"PLAIN"}, Required: true},
		}).start()
		err := c.result()
		if !errors.Is(err, client.ErrSASLFailed) {
			t.Errorf("Run = %v, want ErrSASLFailed", err)
		}
		if c.hasCommand("001") {
			t.Error("the client registered (001) although SASL was required and failed")
		}
	})
}
