package sock

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"
	"unicode/utf8"
)

// checkPieces feeds b to a utf8Stream cut at the given offsets.
func checkPieces(b []byte, cuts []int) bool {
	var v utf8Stream
	prev := 0
	for _, c := range cuts {
		if c < prev || c > len(b) {
			continue
		}
		if !v.feed(b[prev:c]) {
			return false
		}
		prev = c
	}
	return v.feed(b[prev:]) && v.complete()
}

func TestUTF8Stream(t *testing.T) {
	cases := []struct {
		name string
		in   string
	}{
		{"ascii", "PRIVMSG #a :hello"},
		{"two-byte", "héllo"},
		{"three-byte", "€uro"},
		{"four-byte", "emoji 😀 end"},
		{"invalid byte", "bad \xff here"},
		{"cut sequence at end", "cut \xe2\x82"},
		{"overlong", "\xc0\xaf"},
		{"surrogate", "\xed\xa0\x80"},
		{"lone continuation", "\x80abc"},
		{"empty", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.in)
			want := utf8.Valid(b)
			for i := 0; i <= len(b); i++ {
				for j := i; j <= len(b); j++ {
					if got := checkPieces(b, []int{i, j}); got != want {
						t.Fatalf("%q cut at %d and %d: valid = %v, want %v", tc.in, i, j, got, want)
					}
				}
			}
		})
	}
}

// FuzzUTF8Stream checks that validating a message in pieces agrees with
// utf8.Valid on the whole, wherever it is cut.
func FuzzUTF8Stream(f *testing.F) {
	f.Add([]byte("héllo 😀"), uint8(3), uint8(7))
	f.Add([]byte("\xf0\x9f\x98"), uint8(1), uint8(2))
	f.Add([]byte("a\xffb"), uint8(0), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, c1, c2 uint8) {
		i, j := int(c1), int(c2)
		if i > j {
			i, j = j, i
		}
		if got, want := checkPieces(b, []int{min(i, len(b)), min(j, len(b))}), utf8.Valid(b); got != want {
			t.Fatalf("%q cut at %d, %d: valid = %v, want %v", b, i, j, got, want)
		}
	})
}

// FuzzWebSocketUpgrade feeds arbitrary bytes to the upgrade handling as a
// client's request: it must end, with a connection or an error, without
// panicking, and a refusal must be one of the documented errors.
func FuzzWebSocketUpgrade(f *testing.F) {
	f.Add([]byte("GET /irc HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: binary.ircv3.net, text.ircv3.net\r\nOrigin: https://good.example\r\n\r\n"))
	f.Add([]byte("GET /irc HTTP/1.1\r\nHost: a\r\nOrigin: ::bad\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("NICK a\r\n"))
	cfg := &WebSocketConfig{Path: "/irc", Origins: []string{"*.good.example", "https://[::1"},
		TextSubprotocols: []string{"text.ircv3.net"}, BinarySubprotocols: []string{"binary.ircv3.net"}, MaxRequest: 2048}
	f.Fuzz(func(t *testing.T, req []byte) {
		wc, err := upgradeWebSocket(nil, &scriptConn{r: bytes.NewReader(req)}, cfg, time.Second)
		if err != nil {
			if !errors.Is(err, ErrWebSocketRequest) && !errors.Is(err, ErrWebSocketPath) && !errors.Is(err, ErrWebSocketOrigin) {
				t.Fatalf("upgrade error %v is none of the documented ones", err)
			}
			return
		}
		_ = wc.Close()
	})
}

// scriptConn is the fuzz target's client: it reads a fixed request, then
// end of stream, and discards what it is sent.
type scriptConn struct{ r *bytes.Reader }

func (c *scriptConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *scriptConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *scriptConn) Close() error                { return nil }
func (c *scriptConn) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 1234}
}
func (c *scriptConn) SetDeadline(t time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(t time.Time) error { return nil }
