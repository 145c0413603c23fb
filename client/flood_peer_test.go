package client_test

import (
	"errors"
	"fmt"
	"strings"
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
		send := newTClient(t, "floodfast", client.Config{
			Addr: n.strictAddr(), Nick: "floodfast", Flood: client.Flood{Disabled: true},
			Reconnect: client.Reconnect{Disabled: true},
		}).start()
		send.waitEvent(client.EventRegistered)
		for i := range count {
			if err := send.Privmsg("floodfast", fmt.Sprintf("message %03d", i)); err != nil {
				break // the link is gone: the kill came early
			}
		}
		err := send.result()
		var se *client.ServerError
		if !errors.As(err, &se) || !strings.Contains(se.Message, "Excess Flood") {
			t.Errorf("Run = %v, want the server's Excess Flood", err)
		}
	})
}
