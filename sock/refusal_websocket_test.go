package sock

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsDialFrom opens a WebSocket to url from the loopback address from,
// with coder/websocket's client over net/http, as a program would.
func wsDialFrom(t *testing.T, url, from string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	tr := &http.Transport{
		DialContext:     (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}
	t.Cleanup(tr.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if ws != nil {
		t.Cleanup(func() { ws.CloseNow() })
	}
	return ws, resp, err
}

// want503 checks a refused upgrade's answer: 503, the refusal as text
// naming limit, and Retry-After within [minRetry, maxRetry] seconds, or
// none when maxRetry is zero.
func want503(t *testing.T, resp *http.Response, err error, limit string, minRetry, maxRetry int) {
	t.Helper()
	if err == nil {
		t.Fatal("upgrade accepted, want it refused with 503")
	}
	if resp == nil {
		t.Fatalf("upgrade failed without a response: %v, want a 503", err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", resp.StatusCode)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), limit) {
		t.Errorf("body %q, want it to name %s", body, limit)
	}
	ra := resp.Header.Get("Retry-After")
	if maxRetry == 0 {
		if ra != "" {
			t.Errorf("Retry-After: %s, want none (the limit does not know when)", ra)
		}
		return
	}
	if n, err := strconv.Atoi(ra); err != nil || n < minRetry || n > maxRetry {
		t.Errorf("Retry-After: %q, want %d to %d seconds", ra, minRetry, maxRetry)
	}
}

// TestListenWebSocketRefusal checks that a WebSocket client refused by a
// limit is answered with HTTP 503, with Retry-After when the throttle
// knows when to come back, over ws:// and wss://, and that the listener
// counts each refusal by its limit.
func TestListenWebSocketRefusal(t *testing.T) {
	cert := selfSignedCert(t)
	for _, tc := range []struct {
		name, scheme string
		tls          *tls.Config
	}{
		{"ws", "ws", nil},
		{"wss", "wss", &tls.Config{Certificates: []tls.Certificate{cert}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, h := proxyListener(t, ListenConfig{
				TLS:           tc.tls,
				WebSocket:     &WebSocketConfig{Path: "/webirc"},
				MaxConnsPerIP: 1,
				Throttle:      Throttle{Conns: 2, Window: time.Hour, Ban: time.Hour},
			})
			url := tc.scheme + "://" + l.Addr().String() + "/webirc"
			if _, _, err := wsDialFrom(t, url, "127.0.0.2"); err != nil {
				t.Fatalf("first upgrade: %v", err)
			}
			waitConn(t, h)
			// The second from 127.0.0.2 is within the rate but over
			// MaxConnsPerIP, which does not know when to come back.
			_, resp, err := wsDialFrom(t, url, "127.0.0.2")
			waitFail(t, h, ErrMaxConnsPerIP)
			want503(t, resp, err, "MaxConnsPerIP=1", 0, 0)
			// The third is over the rate: banned for an hour.
			_, resp, err = wsDialFrom(t, url, "127.0.0.2")
			waitFail(t, h, ErrThrottled)
			want503(t, resp, err, "Throttle=2 per 1h0m0s", 3590, 3600)
			// Another address is not affected.
			if _, _, err := wsDialFrom(t, url, "127.0.0.3"); err != nil {
				t.Fatalf("upgrade from another address: %v", err)
			}
			waitConn(t, h)
			got := l.Refusals()
			if want := (Refusals{MaxConnsPerIP: 1, Throttled: 1}); got != want || got.Total() != 2 {
				t.Errorf("Refusals() = %+v (total %d), want %+v (total 2)", got, got.Total(), want)
			}
		})
	}
}

// TestListenWebSocketRefusalNoLinger: with RefuseLinger negative there is
// no time to read the request, so the refused client is closed without
// an answer and the event says the 503 was not sent.
func TestListenWebSocketRefusalNoLinger(t *testing.T) {
	l, h := proxyListener(t, ListenConfig{WebSocket: &WebSocketConfig{}, MaxConns: 1, RefuseLinger: -1})
	url := "ws://" + l.Addr().String() + "/"
	if _, _, err := wsDialFrom(t, url, "127.0.0.2"); err != nil {
		t.Fatalf("first upgrade: %v", err)
	}
	waitConn(t, h)
	_, resp, err := wsDialFrom(t, url, "127.0.0.2")
	ferr := waitFail(t, h, ErrMaxConns)
	if err == nil || (resp != nil && resp.StatusCode == http.StatusServiceUnavailable) {
		t.Errorf("refused upgrade = %v, %v; want it closed without an answer", resp, err)
	}
	if !strings.Contains(ferr.Error(), "HTTP 503 not sent") {
		t.Errorf("Failed(%v), want it to say the 503 was not sent", ferr)
	}
	if got := l.Refusals(); got.MaxConns != 1 {
		t.Errorf("Refusals().MaxConns = %d, want 1", got.MaxConns)
	}
}

// TestHTTPRefusal checks the answer's bytes: Retry-After rounded up to
// whole seconds, never below 1, and none without a known time.
func TestHTTPRefusal(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, tc := range []struct {
		name  string
		until time.Time
		want  string
	}{
		{"no time", time.Time{}, ""},
		{"whole", now.Add(60 * time.Second), "Retry-After: 60\r\n"},
		{"rounded up", now.Add(1500 * time.Millisecond), "Retry-After: 2\r\n"},
		{"past", now.Add(-time.Second), "Retry-After: 1\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := string(httpRefusal(&LimitError{Err: ErrThrottled, Limit: "Throttle=1 per 1s", Until: tc.until}, now))
			if !strings.HasPrefix(b, "HTTP/1.1 503 Service Unavailable\r\n") {
				t.Errorf("answer %q, want a 503 status line", b)
			}
			if got := strings.Contains(b, "Retry-After"); got != (tc.want != "") || !strings.Contains(b, tc.want) {
				t.Errorf("answer %q, want Retry-After %q", b, tc.want)
			}
		})
	}
	if b := string(httpRefusal(errors.New("x"), now)); strings.Contains(b, "Retry-After") {
		t.Errorf("answer to a plain error %q has a Retry-After", b)
	}
}
