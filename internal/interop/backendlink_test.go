package interop

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// backendPeer is an ircsock.Backend with the test as its controller: a
// pump goroutine turns its events into one lineQueue per connection.
type backendPeer struct {
	t      testing.TB
	b      *ircsock.Backend
	opened chan backendOpen // ConnectorOpen and ListenerOpen, in order
	failed chan error       // ConnectorFailure and ListenerFailure
	done   chan struct{}    // closed when the events channel is closed
}

type backendOpen struct {
	conn *ircsock.Conn
	q    *lineQueue
}

// newBackendPeer starts a Backend formatting as a server does (colonified)
// and closes it when the test ends, waiting (bounded) for its last event.
func newBackendPeer(t testing.TB) *backendPeer {
	p := &backendPeer{
		t:      t,
		b:      ircsock.New(ircsock.Config{Format: ircmsg.Format{Colonify: true}}),
		opened: make(chan backendOpen, 8),
		failed: make(chan error, 8),
		done:   make(chan struct{}),
	}
	go p.pump()
	t.Cleanup(func() {
		if err := p.b.Close(); err != nil {
			t.Errorf("Backend.Close() = %v, want nil", err)
		}
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Errorf("Backend events channel not closed 10 s after Close")
		}
	})
	return p
}

func (p *backendPeer) pump() {
	defer close(p.done)
	queues := map[ircsock.ConnID]*lineQueue{}
	open := func(c *ircsock.Conn, kind string) {
		q := newLineQueue(p.t, fmt.Sprintf("backend conn %d", c.ID()))
		queues[c.ID()] = q
		p.t.Logf("backend: %s %d (%s -> %s, TLS %v)", kind, c.ID(), c.Local(), c.Peer(), c.TLS() != nil)
		p.opened <- backendOpen{c, q}
	}
	for ev := range p.b.Events() {
		switch ev := ev.(type) {
		case ircsock.ConnectorOpen:
			open(ev.Conn, "connector open")
		case ircsock.ListenerOpen:
			open(ev.Conn, "listener open")
		case ircsock.ConnectorFailure:
			p.failed <- fmt.Errorf("connector %s failed: %v", ev.Op, ev.Err)
		case ircsock.ListenerFailure:
			p.failed <- fmt.Errorf("listener %s failed: %v", ev.Op, ev.Err)
		case ircsock.Input:
			q := queues[ev.Conn().ID()]
			l := fromMessage(ev.Msg())
			p.t.Logf("%s <- %s", q.name, l.Raw)
			if !q.put(l) {
				p.t.Errorf("%s: %v", q.name, q.rerr)
			}
		case ircsock.InputError:
			// On a compressed link a bad line means a bad switch:
			// bytes decoded by the wrong layer.
			p.t.Errorf("backend conn %d: InputError: %v", ev.Conn.ID(), ev.Err)
		case ircsock.Compressed:
			p.t.Logf("backend conn %d: Compressed", ev.Conn.ID())
		case ircsock.Disconnect:
			if q := queues[ev.Conn.ID()]; q != nil {
				p.t.Logf("%s: Disconnect %q: %v", q.name, ev.Reason, ev.Err)
				q.stop(fmt.Errorf("disconnected: %q (%v)", ev.Reason, ev.Err))
				delete(queues, ev.Conn.ID())
			}
		default:
			p.t.Logf("backend: %T", ev)
		}
	}
	for _, q := range queues {
		q.stop(fmt.Errorf("backend events closed"))
	}
}

// waitOpen returns the next opened connection.
func (p *backendPeer) waitOpen(ctx context.Context, t testing.TB) backendOpen {
	t.Helper()
	select {
	case o := <-p.opened:
		return o
	case err := <-p.failed:
		t.Fatalf("backend: %v", err)
	case <-ctx.Done():
		t.Fatalf("backend: no connection opened: %v", ctx.Err())
	}
	return backendOpen{}
}

