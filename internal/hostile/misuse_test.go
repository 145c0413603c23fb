package hostile

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// callBound bounds every API call of the misuse rows: none may block.
const callBound = 5 * time.Second

// TestMisuse calls the Backend API the wrong way. Every call must return
// its documented error (or be a documented no-op) within callBound, never
// panic, and leave a healthy client served.
func TestMisuse(t *testing.T) {
	msg := &ircmsg.Message{Command: "PRIVMSG", Params: []string{"#t", "misuse"}}
	rows := []struct {
		name string
		run  func(t *testing.T, s *server, victim *client, id ircsock.ConnID)
	}{
		{"send to an unknown id", func(t *testing.T, s *server, _ *client, id ircsock.ConnID) {
			var err error
			withTimeout(t, "Send", callBound, func() { err = s.b.Send(msg, id+1000) })
			var se *ircsock.SendError
			if !errors.As(err, &se) || !errors.Is(err, ircsock.ErrUnknownConn) || len(se.IDs) != 1 || se.IDs[0] != id+1000 {
				t.Errorf("Send(unknown) = %v, want a *SendError for [%d] wrapping ErrUnknownConn", err, id+1000)
			}
		}},
		{"send to known and unknown ids at once", func(t *testing.T, s *server, victim *client, id ircsock.ConnID) {
			var err error
			withTimeout(t, "Send", callBound, func() { err = s.b.Send(msg, id+1000, id, id+2000) })
			var se *ircsock.SendError
			if !errors.As(err, &se) || len(se.IDs) != 2 {
				t.Fatalf("Send(mixed) = %v, want a *SendError for the 2 unknown ids", err)
			}
			// The known target still got the message.
			if l, err := victim.readLine(); err != nil || l != "PRIVMSG #t misuse" {
				t.Errorf("victim read %q, %v; want %q", l, err, "PRIVMSG #t misuse")
			}
		}},
		{"send a nil or unformattable message", func(t *testing.T, s *server, _ *client, id ircsock.ConnID) {
			for _, m := range []*ircmsg.Message{nil, {}, {Command: "PRIVMSG", Params: []string{"a b", "c"}}, {Command: "X\r\nQUIT"}} {
				var err error
				withTimeout(t, "Send", callBound, func() { err = s.b.Send(m, id) })
				if err == nil {
					t.Errorf("Send(%+v) = nil, want an error", m)
				}
			}
		}},
		{"send to a closed id", func(t *testing.T, s *server, victim *client, id ircsock.ConnID) {
			_ = victim.c.Close()
			s.disconnect(victim)
			var err error
			withTimeout(t, "Send", callBound, func() { err = s.b.Send(msg, id) })
			if !errors.Is(err, ircsock.ErrUnknownConn) {
				t.Errorf("Send(closed) = %v, want ErrUnknownConn", err)
			}
		}},
		{"disconnect twice", func(t *testing.T, s *server, victim *client, id ircsock.ConnID) {
			var err1, err2 error
			withTimeout(t, "Disconnect", callBound, func() { err1 = s.b.Disconnect(id, "first") })
			withTimeout(t, "Disconnect", callBound, func() { err2 = s.b.Disconnect(id, "second") })
			if err1 != nil || !errors.Is(err2, ircsock.ErrDisconnecting) {
				t.Errorf("Disconnect twice = %v, %v; want nil, ErrDisconnecting", err1, err2)
			}
			var err3 error
			withTimeout(t, "Send", callBound, func() { err3 = s.b.Send(msg, id) })
			if !errors.Is(err3, ircsock.ErrDisconnecting) && !errors.Is(err3, ircsock.ErrUnknownConn) {
				t.Errorf("Send after Disconnect = %v, want ErrDisconnecting or ErrUnknownConn", err3)
			}
			victim.expectEOF()
			if d := s.disconnect(victim); d.Reason != "first" {
				t.Errorf("Disconnect reason = %q, want %q (the first wins)", d.Reason, "first")
			}
			var err4 error
			withTimeout(t, "Disconnect", callBound, func() { err4 = s.b.Disconnect(id, "third") })
			if !errors.Is(err4, ircsock.ErrUnknownConn) {
				t.Errorf("Disconnect of a closed id = %v, want ErrUnknownConn", err4)
			}
		}},
		{"disconnect now after disconnect", func(t *testing.T, s *server, victim *client, id ircsock.ConnID) {
			var err1, err2 error
			withTimeout(t, "Disconnect", callBound, func() { err1 = s.b.Disconnect(id, "graceful") })
			withTimeout(t, "DisconnectNow", callBound, func() { err2 = s.b.DisconnectNow(id, "now") })
			if err1 != nil || err2 != nil {
				t.Errorf("Disconnect, DisconnectNow = %v, %v; want nil, nil", err1, err2)
			}
			if d := s.disconnect(victim); d.Reason != "graceful" {
				t.Errorf("Disconnect reason = %q, want %q (the first wins)", d.Reason, "graceful")
			}
		}},
		{"concurrent disconnects and sends on one id", func(t *testing.T, s *server, victim *client, id ircsock.ConnID) {
			var wg sync.WaitGroup
			withTimeout(t, "64 concurrent calls", callBound, func() {
				for i := range 64 {
					wg.Go(func() {
						switch i % 4 {
						case 0:
							_ = s.b.Disconnect(id, "racing")
						case 1:
							_ = s.b.DisconnectNow(id, "racing")
						case 2:
							_ = s.b.Send(msg, id, id, id)
						case 3:
							_ = s.b.SetCompressedLink(id)
						}
					})
				}
				wg.Wait()
			})
			if d := s.disconnect(victim); d.Reason != "racing" {
				t.Errorf("Disconnect reason = %q, want %q", d.Reason, "racing")
			}
		}},
		{"compression calls on unknown and plain links", func(t *testing.T, s *server, _ *client, id ircsock.ConnID) {
			calls := []struct {
				name string
				call func() error
				want error
			}{
				{"SetCompressedLink(unknown)", func() error { return s.b.SetCompressedLink(id + 1000) }, ircsock.ErrUnknownConn},
				{"SetCompressedLinkNow(unknown)", func() error { return s.b.SetCompressedLinkNow(id + 1000) }, ircsock.ErrUnknownConn},
				{"UnsetCompressedLink(unknown)", func() error { return s.b.UnsetCompressedLink(id + 1000) }, ircsock.ErrUnknownConn},
				{"CompressInputAfter(unknown)", func() error {
					return s.b.CompressInputAfter(id+1000, func(*ircmsg.Message) bool { return true })
				}, ircsock.ErrUnknownConn},
				{"UnsetCompressedLink(plain)", func() error { return s.b.UnsetCompressedLink(id) }, ircsock.ErrNotCompressed},
				{"CompressInputAfter(nil)", func() error { return s.b.CompressInputAfter(id, nil) }, ircsock.ErrNilMatch},
			}
			for _, c := range calls {
				var err error
				withTimeout(t, c.name, callBound, func() { err = c.call() })
				if !errors.Is(err, c.want) {
					t.Errorf("%s = %v, want %v", c.name, err, c.want)
				}
			}
		}},
		{"remove a listener twice", func(t *testing.T, s *server, _ *client, _ ircsock.ConnID) {
			l, err := s.b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Idle: -1})
			if err != nil {
				t.Fatalf("CreateListener: %v", err)
			}
			var err1, err2 error
			var n int
			withTimeout(t, "RemoveListener", callBound, func() { err1 = s.b.RemoveListener(l.ID()) })
			withTimeout(t, "RemoveListener", callBound, func() { err2 = s.b.RemoveListener(l.ID()) })
			withTimeout(t, "RemoveListeners", callBound, func() { n = s.b.RemoveListeners(netip.Addr{}, 0) })
			if err1 != nil || !errors.Is(err2, ircsock.ErrUnknownListener) || n != 0 {
				t.Errorf("RemoveListener twice, RemoveListeners(none) = %v, %v, %d; want nil, ErrUnknownListener, 0", err1, err2, n)
			}
			if _, err := dialErr(s.ctx, "late", l.AddrPort().String()); err == nil {
				t.Errorf("dial to a removed listener succeeded")
			}
		}},
		{"connector without address or port", func(t *testing.T, s *server, _ *client, _ ircsock.ConnID) {
			for _, cfg := range []ircsock.ConnectorConfig{{}, {Addr: "127.0.0.1:70000"}, {Addr: "127.0.0.1"}} {
				var err error
				withTimeout(t, "CreateConnector", callBound, func() { _, err = s.b.CreateConnector(s.ctx, cfg) })
				if err == nil {
					t.Errorf("CreateConnector(%+v) = nil error, want one", cfg)
				}
			}
		}},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			s := newServer(t, ircsock.Config{}, ircsock.ListenerConfig{Idle: -1})
			good := dial(t, s.ctx, "good", s.addr())
			good.healthy("before")
			victim := dial(t, s.ctx, "victim", s.addr())
			id := s.rec(victim).conn.ID()
			tc.run(t, s, victim, id)
			good.healthy("after")
		})
	}
}

