package ircd

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// tally is a transport that formats each message once, as the Backend
// does, and counts the copies of NICK and QUIT lines each connection
// gets, in a slice indexed by id so that counting allocates nothing.
type tally struct {
	buf    []byte
	copies []int
}

func (c *tally) Send(m *ircmsg.Message, ids ...ircsock.ConnID) error {
	var err error
	c.buf, err = ircmsg.Format{Colonify: true}.Append(c.buf[:0], m)
	if m.Command == "NICK" || m.Command == "QUIT" {
		for _, id := range ids {
			c.copies[id]++
		}
	}
	return err
}

func (c *tally) Disconnect(ircsock.ConnID, string) error { return nil }

func (c *tally) reset() { clear(c.copies) }

// peerWorld is a core where client 1 shares three channels with the
// others, most of them in two of those channels: every peer is reachable
// through several channels but must hear of client 1 once. The last
// client shares no channel with it. Clients from quitters on are spare
// clients in all three channels, for QUITs; their ids start at 10,000
// whatever the number of peers, because logging a big id allocates (a
// small one is boxed for free) and would count as a cost of more peers.
type peerWorld struct {
	s        *core
	out      *tally
	peers    int // clients 2..peers+1 share a channel with client 1
	outsider ircsock.ConnID
	quitters ircsock.ConnID // first spare client
	spares   int
}

func newPeerWorld(tb testing.TB, peers, spares int) *peerWorld {
	tb.Helper()
	const quitters = 10_000
	if peers+2 >= quitters {
		tb.Fatalf("%d peers: too many", peers)
	}
	out := &tally{copies: make([]int, quitters+spares)}
	s := newCore(Config{}, out, t0)
	w := &peerWorld{s: s, out: out, peers: peers, outsider: ircsock.ConnID(peers + 2), quitters: quitters, spares: spares}
	join := func(id ircsock.ConnID, nick, chans string) {
		s.open(id, netip.MustParseAddr("192.0.2.1"), false, t0)
		s.input(id, &ircmsg.Message{Command: "NICK", Params: []string{nick}}, t0)
		s.input(id, &ircmsg.Message{Command: "USER", Params: []string{"u", "0", "*", "R"}}, t0)
		s.input(id, &ircmsg.Message{Command: "JOIN", Params: []string{chans}}, t0)
		if c := s.clients[id]; c == nil || !c.registered {
			tb.Fatalf("client %d not registered", id)
		}
	}
	join(1, "me", "#a,#b,#c")
	for i := range peers {
		chans := [...]string{"#a,#b", "#b,#c", "#a,#c", "#a,#b,#c"}[i%4]
		join(ircsock.ConnID(i+2), "p"+strconv.Itoa(i), chans)
	}
	join(w.outsider, "outsider", "#elsewhere")
	for i := range spares {
		join(w.quitters+ircsock.ConnID(i), "q"+strconv.Itoa(i), "#a,#b,#c")
	}
	out.reset()
	return w
}

// checkOnce checks that every client in want got exactly one copy since the
// last reset and every other client none.
func (w *peerWorld) checkOnce(t *testing.T, what string, want func(id ircsock.ConnID) bool) {
	t.Helper()
	for id := 1; id < len(w.out.copies); id++ {
		n, wanted := w.out.copies[id], want(ircsock.ConnID(id))
		if wanted && n != 1 || !wanted && n != 0 {
			t.Errorf("%s: client %d got %d copies, want %d", what, id, n, map[bool]int{true: 1}[wanted])
		}
	}
	w.out.reset()
}

// TestPeersOnce: a NICK reaches the client itself and every client sharing
// a channel with it once, however many channels they share; a QUIT reaches
// every such client once; a client sharing no channel hears nothing.
func TestPeersOnce(t *testing.T) {
	w := newPeerWorld(t, 40, 2)
	spare := func(id ircsock.ConnID) bool { return id >= w.quitters && id < w.quitters+ircsock.ConnID(w.spares) }
	isPeer := func(id ircsock.ConnID) bool { return id >= 2 && id <= ircsock.ConnID(w.peers+1) || spare(id) }

	w.s.input(1, &ircmsg.Message{Command: "NICK", Params: []string{"me2"}}, t0)
	w.checkOnce(t, "NICK", func(id ircsock.ConnID) bool { return id == 1 || isPeer(id) })

	w.s.input(1, &ircmsg.Message{Command: "QUIT", Params: []string{"bye"}}, t0)
	w.checkOnce(t, "QUIT", isPeer)

	// The spare's QUIT after that: client 1 is gone, the others remain.
	w.s.input(w.quitters, &ircmsg.Message{Command: "QUIT", Params: []string{"bye"}}, t0)
	w.checkOnce(t, "second QUIT", func(id ircsock.ConnID) bool { return isPeer(id) && id != w.quitters })

	if len(w.s.peerBuf) != 0 || w.s.peerLen != 0 {
		t.Errorf("peers' scratch left with %d entries (last fill %d), want none", len(w.s.peerBuf), w.s.peerLen)
	}
	for _, c := range w.s.peerBuf[:cap(w.s.peerBuf)] {
		if c != nil {
			t.Fatalf("peers' scratch still holds client %s", c.nick)
		}
	}
}

