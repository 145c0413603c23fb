package ircsock_test

// The input switch for a peer that speaks first: a server dialling in
// sends its SERVER line and its first zlib bytes in one burst, before the
// controller has even seen the connection open. The listener and connector
// settings are exact; a CompressInputAfter that comes too late must say so
// rather than let zlib bytes be read as lines while Compressed() says true.

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

func isServerLine(m *ircmsg.Message) bool { return m.Command == "SERVER" }

// burst is what a server that speaks first sends at once: PASS and SERVER
// in plain text, then n lines through its own zlib stream (compress/zlib,
// not the code under test), sync-flushed.
func burst(t testing.TB, n int) []byte {
	var b bytes.Buffer
	b.WriteString("PASS secret 0210 IRC|Z\r\nSERVER peer.test 1 :peer\r\n")
	zw := zlib.NewWriter(&b)
	for i := range n {
		fmt.Fprintf(zw, "PRIVMSG #z :%s\r\n", numbered("z", i))
	}
	if err := zw.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBackendListenerCompressInputAfter: 100 peers dial a listener armed
// by ListenerConfig.CompressInputAfter and each sends PASS, SERVER and 50
// compressed lines in one write. Every line must arrive, none as an
// InputError, on every connection.
func TestBackendListenerCompressInputAfter(t *testing.T) {
	const conns, lines = 100, 50
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type tally struct {
		n    int
		conn *ircsock.Conn
	}
	var mu sync.Mutex
	got := map[ircsock.ConnID]*tally{}
	all := make(chan struct{})
	finished := 0
	s := startEdgeServer(t, ircsock.Config{}, ircsock.ListenerConfig{CompressInputAfter: isServerLine}, func(b *ircsock.Backend, in ircsock.Input) {
		mu.Lock()
		defer mu.Unlock()
		tl := got[in.Conn().ID()]
		if tl == nil {
			tl = &tally{conn: in.Conn()}
			got[in.Conn().ID()] = tl
		}
		if in.Msg().Command != "PRIVMSG" {
			return
		}
		if want := numbered("z", tl.n); in.Msg().Params[1] != want {
			t.Errorf("conn %d: line %d = %q, want %q", in.Conn().ID(), tl.n, in.Msg().Params[1], want)
		}
		tl.n++
		if tl.n == lines {
			finished++
			if finished == conns {
				close(all)
			}
		}
	})
	data := burst(t, lines)
	for range conns {
		c := dialRcvBuf(ctx, t, s.addr, 64<<10)
		if _, err := c.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-all:
	case ie := <-s.ierrs:
		t.Fatalf("InputError on conn %d: %v (bytes decoded by the wrong layer)", ie.Conn.ID(), ie.Err)
	case <-ctx.Done():
		mu.Lock()
		t.Fatalf("%d of %d connections got all %d lines: %v", finished, conns, lines, ctx.Err())
	}
	mu.Lock()
	defer mu.Unlock()
	for id, tl := range got {
		if !tl.conn.Compressed() {
			t.Errorf("conn %d: Compressed() = false after its input switched", id)
		}
	}
	select {
	case ie := <-s.ierrs:
		t.Errorf("InputError on conn %d: %v", ie.Conn.ID(), ie.Err)
	default:
	}
}

// TestBackendConnectorCompressInputAfter: a peer we dial speaks first with
// PASS, SERVER and zlib bytes in one write; ConnectorConfig's setting
// switches the input exactly.
func TestBackendConnectorCompressInputAfter(t *testing.T) {
	const lines = 200
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := burst(t, lines)
	peerDone := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			peerDone <- err
			return
		}
		defer c.Close()
		if _, err := c.Write(data); err != nil {
			peerDone <- err
			return
		}
		// Stay until the Backend hangs up.
		_, err = io.Copy(io.Discard, c)
		peerDone <- err
	}()
	h := newHarness(t, ircsock.Config{})
	conn := h.connect(ircsock.ConnectorConfig{Addr: ln.Addr().String(), Idle: -1, CompressInputAfter: isServerLine})
	want := []string{"IRC|Z", "peer"}
	for i := range lines {
		want = append(want, numbered("z", i))
	}
	h.expectInputs("the peer's burst", conn.ID(), want)
	if errs := eventsOf(h, forConn[ircsock.InputError](conn.ID())); len(errs) > 0 {
		t.Errorf("InputError: %v", errs[0].Err)
	}
	if !conn.Compressed() {
		t.Errorf("Compressed() = false after the input switched")
	}
	if err := h.b.Disconnect(conn.ID(), "bye"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-peerDone:
		if err != nil {
			t.Errorf("peer: %v", err)
		}
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	h.shutdown()
}

