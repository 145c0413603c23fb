package ircsock_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/sock"
)

// wsClient is a WebSocket client of the test (the library's own client
// side), reading in the test's goroutine with a bounded context.
type wsClient struct {
	t  *testing.T
	c  *websocket.Conn
	tc context.Context
}

func wsDial(t *testing.T, url string, opts *websocket.DialOptions) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	c, resp, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { c.CloseNow() })
	return &wsClient{t: t, c: c, tc: ctx}, resp, nil
}

func (w *wsClient) send(typ websocket.MessageType, s string) {
	w.t.Helper()
	if err := w.c.Write(w.tc, typ, []byte(s)); err != nil {
		w.t.Fatalf("websocket write %q: %v", s, err)
	}
}

func (w *wsClient) read() (websocket.MessageType, string) {
	w.t.Helper()
	typ, b, err := w.c.Read(w.tc)
	if err != nil {
		w.t.Fatalf("websocket read: %v", err)
	}
	return typ, string(b)
}

func wsURL(l *ircsock.Listener, scheme, path string) string {
	return fmt.Sprintf("%s://%s%s", scheme, listenAddr(l), path)
}

func TestWebSocketSubprotocols(t *testing.T) {
	cases := []struct {
		name     string
		offer    []string
		want     string
		wantType websocket.MessageType
	}{
		{"text", []string{ircsock.SubprotocolText}, ircsock.SubprotocolText, websocket.MessageText},
		{"binary", []string{ircsock.SubprotocolBinary}, ircsock.SubprotocolBinary, websocket.MessageBinary},
		{"client prefers binary", []string{ircsock.SubprotocolBinary, ircsock.SubprotocolText}, ircsock.SubprotocolBinary, websocket.MessageBinary},
		{"client prefers text", []string{"x.example", ircsock.SubprotocolText, ircsock.SubprotocolBinary}, ircsock.SubprotocolText, websocket.MessageText},
		{"none (legacy client): text", nil, "", websocket.MessageText},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ircsock.Config{})
			l := h.listen(ircsock.ListenerConfig{Idle: -1, WebSocket: &ircsock.WebSocketConfig{Path: "/irc"}})
			ws, _, err := wsDial(t, wsURL(l, "ws", "/irc"), &websocket.DialOptions{Subprotocols: tc.offer})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if got := ws.c.Subprotocol(); got != tc.want {
				t.Errorf("client sees subprotocol %q, want %q", got, tc.want)
			}
			conn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn
			if sp, ok := conn.WebSocket(); !ok || sp != tc.want {
				t.Errorf("Conn.WebSocket() = %q, %v, want %q, true", sp, ok, tc.want)
			}
			if !conn.Peer().Addr().IsLoopback() {
				t.Errorf("Conn.Peer() = %v, want the loopback client", conn.Peer())
			}

			// In: one line per message, text or binary whatever was agreed;
			// a trailing CR LF (against the spec, but sent by old clients)
			// does not make an empty line.
			ws.send(websocket.MessageText, "NICK alice")
			ws.send(websocket.MessageBinary, "USER a 0 * :Alice")
			ws.send(websocket.MessageText, "PING :crlf\r\n")
			got := h.inputs(conn.ID(), 3)
			for i, want := range []string{"NICK alice", "USER a 0 * :Alice", "PING crlf"} {
				if s := got[i].Command + " " + strings.Join(got[i].Params, " "); i != 1 && s != want {
					t.Errorf("input %d = %q, want %q", i, s, want)
				}
			}
			if got[1].Command != "USER" || got[1].Params[3] != "Alice" {
				t.Errorf("input 1 = %s %q, want USER with realname Alice", got[1].Command, got[1].Params)
			}

			// Out: one message per line, no CR LF, of the agreed type.
			h.send(msg("PRIVMSG", "alice", "héllo"), conn.ID())
			h.send(msg("PRIVMSG", "alice", "latin1 \xe9t\xe9"), conn.ID())
			typ, s := ws.read()
			if typ != tc.wantType || s != "PRIVMSG alice héllo" {
				t.Errorf("read %v %q, want %v %q", typ, s, tc.wantType, "PRIVMSG alice héllo")
			}
			typ, s = ws.read()
			want := "PRIVMSG alice :latin1 \xe9t\xe9"
			if tc.wantType == websocket.MessageText {
				want = "PRIVMSG alice :latin1 \uFFFDt\uFFFD" // never invalid text
			}
			if typ != tc.wantType || s != want {
				t.Errorf("read %v %q, want %v %q", typ, s, tc.wantType, want)
			}
		})
	}
}

