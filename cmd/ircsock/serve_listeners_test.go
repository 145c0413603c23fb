package main

import (
	"context"
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