// TestPeersAllocateNothing: finding the clients a QUIT or NICK goes to
// allocates nothing once the scratch has grown, and a whole NICK or QUIT
// fan-out allocates as much for 400 peers as for 20: nothing per peer.
// Each run also checks that every peer got one copy.
func TestPeersAllocateNothing(t *testing.T) {
	const runs = 50
	w := newPeerWorld(t, 100, 0)
	c := w.s.clients[1]
	if n := testing.AllocsPerRun(runs, func() { w.s.donePeers(w.s.peers(c, true)) }); n != 0 {
		t.Errorf("peers and donePeers: %v allocations per call, want 0", n)
	}

	nickAllocs := func(peers int) float64 {
		w := newPeerWorld(t, peers, 0)
		nicks := [2]*ircmsg.Message{
			{Command: "NICK", Params: []string{"me2"}},
			{Command: "NICK", Params: []string{"me"}},
		}
		i := 0
		n := testing.AllocsPerRun(runs, func() {
			w.s.input(1, nicks[i%2], t0)
			i++
		})
		for id := 1; id <= peers+1; id++ {
			if got := w.out.copies[id]; got != i {
				t.Fatalf("NICK with %d peers: client %d got %d copies of %d NICKs", peers, id, got, i)
			}
		}
		if got := w.out.copies[w.outsider]; got != 0 {
			t.Fatalf("NICK with %d peers: the outsider got %d copies, want 0", peers, got)
		}
		return n
	}
	quitAllocs := func(peers int) float64 {
		w := newPeerWorld(t, peers, runs+1)
		quit := &ircmsg.Message{Command: "QUIT", Params: []string{"mass disconnect"}}
		next := w.quitters
		n := testing.AllocsPerRun(runs, func() {
			w.s.input(next, quit, t0)
			next++
		})
		// Quitter k (from 0) was heard by every peer and every later
		// quitter, once.
		for id := 1; id <= peers+1; id++ {
			if got := w.out.copies[id]; got != runs+1 {
				t.Fatalf("QUIT with %d peers: client %d got %d copies of %d QUITs", peers, id, got, runs+1)
			}
		}
		for k := range runs + 1 {
			if got := w.out.copies[w.quitters+ircsock.ConnID(k)]; got != k {
				t.Fatalf("QUIT with %d peers: quitter %d got %d copies, want %d", peers, k, got, k)
			}
		}
		return n
	}
	for _, tc := range []struct {
		what string
		f    func(int) float64
	}{{"NICK", nickAllocs}, {"QUIT", quitAllocs}} {
		small, big := tc.f(20), tc.f(400)
		t.Logf("%s: %v allocations with 20 peers, %v with 400", tc.what, small, big)
		if big > small {
			t.Errorf("%s: %v allocations with 400 peers, %v with 20: want no more for more peers", tc.what, big, small)
		}
	}
}

// BenchmarkQuitFanOut measures a QUIT from a client sharing three channels
// with 400 others (most of them in two of those channels): finding the
// 400 recipients once each and handing the line over, formatting
// included, socket I/O excluded. Each iteration quits one client and
// registers a fresh one in its place, so only the QUIT's part is timed.
func BenchmarkQuitFanOut(b *testing.B) {
	w := newPeerWorld(b, 400, 1)
	quit := &ircmsg.Message{Command: "QUIT", Params: []string{"mass disconnect"}}
	id := w.quitters
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		w.s.open(id, netip.MustParseAddr("192.0.2.1"), false, t0)
		w.s.input(id, &ircmsg.Message{Command: "NICK", Params: []string{"quitter"}}, t0)
		w.s.input(id, &ircmsg.Message{Command: "USER", Params: []string{"u", "0", "*", "R"}}, t0)
		w.s.input(id, &ircmsg.Message{Command: "JOIN", Params: []string{"#a,#b,#c"}}, t0)
		b.StartTimer()
		w.s.input(id, quit, t0)
	}
}

// BenchmarkNickFanOut measures a NICK change of a client sharing three
// channels with 400 others, sent to it and to each of them once,
// formatting included, socket I/O excluded.
func BenchmarkNickFanOut(b *testing.B) {
	w := newPeerWorld(b, 400, 0)
	nicks := [2]*ircmsg.Message{
		{Command: "NICK", Params: []string{"me2"}},
		{Command: "NICK", Params: []string{"me"}},
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		w.s.input(1, nicks[i%2], t0)
		i++
	}
}