func TestWebSocketRefusals(t *testing.T) {
	cases := []struct {
		name     string
		path     string
		origin   string
		origins  []string
		wantCode int
		wantErr  error
	}{
		{name: "wrong path", path: "/other", wantCode: http.StatusNotFound, wantErr: sock.ErrWebSocketPath},
		{name: "foreign origin", path: "/irc", origin: "https://evil.example", wantCode: http.StatusForbidden, wantErr: sock.ErrWebSocketOrigin},
		{name: "origin not in the list", path: "/irc", origin: "https://evil.example", origins: []string{"https://good.example"}, wantCode: http.StatusForbidden, wantErr: sock.ErrWebSocketOrigin},
		{name: "allowed origin", path: "/irc", origin: "https://good.example", origins: []string{"https://good.example"}},
		{name: "allowed origin pattern", path: "/irc", origin: "https://web.good.example", origins: []string{"*.good.example"}},
		{name: "any origin", path: "/irc", origin: "http://127.0.0.9:1234", origins: []string{"*"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ircsock.Config{})
			l := h.listen(ircsock.ListenerConfig{Idle: -1, WebSocket: &ircsock.WebSocketConfig{Path: "/irc", Origins: tc.origins}})
			opts := &websocket.DialOptions{Subprotocols: []string{ircsock.SubprotocolText}}
			if tc.origin != "" {
				opts.HTTPHeader = http.Header{"Origin": {tc.origin}}
			}
			_, resp, err := wsDial(t, wsURL(l, "ws", tc.path), opts)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("dial: %v, want success", err)
				}
				waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true })
				return
			}
			if err == nil {
				t.Fatalf("dial succeeded, want HTTP %d", tc.wantCode)
			}
			if resp == nil || resp.StatusCode != tc.wantCode {
				t.Errorf("dial error %v, response %v, want HTTP %d", err, resp, tc.wantCode)
			}
			ev := waitEvent(h, "ListenerFailure websocket", func(e ircsock.ListenerFailure) bool { return e.Op == "websocket" })
			if !errors.Is(ev.Err, tc.wantErr) {
				t.Errorf("ListenerFailure.Err = %v, want %v", ev.Err, tc.wantErr)
			}
		})
	}
}

