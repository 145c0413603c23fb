package client_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ircsock/ircsock/client"
	"github.com/ircsock/ircsock/ircmsg"
)

// ircv3Features: echo-message, server-time, labeled-response with its
// batch, away-notify, setname and the automatic CTCP replies, between two
// clients in one channel.
func ircv3Features(t *testing.T, n *network) {
	var (
		bmu     sync.Mutex
		batches []*client.Batch
	)
	a := newTClient(t, "v3a", client.Config{Addr: n.addr(), Nick: "v3a", RealName: "Old Name",
		Caps: []string{"echo-message", "labeled-response"}}).start()
	a.HandleBatch("labeled-response", func(_ *client.Client, b *client.Batch) {
		bmu.Lock()
		batches = append(batches, b)
		bmu.Unlock()
	})
	b := newTClient(t, "v3b", client.Config{Addr: n.addr(), Nick: "v3b"}).start()
	quiet := newTClient(t, "v3quiet", client.Config{Addr: n.addr(), Nick: "v3quiet", CTCP: client.CTCP{NoVersion: true}}).start()
	// v3a joins first, so it is the channel operator (for TOPIC below).
	for _, c := range []*tclient{a, b, quiet} {
		c.waitEvent(client.EventRegistered)
		if err := c.Join("#v3"); err != nil {
			t.Fatal(err)
		}
		c.waitPoll("own JOIN of #v3", func() bool { _, ok := c.Channel("#v3"); return ok })
	}
	b.waitPoll("all three in #v3", func() bool {
		ch, ok := b.Channel("#v3")
		return ok && len(ch.Members) == 3
	})

	// echo-message and server-time.
	if err := a.Privmsg("#v3", "hello"); err != nil {
		t.Fatal(err)
	}
	echo := a.waitMsg("the echo of our own PRIVMSG", func(m *ircmsg.Message) bool {
		return m.Command == "PRIVMSG" && fromNick(m) == "v3a" && last(m) == "hello"
	})
	if ts, ok := client.ServerTime(echo); !ok || time.Since(ts) > time.Minute || time.Since(ts) < -time.Minute {
		t.Errorf("ServerTime(echo) = %v, %v; want about now", ts, ok)
	}

	// labeled-response: a WHOIS answered in one labeled batch.
	ctx, cancel := context.WithTimeout(context.Background(), step)
	defer cancel()
	resp, err := a.Request(ctx, &ircmsg.Message{Command: "WHOIS", Params: []string{"v3b"}})
	if err != nil {
		t.Fatalf("Request(WHOIS): %v", err)
	}
	var cmds []string
	for _, m := range resp {
		cmds = append(cmds, m.Command)
	}
	if !slices.Contains(cmds, "311") || !slices.Contains(cmds, "318") {
		t.Errorf("labeled WHOIS response %v, want 311 ... 318", cmds)
	}
	bmu.Lock()
	if len(batches) == 0 || batches[0].Type != "labeled-response" {
		t.Errorf("HandleBatch saw %d labeled-response batches, want 1", len(batches))
	}
	bmu.Unlock()

	// away-notify and setname, seen by b.
	if err := a.SendRaw("AWAY :gone fishing"); err != nil {
		t.Fatal(err)
	}
	b.waitPoll("v3a away", func() bool { u, _ := b.User("v3a"); return u.Away && u.AwayMsg == "gone fishing" })
	if err := a.SendRaw("AWAY"); err != nil {
		t.Fatal(err)
	}
	b.waitPoll("v3a back", func() bool { u, _ := b.User("v3a"); return !u.Away })
	if err := a.SendRaw("SETNAME :New Name"); err != nil {
		t.Fatal(err)
	}
	b.waitPoll("v3a's new real name", func() bool { u, _ := b.User("v3a"); return u.RealName == "New Name" })

	// TOPIC, as the others see it.
	if err := a.Topic("#v3", "a topic: with spaces"); err != nil {
		t.Fatal(err)
	}
	b.waitPoll("the new topic", func() bool {
		ch, _ := b.Channel("#v3")
		return ch.Topic == "a topic: with spaces" && strings.HasPrefix(ch.TopicSetBy, "v3a!") && !ch.TopicSetAt.IsZero()
	})

	// CTCP: automatic replies, and one turned off.
	ctcpReply := func(from, cmd string) func(m *ircmsg.Message) bool {
		return func(m *ircmsg.Message) bool {
			return m.Command == "NOTICE" && fromNick(m) == from && strings.HasPrefix(last(m), "\x01"+cmd)
		}
	}
	for _, q := range []string{"\x01VERSION\x01", "\x01PING 12345\x01", "\x01TIME\x01", "\x01CLIENTINFO\x01"} {
		if err := b.Privmsg("v3a", q); err != nil {
			t.Fatal(err)
		}
	}
	if m := b.waitMsg("VERSION reply", ctcpReply("v3a", "VERSION")); last(m) != "\x01VERSION "+client.DefaultVersion+"\x01" {
		t.Errorf("VERSION reply %q", last(m))
	}
	if m := b.waitMsg("PING reply", ctcpReply("v3a", "PING")); last(m) != "\x01PING 12345\x01" {
		t.Errorf("PING reply %q", last(m))
	}
	b.waitMsg("TIME reply", ctcpReply("v3a", "TIME"))
	if m := b.waitMsg("CLIENTINFO reply", ctcpReply("v3a", "CLIENTINFO")); !strings.Contains(last(m), "VERSION") {
		t.Errorf("CLIENTINFO reply %q", last(m))
	}
	// Replies come in order: the PING reply after no VERSION reply means
	// none was sent.
	for _, q := range []string{"\x01VERSION\x01", "\x01PING 777\x01"} {
		if err := b.Privmsg("v3quiet", q); err != nil {
			t.Fatal(err)
		}
	}
	b.waitMsg("v3quiet's PING reply", func(m *ircmsg.Message) bool {
		return ctcpReply("v3quiet", "PING")(m) && strings.Contains(last(m), "777")
	})
	if b.hasMatch(ctcpReply("v3quiet", "VERSION")) {
		t.Error("v3quiet answered VERSION although CTCP.NoVersion is set")
	}
}
