package client_test

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/ircsock/ircsock/client"
	"github.com/ircsock/ircsock/ircmsg"
)

// saslExternal: a client certificate added to the account with NickServ
// CERT ADD logs in by EXTERNAL over TLS; without a certificate EXTERNAL
// fails with 904.
func saslExternal(t *testing.T, n *network) {
	registerAccount(t, n, "certuser", "certpass1")
	cert := clientCert(t)
	tlsCfg := &tls.Config{RootCAs: n.pki.caPool, ServerName: "irc.test", Certificates: []tls.Certificate{cert}}

	adder := newTClient(t, "cert-add", client.Config{
		Addr: n.tlsAddr(), TLS: tlsCfg, Nick: "certadd",
		SASL: client.SASL{Username: "certuser", Password: "certpass1", Mechanisms: []string{"PLAIN"}, Required: true},
	}).start()
	adder.waitEvent(client.EventRegistered)
	if err := adder.Privmsg("NickServ", "CERT ADD"); err != nil {
		t.Fatal(err)
	}
	adder.waitMsg("NickServ's CERT ADD reply", func(m *ircmsg.Message) bool {
		return m.Command == "NOTICE" && fromNick(m) == "NickServ" && strings.Contains(last(m), "Added fingerprint")
	})
	adder.stop()

	t.Run("with certificate", func(t *testing.T) {
		c := newTClient(t, "external", client.Config{
			Addr: n.tlsAddr(), TLS: tlsCfg, Nick: "extuser",
			SASL: client.SASL{Mechanisms: []string{"EXTERNAL"}, Required: true},
		}).start()
		ev := c.waitEvent(client.EventLoggedIn)
		if ev.Mechanism != "EXTERNAL" || ev.Account != "certuser" {
			t.Errorf("logged-in event = %+v, want certuser by EXTERNAL", ev)
		}
		c.waitEvent(client.EventRegistered)
	})
	t.Run("without certificate", func(t *testing.T) {
		c := newTClient(t, "external-nocert", client.Config{
			Addr: n.tlsAddr(), TLS: &tls.Config{RootCAs: n.pki.caPool, ServerName: "irc.test"}, Nick: "extnocert",
			SASL: client.SASL{Mechanisms: []string{"EXTERNAL"}},
		}).start()
		ev := c.waitEvent(client.EventSASLFailed)
		var ne *client.NumericError
		if !errors.As(ev.Err, &ne) || ne.Numeric != "904" {
			t.Errorf("sasl-failed error = %v, want 904", ev.Err)
		}
		c.waitEvent(client.EventRegistered)
		if c.Account() != "" {
			t.Errorf("Account() = %q without a certificate", c.Account())
		}
	})
}

// nickInUse: a taken nick moves to the alternative, then to a generated
// one.
func nickInUse(t *testing.T, n *network) {
	a := newTClient(t, "taken", client.Config{Addr: n.addr(), Nick: "taken"}).start()
	a.waitEvent(client.EventRegistered)
	b := newTClient(t, "alt", client.Config{Addr: n.addr(), Nick: "taken", AltNicks: []string{"taken_"}}).start()
	if ev := b.waitEvent(client.EventRegistered); ev.Nick != "taken_" || b.Nick() != "taken_" {
		t.Errorf("second client registered as %q (Nick() %q), want taken_", ev.Nick, b.Nick())
	}
	c := newTClient(t, "generated", client.Config{Addr: n.addr(), Nick: "taken", AltNicks: []string{"taken_"}}).start()
	ev := c.waitEvent(client.EventRegistered)
	if ev.Nick == "taken" || ev.Nick == "taken_" || !strings.HasPrefix(ev.Nick, "taken") {
		t.Errorf("third client registered as %q, want a generated nick from taken", ev.Nick)
	}
	if !c.hasCommand("433") {
		t.Error("no 433 seen by the third client")
	}
}

