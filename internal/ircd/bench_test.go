package ircd

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// countSender is a transport that formats each message once, as the
// Backend does, and counts deliveries.
type countSender struct {
	buf []byte
	n   int
}

func (c *countSender) Send(m *ircmsg.Message, ids ...ircsock.ConnID) error {
	var err error
	c.buf, err = ircmsg.Format{Colonify: true}.Append(c.buf[:0], m)
	c.n += len(ids)
	return err
}

func (c *countSender) Disconnect(ircsock.ConnID, string) error { return nil }

// BenchmarkChannelPrivmsg measures the server side of one PRIVMSG to a
// channel of 100 members, half with server-time and message-tags (two
// Sends), formatting included, socket I/O excluded.
func BenchmarkChannelPrivmsg(b *testing.B) {
	out := &countSender{}
	s := newCore(Config{}, out, t0)
	for i := range 100 {
		id := ircsock.ConnID(i + 1)
		s.open(id, netip.MustParseAddr("192.0.2.1"), false, t0)
		if i%2 == 0 {
			s.input(id, &ircmsg.Message{Command: "CAP", Params: []string{"REQ", "server-time message-tags"}}, t0)
		}
		s.input(id, &ircmsg.Message{Command: "NICK", Params: []string{"n" + strconv.Itoa(i)}}, t0)
		s.input(id, &ircmsg.Message{Command: "USER", Params: []string{"u", "0", "*", "R"}}, t0)
		s.input(id, &ircmsg.Message{Command: "CAP", Params: []string{"END"}}, t0)
		s.input(id, &ircmsg.Message{Command: "JOIN", Params: []string{"#bench"}}, t0)
	}
	msg := &ircmsg.Message{
		Tags:    []ircmsg.Tag{{Key: "+draft/reply", Value: "abc"}},
		Command: "PRIVMSG",
		Params:  []string{"#bench", "a typical line of chat, neither short nor long"},
	}
	now := t0.Add(time.Second)
	out.n = 0
	b.ReportAllocs()
	for b.Loop() {
		s.input(1, msg, now)
	}
	b.ReportMetric(float64(out.n)/float64(b.N), "recipients/op")
}
