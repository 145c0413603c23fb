package client_test

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ircsock/ircsock/client"
	"github.com/ircsock/ircsock/ircmsg"
)

// TestReconnectAfterServerKilled kills InspIRCd under a logged-in client
// in two channels (one with a key), starts it again, and waits for the
// client to come back, log in again and rejoin both.
func TestReconnectAfterServerKilled(t *testing.T) {
	t.Parallel()
	n := startNetwork(t, false)
	registerAccount(t, n, "reconacct", "reconpass1")
	c := newTClient(t, "recon", client.Config{
		Addr: n.addr(), Nick: "recon",
		SASL: client.SASL{Username: "reconacct", Password: "reconpass1", Mechanisms: []string{"PLAIN"}},
	}).start()
	c.timeout = time.Minute
	c.waitEvent(client.EventLoggedIn)
	if err := c.Join("#recon"); err != nil {
		t.Fatal(err)
	}
	if err := c.JoinKey("#reconkey", "sekrit"); err != nil {
		t.Fatal(err)
	}
	both := func() bool {
		chans := c.Channels()
		return slices.Contains(chans, "#recon") && slices.Contains(chans, "#reconkey")
	}
	c.waitPoll("both channels", both)

	n.ircd.stop(syscall.SIGKILL)
	c.waitEvent(client.EventReconnectWait)
	if len(c.Channels()) != 0 || c.Registered() {
		t.Errorf("after the loss: Channels() = %v, Registered() = %v; want none, false", c.Channels(), c.Registered())
	}
	n.restartIRCd()
	c.wait("a second login and both channels again", func(evs []client.Event, _ []*ircmsg.Message) bool {
		logins := 0
		for _, ev := range evs {
			if ev.Kind == client.EventLoggedIn {
				logins++
			}
		}
		return logins >= 2 && c.Registered() && c.Account() == "reconacct" && both()
	})
	c.mu.Lock()
	var logins, attempts int
	for _, ev := range c.events {
		switch ev.Kind {
		case client.EventLoggedIn:
			logins++
		case client.EventConnecting:
			attempts++
		}
	}
	rejoinedWithKey := strings.Contains(strings.Join(c.trace, "\n"), "-> JOIN #reconkey sekrit")
	c.mu.Unlock()
	if logins < 2 || attempts < 2 {
		t.Errorf("%d logins over %d attempts, want at least 2 of each", logins, attempts)
	}
	if !rejoinedWithKey {
		t.Error("no rejoin of #reconkey with its key in the trace")
	}
}

// TestCapNotifyLateServices connects while Atheme is away, sees CAP NEW
// offer sasl when it links, and logs in then.
func TestCapNotifyLateServices(t *testing.T) {
	t.Parallel()
	n := startNetwork(t, false)
	registerAccount(t, n, "lateacct", "latepass1")
	// SIGTERM makes Atheme write its database before it exits, so the
	// account is still there when it comes back. InspIRCd announces sasl
	// (CAP NEW) only when the services' mechanism list changes, which a
	// relink with the same list does not do, so InspIRCd is restarted
	// too: for the new process the services link for the first time.
	n.services.stop(syscall.SIGTERM)
	n.ircd.stop(syscall.SIGKILL)
	n.startIRCd()
	ctx, cancel := context.WithTimeout(context.Background(), step)
	defer cancel()
	caps, err := n.capLS(ctx, n.ircd.exited)
	if err != nil {
		t.Fatalf("InspIRCd did not come back: %v", err)
	}
	if strings.Contains(caps, "sasl") {
		t.Fatalf("sasl offered without services: %q", caps)
	}

	c := newTClient(t, "late", client.Config{
		Addr: n.addr(), Nick: "late",
		SASL: client.SASL{Username: "lateacct", Password: "latepass1", Mechanisms: []string{"PLAIN"}},
	}).start()
	c.timeout = time.Minute
	c.waitEvent(client.EventRegistered)
	if c.Account() != "" || c.HasCap("sasl") {
		t.Fatalf("before services: Account() = %q, sasl enabled %v", c.Account(), c.HasCap("sasl"))
	}
	n.startServices()
	c.waitMsg("CAP NEW with sasl", func(m *ircmsg.Message) bool {
		return m.Command == "CAP" && len(m.Params) >= 3 && m.Params[1] == "NEW" && strings.Contains(last(m), "sasl")
	})
	ev := c.waitEvent(client.EventLoggedIn)
	if ev.Account != "lateacct" || c.Account() != "lateacct" {
		t.Errorf("logged in as %q (Account() %q), want lateacct", ev.Account, c.Account())
	}
}