// tracking: JOIN, MODE, NICK, PART, KICK and QUIT of one client, with its
// prefixes and account, as a second client's state follows them.
func tracking(t *testing.T, n *network) {
	registerAccount(t, n, "trackacct", "trackpass1")
	obs := newTClient(t, "observer", client.Config{Addr: n.addr(), Nick: "observer"}).start()
	obs.waitEvent(client.EventRegistered)
	if err := obs.Join("#Track[1]"); err != nil {
		t.Fatal(err)
	}
	obs.waitPoll("observer in #track[1]", func() bool { _, ok := obs.Channel("#track{1}"); return ok })

	a := newTClient(t, "tracked", client.Config{
		Addr: n.addr(), Nick: "tracked",
		SASL: client.SASL{Username: "trackacct", Password: "trackpass1", Mechanisms: []string{"PLAIN"}},
	}).start()
	a.waitEvent(client.EventRegistered)
	if err := a.Join("#track[1]"); err != nil {
		t.Fatal(err)
	}
	member := func(nick string) (client.Member, bool) {
		ch, ok := obs.Channel("#TRACK[1]")
		if !ok {
			return client.Member{}, false
		}
		for _, m := range ch.Members {
			if obs.Fold(m.Nick) == obs.Fold(nick) {
				return m, true
			}
		}
		return client.Member{}, false
	}
	obs.waitPoll("tracked's JOIN with its account", func() bool {
		m, ok := member("TRACKED")
		return ok && m.Account == "trackacct" && m.Host != ""
	})
	if m, _ := member("observer"); m.Prefixes != "@" {
		t.Errorf("observer's prefixes = %q, want @ (first in the channel)", m.Prefixes)
	}
	a.waitPoll("tracked sees observer as op", func() bool {
		ch, ok := a.Channel("#track[1]")
		if !ok {
			return false
		}
		for _, m := range ch.Members {
			if m.Nick == "observer" {
				return m.Prefixes == "@"
			}
		}
		return false
	})
	if err := obs.Mode("#track[1]", "+vo", "tracked", "tracked"); err != nil {
		t.Fatal(err)
	}
	obs.waitPoll("tracked's +vo as @+", func() bool { m, _ := member("tracked"); return m.Prefixes == "@+" })
	if err := obs.Mode("#track[1]", "-o", "tracked"); err != nil {
		t.Fatal(err)
	}
	obs.waitPoll("tracked's -o", func() bool { m, _ := member("tracked"); return m.Prefixes == "+" })

	if err := a.SetNick("tracked2"); err != nil {
		t.Fatal(err)
	}
	obs.waitPoll("the NICK change", func() bool {
		_, old := member("tracked")
		m, ok := member("tracked2")
		return !old && ok && m.Prefixes == "+" && m.Account == "trackacct"
	})
	a.waitPoll("own nick", func() bool { return a.Nick() == "tracked2" })

	if err := a.Part("#track[1]", "bye"); err != nil {
		t.Fatal(err)
	}
	obs.waitPoll("the PART", func() bool { _, ok := member("tracked2"); return !ok })
	a.waitPoll("own PART", func() bool { _, ok := a.Channel("#track[1]"); return !ok })

	if err := a.Join("#track[1]"); err != nil {
		t.Fatal(err)
	}
	obs.waitPoll("the rejoin", func() bool { _, ok := member("tracked2"); return ok })
	if err := obs.Kick("#track[1]", "tracked2", "out"); err != nil {
		t.Fatal(err)
	}
	obs.waitPoll("the KICK", func() bool { _, ok := member("tracked2"); return !ok })
	a.waitPoll("own KICK", func() bool { _, ok := a.Channel("#track[1]"); return !ok })

	if err := a.Join("#track[1]"); err != nil {
		t.Fatal(err)
	}
	obs.waitPoll("the second rejoin", func() bool { _, ok := member("tracked2"); return ok })
	if _, ok := obs.User("tracked2"); !ok {
		t.Error("User(tracked2) unknown while in a shared channel")
	}
	if err := a.Quit("leaving"); err != nil {
		t.Fatal(err)
	}
	if err := a.result(); err != nil {
		t.Errorf("Run after Quit = %v, want nil", err)
	}
	obs.waitPoll("the QUIT", func() bool { _, ok := member("tracked2"); return !ok })
	if _, ok := obs.User("tracked2"); ok {
		t.Error("User(tracked2) still known after its QUIT")
	}
}

// longMessage: a 5,000-byte text is split by the sender and joins back
// byte for byte at the receiver.
func longMessage(t *testing.T, n *network) {
	recv := newTClient(t, "longrecv", client.Config{Addr: n.addr(), Nick: "longrecv"}).start()
	recv.waitEvent(client.EventRegistered)
	send := newTClient(t, "longsend", client.Config{Addr: n.addr(), Nick: "longsend"}).start()
	send.waitEvent(client.EventRegistered)

	var b strings.Builder
	words := []string{"ascii", "ünïcödé", "日本語テキスト", "\x0304,12colour\x03", "\x02bold\x02", "x"}
	for i := 0; b.Len() < 5000; i++ {
		w := words[i%len(words)]
		if b.Len()+len(w)+1 > 5000 {
			b.WriteString(strings.Repeat("z", 5000-b.Len()))
			break
		}
		b.WriteString(w)
		b.WriteByte(' ')
	}
	text := b.String()
	if len(text) != 5000 {
		t.Fatalf("built %d bytes", len(text))
	}
	if err := send.Privmsg("longrecv", text); err != nil {
		t.Fatal(err)
	}
	var got string
	recv.wait("the whole text", func(_ []client.Event, msgs []*ircmsg.Message) bool {
		var sb strings.Builder
		parts := 0
		for _, m := range msgs {
			if m.Command == "PRIVMSG" && fromNick(m) == "longsend" {
				sb.WriteString(last(m))
				parts++
			}
		}
		got = sb.String()
		return len(got) >= len(text) && parts > 1
	})
	if got != text {
		t.Errorf("reassembled text differs: got %d bytes, want %d", len(got), len(text))
	}
}