// fromMessage gives a received message the observer's shape. Raw is the
// message as the Backend would format it, for the log.
func fromMessage(m *ircmsg.Message) rawLine {
	raw, err := m.AppendTo(nil)
	if err != nil {
		raw = fmt.Appendf(nil, "%+v (unformattable: %v)", *m, err)
	}
	return rawLine{Raw: string(raw), Source: m.Source, Command: m.Command, Params: m.Params}
}

// toMessage builds the message for one scenario line. The line is parsed
// by the test's own parser, so the Backend is judged on formatting and
// sending only.
func toMessage(line string) *ircmsg.Message {
	l := parseRaw(line)
	return &ircmsg.Message{Source: l.Source, Command: l.Command, Params: l.Params}
}

// backendLink is a server link carried by a Backend connection. Its input
// switch to zlib is armed before ngircd's SERVER can arrive when we dial
// (CompressInputAfter); its output switches right after our SERVER line.
type backendLink struct {
	*lineQueue
	p       *backendPeer
	conn    *ircsock.Conn
	reverse bool
	// preArmed says the listener armed the input switch itself
	// (ListenerConfig.CompressInputAfter), so send must not.
	preArmed bool
}

// send queues every line with one Send each, without yielding between
// them, so that the Backend may write them in one flush. After our SERVER
// line the output is compressed (SetCompressedLink: exact, at that point
// of the queue).
//
// When ngircd dialled us, its SERVER line had already been read before
// the controller could arm CompressInputAfter (ListenerOpen is delivered
// while the connection is already reading). ngircd compresses only after
// it has received our SERVER, so the input is switched with
// CompressInputNow just before our SERVER is queued: no compressed byte
// can arrive before the switch, which makes it exact.
func (l *backendLink) send(t testing.TB, lines ...string) {
	id := l.conn.ID()
	for _, line := range lines {
		t.Logf("%s -> %s", l.name, line)
		isServer := parseRaw(line).Command == "SERVER"
		if isServer && l.reverse && !l.preArmed {
			if err := l.p.b.CompressInputNow(id); err != nil {
				t.Errorf("CompressInputNow before our SERVER = %v, want nil", err)
				return
			}
		}
		if err := l.p.b.Send(toMessage(line), id); err != nil {
			t.Errorf("Send(%q) = %v, want nil", line, err)
			return
		}
		if !isServer {
			continue
		}
		if err := l.p.b.SetCompressedLink(id); err != nil {
			t.Errorf("SetCompressedLink after our SERVER = %v, want nil", err)
		}
	}
}

// dialBackendLink has the Backend dial ngircd, arms the input switch after
// ngircd's SERVER line, and sends our PASS and SERVER.
func dialBackendLink(ctx context.Context, t testing.TB, p *backendPeer, cfg ircsock.ConnectorConfig) *backendLink {
	t.Helper()
	if _, err := p.b.CreateConnector(ctx, cfg); err != nil {
		t.Fatalf("CreateConnector(%s) = %v, want nil", cfg.Addr, err)
	}
	o := p.waitOpen(ctx, t)
	// ngircd says nothing before our PASS and SERVER, so arming here is
	// in time: the cut falls exactly after its SERVER line.
	if err := p.b.CompressInputAfter(o.conn.ID(), func(m *ircmsg.Message) bool { return m.Command == "SERVER" }); err != nil {
		t.Fatalf("CompressInputAfter = %v, want nil", err)
	}
	l := &backendLink{lineQueue: o.q, p: p, conn: o.conn}
	l.send(t, ourPass(), ourServer())
	return l
}

// acceptBackendLink waits for ngircd to dial the Backend's listener.
func acceptBackendLink(ctx context.Context, t testing.TB, p *backendPeer) *backendLink {
	t.Helper()
	o := p.waitOpen(ctx, t)
	return &backendLink{lineQueue: o.q, p: p, conn: o.conn, reverse: true}
}
