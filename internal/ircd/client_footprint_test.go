package ircd

import (
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"go.uber.org/goleak"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// discard is a transport that keeps nothing, so that a heap measurement
// counts the core's own state and nothing the test holds.
type discard struct{}

func (discard) Send(*ircmsg.Message, ...ircsock.ConnID) error { return nil }
func (discard) Disconnect(ircsock.ConnID, string) error       { return nil }

// liveHeap is the heap still reachable after full collections.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestIdleClientFootprint bounds what the core keeps for each idle
// registered client, measured as `ircsock bench` loads serve: 2,000
// clients from one address, ten to a channel. On amd64 the core kept
// about 570 bytes a client before its client, channel and membership
// records were trimmed and about 315 after (the same under -race); the
// bound leaves room for map growth to land differently, and catches a
// regression of some 50 bytes a client or more.
func TestIdleClientFootprint(t *testing.T) {
	const clients, perChannel = 2000, 10
	const limit = 370 // bytes a client
	peer := netip.MustParseAddr("127.0.0.1")
	// An earlier test's server still closing would allocate during the
	// measurement: wait (bounded) until its goroutines are gone.
	goleak.VerifyNone(t)
	s := newCore(Config{}, discard{}, t0)
	before := liveHeap()
	for i := range clients {
		// The lines are made here, garbage by the end: the core keeps
		// its own copies of what it stores.
		id := ircsock.ConnID(i + 1)
		nick := fmt.Sprintf("b%d", i)
		s.open(id, peer, false, t0)
		s.input(id, &ircmsg.Message{Command: "NICK", Params: []string{nick}}, t0)
		s.input(id, &ircmsg.Message{Command: "USER", Params: []string{nick, "0", "*", "bench client"}}, t0)
		s.input(id, &ircmsg.Message{Command: "JOIN", Params: []string{fmt.Sprintf("#bench%d", i/perChannel)}}, t0)
	}
	after := liveHeap()
	runtime.KeepAlive(s)
	if n := len(s.clients); n != clients {
		t.Fatalf("%d clients in the core, want %d", n, clients)
	}
	for _, c := range s.clients {
		if !c.registered || len(c.channels) != 1 {
			t.Fatalf("client %s: registered %v, in %d channels; want registered, in 1", c.nick, c.registered, len(c.channels))
		}
	}
	per := float64(after-before) / clients
	t.Logf("live heap per idle registered client: %.0f bytes", per)
	if per > limit {
		t.Errorf("the core keeps %.0f bytes per idle registered client, over the bound of %d", per, limit)
	}
}

// TestClientRecordSize: the record every client has stays in the
// 128-byte size class; what few clients use belongs in clientExtra.
func TestClientRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(client{}); n > 128 {
		t.Errorf("client is %d bytes, over 128: move rarely set fields to clientExtra", n)
	}
}

// TestClientExtraLetGo: a client's extra state goes once nothing in it
// is set, so that a client that once was away, monitored a nick or gave
// PASS does not keep it for good.
func TestClientExtraLetGo(t *testing.T) {
	h := newHarness(t, Config{Password: "sesame"})
	h.open(1)
	h.in(1, "PASS", "sesame")
	if h.s.clients[1].extra == nil {
		t.Fatal("PASS kept nowhere")
	}
	h.in(1, "NICK", "alice")
	h.in(1, "USER", "alice", "0", "*", "Alice")
	c := h.s.clients[1]
	if !c.registered {
		t.Fatalf("not registered with the right password: %q", h.take(1))
	}
	if c.extra != nil {
		t.Errorf("registration kept the password: %+v", *c.extra)
	}
	h.in(1, "AWAY", "gone fishing")
	h.in(1, "MONITOR", "+", "bob")
	if c.away() != "gone fishing" || len(c.monitor()) != 1 {
		t.Fatalf("away %q, monitor %v; want both set", c.away(), c.monitor())
	}
	h.in(1, "AWAY")
	h.in(1, "MONITOR", "-", "bob")
	if c.extra != nil {
		t.Errorf("extra state kept with nothing set: %+v", *c.extra)
	}
	h.in(1, "MONITOR", "+", "bob")
	h.in(1, "MONITOR", "C")
	if c.extra != nil {
		t.Errorf("extra state kept after MONITOR C: %+v", *c.extra)
	}
}

// TestChannelRecordSize: the record every channel has stays in the
// 176-byte size class; mask lists live in channelLists.
func TestChannelRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(channel{}); n > 176 {
		t.Errorf("channel is %d bytes, over 176", n)
	}
}

// TestBanListQueryMakesNoLists: asking for an empty ban list, as many
// clients do on joining, answers the end of the list and leaves the
// channel without mask lists.
func TestBanListQueryMakesNoLists(t *testing.T) {
	h := newHarness(t, Config{})
	h.register(1, "alice")
	h.in(1, "JOIN", "#c")
	h.take(1)
	h.in(1, "MODE", "#c", "b")
	expect(t, "MODE #c b", h.take(1), []string{":ircsock.localhost 368 alice #c :End of channel ban list"})
	if ch := h.s.chans["#c"]; ch.lists != nil {
		t.Errorf("the query made lists: %+v", *ch.lists)
	}
	h.in(1, "MODE", "#c", "+b", "*!*@bad.example")
	h.in(1, "MODE", "#c", "b")
	if got := h.take(1); len(got) != 3 || !strings.Contains(got[1], " 367 alice #c *!*@bad.example alice!") {
		t.Errorf("after +b, MODE #c b: %q", got)
	}
}