func TestWebSocketLikeTCP(t *testing.T) {
	t.Run("invalid UTF-8 in a text message closes with 1007", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		l := h.listen(ircsock.ListenerConfig{Idle: -1, WebSocket: &ircsock.WebSocketConfig{}})
		ws, _, err := wsDial(t, wsURL(l, "ws", "/"), &websocket.DialOptions{Subprotocols: []string{ircsock.SubprotocolText}})
		if err != nil {
			t.Fatal(err)
		}
		conn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn
		ws.send(websocket.MessageText, "PRIVMSG #a :\xff\xfe")
		_, _, err = ws.c.Read(ws.tc)
		if got := websocket.CloseStatus(err); got != websocket.StatusInvalidFramePayloadData {
			t.Errorf("client read error %v (status %d), want status 1007", err, got)
		}
		d := waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](conn.ID()))
		if !errors.Is(d.Err, sock.ErrWebSocketUTF8) {
			t.Errorf("Disconnect.Err = %v, want %v", d.Err, sock.ErrWebSocketUTF8)
		}
	})
	t.Run("line too long is a per-record error", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{MaxLine: 100})
		l := h.listen(ircsock.ListenerConfig{Idle: -1, WebSocket: &ircsock.WebSocketConfig{}})
		ws, _, err := wsDial(t, wsURL(l, "ws", "/"), &websocket.DialOptions{Subprotocols: []string{ircsock.SubprotocolBinary}})
		if err != nil {
			t.Fatal(err)
		}
		conn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn
		ws.send(websocket.MessageBinary, "PRIVMSG #a :"+strings.Repeat("x", 5000))
		ws.send(websocket.MessageBinary, "PING after")
		ie := waitEvent(h, "InputError", forConn[ircsock.InputError](conn.ID()))
		if !errors.Is(ie.Err, filter.ErrLineTooLong) {
			t.Errorf("InputError.Err = %v, want %v", ie.Err, filter.ErrLineTooLong)
		}
		if m := h.inputs(conn.ID(), 1)[0]; m.Command != "PING" {
			t.Errorf("next input %s, want PING", m.Command)
		}
	})
	t.Run("idle events", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		l := h.listen(ircsock.ListenerConfig{Idle: 50 * time.Millisecond, WebSocket: &ircsock.WebSocketConfig{}})
		if _, _, err := wsDial(t, wsURL(l, "ws", "/"), nil); err != nil {
			t.Fatal(err)
		}
		conn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn
		waitEvent(h, "ConnectionIdle", forConn[ircsock.ConnectionIdle](conn.ID()))
	})
	t.Run("ping answered", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		l := h.listen(ircsock.ListenerConfig{Idle: -1, WebSocket: &ircsock.WebSocketConfig{}})
		ws, _, err := wsDial(t, wsURL(l, "ws", "/"), nil)
		if err != nil {
			t.Fatal(err)
		}
		waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true })
		// The client's pong arrives through a read of its own.
		ws.c.CloseRead(ws.tc)
		if err := ws.c.Ping(ws.tc); err != nil {
			t.Errorf("Ping: %v, want the server's pong", err)
		}
	})
	t.Run("disconnect flushes, then a close frame", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		l := h.listen(ircsock.ListenerConfig{Idle: -1, WebSocket: &ircsock.WebSocketConfig{}})
		ws, _, err := wsDial(t, wsURL(l, "ws", "/"), &websocket.DialOptions{Subprotocols: []string{ircsock.SubprotocolText}})
		if err != nil {
			t.Fatal(err)
		}
		conn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn
		for i := range 100 {
			h.send(msg("NOTICE", "x", numbered("n", i)), conn.ID())
		}
		h.send(msg("ERROR", "Closing Link: bye"), conn.ID())
		if err := h.b.Disconnect(conn.ID(), "bye"); err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			if _, s := ws.read(); s != "NOTICE x "+numbered("n", i) {
				t.Fatalf("message %d = %q, want NOTICE %s", i, s, numbered("n", i))
			}
		}
		if _, s := ws.read(); s != "ERROR :Closing Link: bye" {
			t.Errorf("last message %q, want the ERROR", s)
		}
		_, _, err = ws.c.Read(ws.tc)
		if got := websocket.CloseStatus(err); got != websocket.StatusNormalClosure {
			t.Errorf("after the ERROR: %v (status %d), want a close frame with 1000", err, got)
		}
		d := waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](conn.ID()))
		if d.Reason != "bye" || d.Err != nil {
			t.Errorf("Disconnect = %q, %v, want \"bye\", nil", d.Reason, d.Err)
		}
	})
	t.Run("client close is a clean disconnect", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		l := h.listen(ircsock.ListenerConfig{Idle: -1, WebSocket: &ircsock.WebSocketConfig{}})
		ws, _, err := wsDial(t, wsURL(l, "ws", "/"), nil)
		if err != nil {
			t.Fatal(err)
		}
		conn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn
		ws.send(websocket.MessageText, "QUIT :bye")
		if m := h.inputs(conn.ID(), 1)[0]; m.Command != "QUIT" {
			t.Errorf("input %s, want QUIT", m.Command)
		}
		if err := ws.c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Errorf("client Close: %v", err)
		}
		d := waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](conn.ID()))
		if d.Reason != sock.ReasonPeerClosed || d.Err != nil {
			t.Errorf("Disconnect = %q, %v, want %q, nil", d.Reason, d.Err, sock.ReasonPeerClosed)
		}
	})
	t.Run("zlib refused", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		l := h.listen(ircsock.ListenerConfig{Idle: -1, WebSocket: &ircsock.WebSocketConfig{}})
		if _, _, err := wsDial(t, wsURL(l, "ws", "/"), nil); err != nil {
			t.Fatal(err)
		}
		conn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn
		if err := h.b.SetCompressedLink(conn.ID()); !errors.Is(err, ircsock.ErrWebSocketCompression) {
			t.Errorf("SetCompressedLink = %v, want %v", err, ircsock.ErrWebSocketCompression)
		}
	})
	t.Run("over TLS", func(t *testing.T) {
		p := pki()
		h := newHarness(t, ircsock.Config{})
		l := h.listen(ircsock.ListenerConfig{Idle: -1, WebSocket: &ircsock.WebSocketConfig{Path: "/irc"},
			TLS: &tls.Config{Certificates: []tls.Certificate{p.server}}})
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool}}}
		t.Cleanup(client.CloseIdleConnections)
		ws, _, err := wsDial(t, wsURL(l, "wss", "/irc"), &websocket.DialOptions{HTTPClient: client, Subprotocols: []string{ircsock.SubprotocolText}})
		if err != nil {
			t.Fatal(err)
		}
		conn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn
		if st := conn.TLS(); st == nil || !st.HandshakeComplete {
			t.Errorf("Conn.TLS() = %v, want the TLS state under the WebSocket", st)
		}
		ws.send(websocket.MessageText, "PING secure")
		if m := h.inputs(conn.ID(), 1)[0]; m.Command != "PING" || m.Params[0] != "secure" {
			t.Errorf("input %s %q, want PING secure", m.Command, m.Params)
		}
	})
}

