package client_test

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ircsock/ircsock/client"
	"github.com/ircsock/ircsock/ircmsg"
)

// strictFlood fits the strict class (threshold 10, commandrate 10000, no
// fakelag): measured here, a sender pacing 5 a second after a burst of 5
// stays connected, one at 8 a second is killed. 4 a second keeps a margin
// for a loaded machine.
var strictFlood = client.Flood{Burst: 5, Interval: 250 * time.Millisecond}

// floodControl: 100 PRIVMSGs queued at once through the strict class all
// arrive, in order, and the sender is never killed; the same burst with
// flood control off is killed for Excess Flood.
func floodControl(t *testing.T, n *network) {
	const count = 100
	t.Run("paced", func(t *testing.T) {
		t.Parallel()
		recv := newTClient(t, "floodrecv", client.Config{Addr: n.addr(), Nick: "floodrecv"}).start()
		recv.timeout = 2 * time.Minute
		recv.waitEvent(client.EventRegistered)
		send := newTClient(t, "floodsend", client.Config{
			Addr: n.strictAddr(), Nick: "floodsend", Flood: strictFlood,
			Reconnect: client.Reconnect{Disabled: true},
		}).start()
		send.waitEvent(client.EventRegistered)
		for i := range count {
			if err := send.Privmsg("floodrecv", fmt.Sprintf("message %03d", i)); err != nil {
				t.Fatalf("Privmsg %d: %v", i, err)
			}
		}
		var got []string
		recv.wait(fmt.Sprintf("%d messages", count), func(_ []client.Event, msgs []*ircmsg.Message) bool {
			got = got[:0]
			for _, m := range msgs {
				if m.Command == "PRIVMSG" && fromNick(m) == "floodsend" {
					got = append(got, last(m))
				}
			}
			return len(got) >= count
		})
		for i, g := range got {
			if want := fmt.Sprintf("message %03d", i); g != want {
				t.Fatalf("message %d = %q, want %q (order lost)", i, g, want)
			}
		}
		send.mu.Lock()
		for _, ev := range send.events {
			if ev.Kind == client.EventDisconnected {
				t.Errorf("the paced sender was disconnected: %v", ev.Err)
			}
		}
		send.mu.Unlock()
	})
	t.Run("unpaced", func(t *testing.T) {
		t.Parallel()
		// A watcher shares a channel with the sender, so the server's kill
		// is seen as the QUIT it broadcasts. The sender's own Run may end
		// with the server's ERROR or, when the server closed first and the
		// sender was still writing, with the write's broken pipe or reset:
		// which of the two comes first is a race between its reader and
		// its writer, not a property of the flood limit.
		const channel = "#floodfast"
		watch := newTClient(t, "floodwatch", client.Config{Addr: n.addr(), Nick: "floodwatch"}).start()
		watch.timeout = 2 * time.Minute
		watch.waitEvent(client.EventRegistered)
		if err := watch.Join(channel); err != nil {
			t.Fatalf("watcher Join: %v", err)
		}
		watch.waitMsg("the watcher's JOIN", func(m *ircmsg.Message) bool {
			return m.Command == "JOIN" && fromNick(m) == "floodwatch"
		})
		send := newTClient(t, "floodfast", client.Config{
			Addr: n.strictAddr(), Nick: "floodfast", Flood: client.Flood{Disabled: true},
			Reconnect: client.Reconnect{Disabled: true},
		}).start()
		send.waitEvent(client.EventRegistered)
		if err := send.Join(channel); err != nil {
			t.Fatalf("sender Join: %v", err)
		}
		watch.waitMsg("the sender's JOIN", func(m *ircmsg.Message) bool {
			return m.Command == "JOIN" && fromNick(m) == "floodfast"
		})
		for i := range count {
			if err := send.Privmsg("floodfast", fmt.Sprintf("message %03d", i)); err != nil {
				break // the link is gone: the kill came early
			}
		}
		quit := watch.waitMsg("the sender's QUIT", func(m *ircmsg.Message) bool {
			return m.Command == "QUIT" && fromNick(m) == "floodfast"
		})
		if !strings.Contains(last(quit), "Excess Flood") {
			t.Errorf("sender's QUIT = %q, want the server's Excess Flood", last(quit))
		}
		err := send.result()
		var se *client.ServerError
		switch {
		case errors.As(err, &se):
			if !strings.Contains(se.Message, "Excess Flood") {
				t.Errorf("Run = %v, want the server's Excess Flood", err)
			}
		case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET):
			// The server's close reached the writer before its ERROR line
			// reached the reader; the watcher's QUIT above names the cause.
		default:
			t.Errorf("Run = %v, want the server's Excess Flood or the write failure its close causes", err)
		}
	})
}