// TestMisuseAfterShutdown calls every method after Shutdown: each returns
// ErrClosed (or its documented zero result) at once.
func TestMisuseAfterShutdown(t *testing.T) {
	for _, how := range []string{"Shutdown", "Close"} {
		t.Run(how, func(t *testing.T) {
			checkLeaks(t)
			s := newServer(t, ircsock.Config{}, ircsock.ListenerConfig{Idle: -1})
			c := dial(t, s.ctx, "client", s.addr())
			id := s.rec(c).conn.ID()
			lid := s.ln.ID()
			// The client closes its end when the server's ends (as a real
			// peer does), so that Shutdown's drain completes at once.
			go func() {
				_ = c.c.SetReadDeadline(time.Now().Add(callBound))
				_, _ = io.Copy(io.Discard, c.c)
				_ = c.c.Close()
			}()
			withTimeout(t, how, callBound, func() {
				var err error
				if how == "Shutdown" {
					ctx, cancel := context.WithTimeout(s.ctx, callBound)
					defer cancel()
					err = s.b.Shutdown(ctx)
				} else {
					err = s.b.Close()
				}
				if err != nil {
					t.Errorf("%s = %v, want nil", how, err)
				}
			})
			// Shutdown delivers the last events; Close drops the undelivered
			// ones, so only Shutdown owes a Disconnect.
			if how == "Shutdown" {
				if d := s.disconnect(c); d.Reason != ircsock.ReasonShutdown {
					t.Errorf("Disconnect reason = %q, want %q", d.Reason, ircsock.ReasonShutdown)
				}
			}
			msg := &ircmsg.Message{Command: "PING", Params: []string{"x"}}
			calls := []struct {
				name string
				call func() error
			}{
				{"Send", func() error { return s.b.Send(msg, id) }},
				{"Disconnect", func() error { return s.b.Disconnect(id, "") }},
				{"DisconnectNow", func() error { return s.b.DisconnectNow(id, "") }},
				{"SetCompressedLink", func() error { return s.b.SetCompressedLink(id) }},
				{"SetCompressedLinkNow", func() error { return s.b.SetCompressedLinkNow(id) }},
				{"UnsetCompressedLink", func() error { return s.b.UnsetCompressedLink(id) }},
				{"CompressInputAfter", func() error {
					return s.b.CompressInputAfter(id, func(*ircmsg.Message) bool { return true })
				}},
				{"RemoveListener", func() error { return s.b.RemoveListener(lid) }},
				{"CreateListener", func() error {
					_, err := s.b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
					return err
				}},
				{"CreateConnector", func() error {
					_, err := s.b.CreateConnector(s.ctx, ircsock.ConnectorConfig{Addr: s.ln.AddrPort().String()})
					return err
				}},
				{"Shutdown", func() error { return s.b.Shutdown(s.ctx) }},
				{"Close", func() error { return s.b.Close() }},
			}
			for _, c := range calls {
				var err error
				withTimeout(t, c.name+" after "+how, callBound, func() { err = c.call() })
				if !errors.Is(err, ircsock.ErrClosed) {
					t.Errorf("%s after %s = %v, want ErrClosed", c.name, how, err)
				}
			}
			withTimeout(t, "accessors after "+how, callBound, func() {
				if n := s.b.RemoveListeners(netip.MustParseAddr("127.0.0.1"), 0); n != 0 {
					t.Errorf("RemoveListeners after %s = %d, want 0", how, n)
				}
				if _, ok := s.b.Conn(id); ok {
					t.Errorf("Conn(%d) after %s found a connection", id, how)
				}
				if n := len(s.b.Conns()) + len(s.b.Listeners()) + len(s.b.Connectors()); n != 0 {
					t.Errorf("Conns+Listeners+Connectors after %s = %d, want 0", how, n)
				}
			})
			select {
			case <-s.ctrlDone:
			case <-time.After(callBound):
				t.Errorf("events channel still open %v after %s", callBound, how)
			}
		})
	}
}
