package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// startServe runs the built binary's serve with args, stops it by its pid
// when the test ends, and returns its log watcher and the deadline of
// the test's steps.
func startServe(t *testing.T, args ...string) (*logWatcher, <-chan time.Time) {
	t.Helper()
	bin := buildBinary(t)
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	stderr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stderr.Close() })
	cmd.Stderr = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	waited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(waited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-waited:
		case <-time.After(testTimeout):
			t.Errorf("serve (pid %d) did not exit within %v of SIGKILL", cmd.Process.Pid, testTimeout)
		}
	})
	return watchLog(stderr), time.After(testTimeout)
}

// TestServeProxyFromFlag checks that -proxy-from makes serve take the
// client address from a PROXY header sent by a trusted address.
func TestServeProxyFromFlag(t *testing.T) {
	logw, deadline := startServe(t, "-listen", "127.0.0.1:0", "-proxy-from", "127.0.0.1,::1/128")
	addr := logw.waitLine(t, listeningRE, deadline)[1]
	c := dial(t, addr, nil)
	c.send("PROXY TCP4 192.0.2.9 127.0.0.1 5000 6667", "NICK proxied", "USER p 0 * :P")
	c.waitFor(" 001 proxied ")
	c.send("WHOIS proxied")
	c.waitFor(" 311 proxied proxied p 192.0.2.9 ")
	// The log names the client by the proxied address too.
	logw.waitLine(t, regexp.MustCompile(`msg=registered .*host=192\.0\.2\.9`), deadline)
}

// TestServeProxyOptionalFlag checks -proxy-optional: with it, a trusted
// address may connect without a PROXY header and keeps its own address,
// while v1 and v2 headers still name the client; without it, such a
// connection is refused.
func TestServeProxyOptionalFlag(t *testing.T) {
	// A PROXY v2 header for TCP over IPv4 from 192.0.2.10:5000 to
	// 127.0.0.1:6667.
	v2 := append([]byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c"),
		192, 0, 2, 10, 127, 0, 0, 1, 0x13, 0x88, 0x1a, 0x0b)
	for _, tc := range []struct {
		name     string
		optional bool
	}{{"with", true}, {"without", false}} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"-listen", "127.0.0.1:0", "-proxy-from", "127.0.0.1", "-log-level", "debug"}
			if tc.optional {
				args = append(args, "-proxy-optional")
			}
			logw, deadline := startServe(t, args...)
			addr := logw.waitLine(t, listeningRE, deadline)[1]

			c1 := dial(t, addr, nil)
			c1.send("PROXY TCP4 192.0.2.9 127.0.0.1 5000 6667", "NICK one", "USER o 0 * :One")
			c1.waitFor(" 001 one ")
			c1.send("WHOIS one")
			c1.waitFor(" 311 one one o 192.0.2.9 ")

			c2 := dial(t, addr, nil)
			if _, err := c2.conn.Write(v2); err != nil {
				t.Fatal(err)
			}
			c2.send("NICK two", "USER t 0 * :Two")
			c2.waitFor(" 001 two ")
			c2.send("WHOIS two")
			c2.waitFor(" 311 two two t 192.0.2.10 ")

			bare := dial(t, addr, nil)
			if !tc.optional {
				// One write, its error ignored: the refusal may reset
				// the connection before it.
				_, _ = io.WriteString(bare.conn, "NICK bare\r\nUSER b 0 * :Bare\r\n")
				logw.waitLine(t, regexp.MustCompile(`listener failure" op=proxy .*no PROXY protocol header`), deadline)
				if err := bare.conn.SetReadDeadline(time.Now().Add(testTimeout)); err != nil {
					t.Fatal(err)
				}
				if line, err := bare.r.ReadString('\n'); err == nil {
					t.Errorf("a trusted address without a header read %q, want the connection closed", line)
				}
				return
			}
			bare.send("NICK bare", "USER b 0 * :Bare")
			bare.waitFor(" 001 bare ")
			bare.send("WHOIS bare")
			bare.waitFor(" 311 bare bare b 127.0.0.1 ")
		})
	}
}

// TestServeShareLimitsFlag checks -share-limits on the built binary with
// a plain and a WebSocket listener: a client's plain connection counts
// against -max-conns-per-ip on the WebSocket listener, whose refusal is
// an HTTP 503 the WebSocket client reads.
func TestServeShareLimitsFlag(t *testing.T) {
	logw, deadline := startServe(t, "-listen", "127.0.0.1:0", "-ws-listen", "127.0.0.1:0",
		"-max-conns-per-ip", "1", "-share-limits")
	addrs := map[bool]string{}
	for range 2 {
		m := logw.waitLine(t, regexp.MustCompile(`msg=listening addr=(\S+) tls=false( websocket=/)?`), deadline)
		addrs[m[2] != ""] = m[1]
	}
	c := dial(t, addrs[false], nil)
	c.send("PING :in")
	c.waitFor("PONG")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "ws://"+addrs[true]+"/", nil)
	if err == nil {
		ws.CloseNow()
		t.Fatal("WebSocket upgrade accepted beside the plain connection, want it refused by the shared MaxConnsPerIP=1")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("refused WebSocket upgrade: %v, %v; want a 503", resp, err)
	}
	if body, _ := io.ReadAll(resp.Body); !strings.Contains(string(body), "MaxConnsPerIP=1") {
		t.Errorf("503 body %q, want it to name MaxConnsPerIP=1", body)
	}
}

// TestServeWebSocketFlags checks -ws-listen and -ws-path on the built
// binary: a WebSocket client registers with the text subprotocol.
func TestServeWebSocketFlags(t *testing.T) {
	logw, deadline := startServe(t, "-listen", "none", "-ws-listen", "127.0.0.1:0", "-ws-path", "/webirc")
	m := logw.waitLine(t, regexp.MustCompile(`msg=listening addr=(\S+) tls=false websocket=/webirc`), deadline)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+m[1]+"/webirc", &websocket.DialOptions{Subprotocols: []string{"text.ircv3.net"}})
	if err != nil {
		t.Fatalf("websocket dial: %v", err)
	}
	defer ws.CloseNow()
	for _, line := range []string{"NICK webby", "USER w 0 * :Web"} {
		if err := ws.Write(ctx, websocket.MessageText, []byte(line)); err != nil {
			t.Fatalf("write %q: %v", line, err)
		}
	}
	for {
		typ, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for 001: %v", err)
		}
		if typ != websocket.MessageText || strings.HasSuffix(string(b), "\n") {
			t.Fatalf("got %v %q, want text messages without line ends", typ, b)
		}
		if strings.Contains(string(b), " 001 webby ") {
			break
		}
	}
}
