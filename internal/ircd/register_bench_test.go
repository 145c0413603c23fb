package ircd

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// lifeLoad is one client's life as `ircsock bench` drives it: connect,
// NICK, USER (the welcome burst: 001-005, LUSERS, MOTD), JOIN a channel
// of ten (JOIN, NAMES), QUIT. Its lines are made beforehand, so that
// what a life allocates is the core's alone.
type lifeLoad struct {
	s     *core
	lines [][3]ircmsg.Message // NICK, USER, JOIN, per nick
	quit  ircmsg.Message
	id    ircsock.ConnID
}

func newLifeLoad(out transport) *lifeLoad {
	l := &lifeLoad{
		s:    newCore(Config{MOTD: []string{"Welcome to the bench.", "Be nice."}}, out, t0),
		quit: ircmsg.Message{Command: "QUIT", Params: []string{"bye"}},
		id:   1000,
	}
	for i := range 1000 {
		nick := "b" + strconv.Itoa(i)
		l.lines = append(l.lines, [3]ircmsg.Message{
			{Command: "NICK", Params: []string{nick}},
			{Command: "USER", Params: []string{nick, "0", "*", "bench client"}},
			{Command: "JOIN", Params: []string{"#bench" + strconv.Itoa(i%10)}},
		})
	}
	// Channels of ten, kept full by clients that stay.
	for i := range 90 {
		l.register(ircsock.ConnID(i+1), &l.lines[i])
	}
	return l
}

func (l *lifeLoad) register(id ircsock.ConnID, lines *[3]ircmsg.Message) {
	l.s.open(id, netip.MustParseAddr("127.0.0.1"), false, t0)
	for i := range lines {
		l.s.input(id, &lines[i], t0)
	}
}

// life runs one whole client life.
func (l *lifeLoad) life() {
	l.id++
	id := l.id
	l.register(id, &l.lines[90+int(id)%(len(l.lines)-90)])
	l.s.input(id, &l.quit, t0)
	l.s.closed(id, "Quit: bye", t0)
}

// BenchmarkClientLife measures the core's side of a client's life (see
// lifeLoad). What a life allocates and does not keep is what a
// connection storm leaves to the collector, and what is left behind in
// partly used spans between the records that stay.
func BenchmarkClientLife(b *testing.B) {
	l := newLifeLoad(&countSender{})
	b.ReportAllocs()
	for b.Loop() {
		l.life()
	}
	if n := len(l.s.clients); n != 90 {
		b.Fatalf("%d clients left, want 90", n)
	}
}

// TestClientLifeAllocs bounds what a client's life allocates in the
// core: the records it keeps, the strings of its log lines and replies
// that must be made per client (001's text, its source, NAMES), and no
// Message or parameter list per reply. It was 81 allocations before the
// replies shared the core's scratch; 24 after.
func TestClientLifeAllocs(t *testing.T) {
	const limit = 30
	l := newLifeLoad(&countSender{})
	l.life() // the scratch slices grow once
	allocs := testing.AllocsPerRun(200, l.life)
	t.Logf("%.1f allocations per client life", allocs)
	if allocs > limit {
		t.Errorf("a client's life allocates %.1f times in the core, over the bound of %d: a reply path allocates again?", allocs, limit)
	}
}