// TestBackendCompressInputAfterLate: CompressInputAfter called once the
// reader has decoded lines checks them. If the matching line is the last
// one decoded, the switch is still exact; if lines after it were decoded,
// or more than Config.EarlyInput bytes, it fails with ErrArmedLate and
// Compressed() stays false.
func TestBackendCompressInputAfterLate(t *testing.T) {
	cases := []struct {
		name    string
		cfg     ircsock.Config
		first   string // sent before the arm, and decoded
		inputs  int    // how many lines first holds
		wantErr bool
	}{
		{"matching line last", ircsock.Config{}, "PASS secret\r\nSERVER peer.test 1 :peer\r\n", 2, false},
		{"no match yet", ircsock.Config{}, "PASS secret\r\n", 1, false},
		{"lines after the match", ircsock.Config{}, "SERVER peer.test 1 :peer\r\nPRIVMSG #z :plain\r\n", 2, true},
		{"more than EarlyInput", ircsock.Config{EarlyInput: 32}, "PASS secret\r\nNOTICE x :0123456789012345678901234567890123456789\r\n", 2, true},
		{"EarlyInput off", ircsock.Config{EarlyInput: -1}, "PASS secret\r\n", 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.cfg)
			l := h.listen(ircsock.ListenerConfig{Idle: -1})
			c := dialRaw(t, h, listenAddr(l))
			conn := h.accepted(c)
			if _, err := io.WriteString(c, tc.first); err != nil {
				t.Fatal(err)
			}
			h.inputs(conn.ID(), tc.inputs)
			err := h.b.CompressInputAfter(conn.ID(), isServerLine)
			if tc.wantErr {
				if !errors.Is(err, ircsock.ErrArmedLate) {
					t.Fatalf("CompressInputAfter = %v, want ErrArmedLate", err)
				}
				if conn.Compressed() {
					t.Errorf("Compressed() = true after a refused arm")
				}
				// Nothing is armed: plain input goes on as plain.
				c.writeLines(t, "PRIVMSG #z :still plain")
				h.expectInputs("plain after the refusal", conn.ID(), append(paramsOf(h.inputs(conn.ID(), tc.inputs)), "still plain"))
				h.shutdown()
				return
			}
			if err != nil {
				t.Fatalf("CompressInputAfter = %v, want nil", err)
			}
			var b bytes.Buffer
			if tc.inputs == 1 {
				b.WriteString("SERVER peer.test 1 :peer\r\n")
			}
			zw := zlib.NewWriter(&b)
			io.WriteString(zw, "PRIVMSG #z :compressed\r\n")
			zw.Flush()
			if _, err := c.Write(b.Bytes()); err != nil {
				t.Fatal(err)
			}
			want := append(paramsOf(h.inputs(conn.ID(), tc.inputs)), "compressed")
			if tc.inputs == 1 {
				want = append(want[:1], "peer", "compressed")
			}
			h.expectInputs("the compressed line", conn.ID(), want)
			if errs := eventsOf(h, forConn[ircsock.InputError](conn.ID())); len(errs) > 0 {
				t.Errorf("InputError: %v", errs[0].Err)
			}
			if !conn.Compressed() {
				t.Errorf("Compressed() = false after the input switched")
			}
			h.shutdown()
		})
	}
}