func TestWebSocketUpgradeLimits(t *testing.T) {
	cases := []struct {
		name   string
		send   string
		want   error
		inText string // in the error's text
		reply  string // start of the HTTP reply, "" for none
	}{
		{name: "silent client", want: os.ErrDeadlineExceeded},
		{name: "request over MaxRequest", send: "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 20000) + "\r\n\r\n", want: sock.ErrWebSocketRequest, inText: "MaxRequest"},
		{name: "plain HTTP, no upgrade", send: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", want: sock.ErrWebSocketRequest, reply: "HTTP/1.1 426 "},
		{name: "not HTTP", send: "NICK alice\r\nUSER a 0 * :A\r\n\r\n", want: sock.ErrWebSocketRequest, reply: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ircsock.Config{HandshakeTimeout: 200 * time.Millisecond})
			l := h.listen(ircsock.ListenerConfig{Idle: -1, WebSocket: &ircsock.WebSocketConfig{MaxRequest: 4096}})
			c := dialRaw(t, h, listenAddr(l))
			if tc.send != "" {
				_, _ = io.WriteString(c, tc.send) // a refusal may come before all is written
			}
			ev := waitEvent(h, "ListenerFailure websocket", func(e ircsock.ListenerFailure) bool { return e.Op == sock.OpWebSocket })
			if !errors.Is(ev.Err, tc.want) || !strings.Contains(ev.Err.Error(), tc.inText) {
				t.Errorf("ListenerFailure.Err = %v, want %v mentioning %q", ev.Err, tc.want, tc.inText)
			}
			reply, _ := io.ReadAll(c.r) // the listener closed the connection
			if !strings.HasPrefix(string(reply), tc.reply) {
				t.Errorf("reply %q, want it to start with %q", reply, tc.reply)
			}
			if len(eventsOf(h, func(ircsock.ListenerOpen) bool { return true })) != 0 {
				t.Errorf("a refused upgrade was opened as a connection")
			}
		})
	}
}

func TestWebSocketSendQ(t *testing.T) {
	h := newHarness(t, ircsock.Config{MaxSendQ: 64 << 10})
	l := h.listen(ircsock.ListenerConfig{Idle: -1, WebSocket: &ircsock.WebSocketConfig{}})
	// A client that reads nothing through a small receive buffer.
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	t.Cleanup(client.CloseIdleConnections)
	if _, _, err := wsDial(t, wsURL(l, "ws", "/"), &websocket.DialOptions{HTTPClient: client, Subprotocols: []string{ircsock.SubprotocolBinary}}); err != nil {
		t.Fatal(err)
	}
	conn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn
	line := msg("PRIVMSG", "x", strings.Repeat("y", 400))
	// 64k sends of 400 bytes bound the loop; the kernel's buffers and 64 KiB of queue
	// are full long before.
	var err error
	for i := 0; i < 64<<10 && err == nil; i++ {
		err = h.b.Send(line, conn.ID())
	}
	if !errors.Is(err, sock.ErrSendQExceeded) {
		t.Errorf("Send = %v, want %v in the end", err, sock.ErrSendQExceeded)
	}
	ev := waitEvent(h, "Disconnect", forConn[ircsock.Disconnect](conn.ID()))
	if ev.Reason != ircsock.ReasonSendQ || !errors.Is(ev.Err, sock.ErrSendQExceeded) {
		t.Errorf("Disconnect = %q, %v, want %q, %v", ev.Reason, ev.Err, ircsock.ReasonSendQ, sock.ErrSendQExceeded)
	}
}

// TestWebSocketBehindProxy checks that a WebSocket connection through a
// trusted PROXY protocol proxy has the client's address from the header.
func TestWebSocketBehindProxy(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1, WebSocket: &ircsock.WebSocketConfig{},
		ProxyFrom: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	var d net.Dialer
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		// What HAProxy's send-proxy puts first on its connection.
		if _, err := io.WriteString(c, "PROXY TCP6 2001:db8::7 2001:db8::1 40000 443\r\n"); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}}}
	t.Cleanup(client.CloseIdleConnections)
	ws, _, err := wsDial(t, wsURL(l, "ws", "/"), &websocket.DialOptions{HTTPClient: client, Subprotocols: []string{ircsock.SubprotocolText}})
	if err != nil {
		t.Fatal(err)
	}
	conn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn
	if got, want := conn.Peer(), netip.MustParseAddrPort("[2001:db8::7]:40000"); got != want {
		t.Errorf("Conn.Peer() = %v, want %v from the PROXY header", got, want)
	}
	ws.send(websocket.MessageText, "PING proxied")
	if m := h.inputs(conn.ID(), 1)[0]; m.Command != "PING" {
		t.Errorf("input %s, want PING", m.Command)
	}
}