// TestBackendCompressInputAfterNeverSilent arms CompressInputAfter the
// natural way, on ListenerOpen, for 100 peers that send PASS, SERVER and
// zlib lines in one burst. Each arm either works (every line arrives, no
// InputError) or says it came too late (an error, or an InputError
// wrapping ErrArmedLate) with Compressed() false: never a silent loss.
func TestBackendCompressInputAfterNeverSilent(t *testing.T) {
	const conns, lines = 100, 20
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	checkLeaks(t)
	b := ircsock.New(ircsock.Config{})
	type state struct {
		armErr  error
		late    bool // an InputError wrapping ErrArmedLate
		bad     int  // other InputErrors
		n       int  // compressed lines received in order
		conn    *ircsock.Conn
		discErr error
		gone    bool
	}
	states := map[ircsock.ConnID]*state{}
	// armed[port] is closed once the controller has handled the open
	// event of the client on that port.
	var amu sync.Mutex
	armed := map[int]chan struct{}{}
	armedChan := func(port int) chan struct{} {
		amu.Lock()
		defer amu.Unlock()
		ch, ok := armed[port]
		if !ok {
			ch = make(chan struct{})
			armed[port] = ch
		}
		return ch
	}
	done := make(chan struct{})
	closed := 0
	go func() {
		defer close(done)
		for ev := range b.Events() {
			switch ev := ev.(type) {
			case ircsock.ListenerOpen:
				states[ev.Conn.ID()] = &state{conn: ev.Conn, armErr: b.CompressInputAfter(ev.Conn.ID(), isServerLine)}
				close(armedChan(int(ev.Conn.Peer().Port())))
			case ircsock.Input:
				st := states[ev.Conn().ID()]
				if m := ev.Msg(); m.Command == "PRIVMSG" && len(m.Params) == 2 && m.Params[1] == numbered("z", st.n) {
					st.n++
				}
			case ircsock.InputError:
				st := states[ev.Conn.ID()]
				if errors.Is(ev.Err, ircsock.ErrArmedLate) {
					st.late = true
				} else {
					st.bad++
				}
			case ircsock.Disconnect:
				st := states[ev.Conn.ID()]
				st.gone, st.discErr = true, ev.Err
				closed++
				if closed == conns {
					go b.Shutdown(ctx)
				}
			}
		}
	}()
	l, err := b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Idle: -1})
	if err != nil {
		t.Fatal(err)
	}
	data := burst(t, lines)
	var wg sync.WaitGroup
	for range conns {
		c := dialRcvBuf(ctx, t, listenAddr(l), 64<<10)
		wg.Go(func() {
			// The whole burst at once, racing the controller's arm; the
			// end of stream once the arm is done, so the connection is
			// still there for it. The Backend closes after reading all.
			c.Write(data)
			select {
			case <-armedChan(c.LocalAddr().(*net.TCPAddr).Port):
			case <-ctx.Done():
			}
			c.CloseWrite()
			io.Copy(io.Discard, c)
			c.Close()
		})
	}
	wg.Wait()
	select {
	case <-done:
	case <-ctx.Done():
		b.Close()
		<-done
		t.Fatalf("Backend did not finish: %v", ctx.Err())
	}
	exact, refused, lateEvent := 0, 0, 0
	for id, st := range states {
		switch {
		case st.armErr == nil && !st.late:
			exact++
			if st.n != lines || st.bad > 0 || !st.conn.Compressed() {
				t.Errorf("conn %d: arm succeeded but %d of %d lines arrived, %d InputErrors, Compressed() %v: a silent failure", id, st.n, lines, st.bad, st.conn.Compressed())
			}
		case st.armErr != nil:
			refused++
			if !errors.Is(st.armErr, ircsock.ErrArmedLate) || st.conn.Compressed() {
				t.Errorf("conn %d: arm error %v, Compressed() %v; want ErrArmedLate and false", id, st.armErr, st.conn.Compressed())
			}
		default:
			lateEvent++
			if st.conn.Compressed() {
				t.Errorf("conn %d: ErrArmedLate event but Compressed() = true", id)
			}
		}
	}
	if len(states) != conns {
		t.Errorf("%d connections opened, want %d", len(states), conns)
	}
	t.Logf("arms on ListenerOpen: %d exact, %d refused with ErrArmedLate, %d reported late by an event", exact, refused, lateEvent)
}

// TestBackendCompressInputAfterWebSocket: a WebSocket listener refuses the
// setting, as its connections refuse every zlib switch.
func TestBackendCompressInputAfterWebSocket(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	_, err := h.b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0", WebSocket: &ircsock.WebSocketConfig{}, CompressInputAfter: isServerLine})
	if !errors.Is(err, ircsock.ErrWebSocketCompression) {
		t.Errorf("CreateListener(WebSocket, CompressInputAfter) = %v, want ErrWebSocketCompression", err)
	}
	h.shutdown()
}
