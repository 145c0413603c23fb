package ircd

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// chromiumBin is Debian's chromium-headless-shell binary (the package's
// wrapper script execs it; running it directly gives a pid to stop).
const chromiumBin = "/usr/lib/chromium/chromium-headless-shell"

// requireChromium returns the browser binary; under CI=true its absence
// fails the test, elsewhere it skips with a message.
func requireChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumBin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %s is missing (apt-get install chromium-headless-shell): %v", chromiumBin, err)
		}
		t.Skipf("skipped: %s is missing (apt-get install chromium-headless-shell): %v", chromiumBin, err)
	}
	return chromiumBin
}

// browserPage connects to the IRC server over WebSocket with the
// subprotocol given in the query, registers, joins #web, says hello, waits
// for the TCP client's answer and posts what it saw to /result. Lines are
// sent and read one per message, without CR LF.
const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>ircsock websocket</title></head><body><script>
const q = new URLSearchParams(location.search);
const proto = q.get("proto");
const seen = [];
let bytesE9 = false;
let done = false;
function report(ok, why) {
  if (done) return;
  done = true;
  fetch("/result", {method: "POST", body: JSON.stringify({
    ok: ok, why: why, protocol: ws.protocol, seen: seen, bytesE9: bytesE9})});
}
const ws = new WebSocket(q.get("ws"), [proto]);
ws.binaryType = "arraybuffer";
function send(line) {
  if (proto === "binary.ircv3.net") ws.send(new TextEncoder().encode(line));
  else ws.send(line);
}
ws.onopen = () => { send("NICK " + q.get("nick")); send("USER web 0 * :Web Browser"); };
ws.onerror = () => report(false, "websocket error");
ws.onclose = (e) => report(false, "closed: " + e.code + " " + e.reason);
ws.onmessage = (e) => {
  let line;
  if (typeof e.data === "string") {
    line = e.data;
  } else {
    const b = new Uint8Array(e.data);
    if (b.includes(0xe9)) bytesE9 = true;
    line = new TextDecoder("utf-8").decode(b);
  }
  seen.push((typeof e.data === "string" ? "text " : "binary ") + line);
  if (line.endsWith("\r") || line.endsWith("\n")) { report(false, "line ends with CR or LF: " + JSON.stringify(line)); return; }
  const f = line.split(" ");
  if (f[0] === "PING") { send("PONG " + f.slice(1).join(" ")); return; }
  if (f[1] === "001") send("JOIN #web");
  if (f[1] === "366") send("PRIVMSG #web :hello from the browser é");
  if (f[1] === "PRIVMSG" && line.includes("latin1")) report(true, "");
};
setTimeout(() => report(false, "timeout"), 25000);
</script></body></html>`

type pageResult struct {
	OK       bool     `json:"ok"`
	Why      string   `json:"why"`
	Protocol string   `json:"protocol"`
	Seen     []string `json:"seen"`
	BytesE9  bool     `json:"bytesE9"`
}

// browser is a headless Chromium showing one page.
type browser struct {
	pid    int
	exited chan error
	log    *lockedBuffer
}

// startBrowser starts headless Chromium on url; the test's cleanup stops
// it by its pid.
func startBrowser(t *testing.T, bin, url string) *browser {
	t.Helper()
	dir := t.TempDir()
	br := &browser{exited: make(chan error, 1), log: new(lockedBuffer)}
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		"--disable-gpu", "--disable-extensions", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-default-browser-check",
		// Anything not on loopback goes to a dead proxy: the test sends
		// nothing off this machine.
		"--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
		url)
	cmd.Stdout, cmd.Stderr = br.log, br.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	br.pid = cmd.Process.Pid
	waited := make(chan struct{})
	go func() {
		br.exited <- cmd.Wait()
		close(waited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-waited:
		case <-time.After(testTimeout):
			t.Errorf("chromium (pid %d) did not exit within %v of SIGKILL", br.pid, testTimeout)
		}
	})
	return br
}

// result waits for the page's report.
func (br *browser) result(t *testing.T, results <-chan pageResult) pageResult {
	t.Helper()
	select {
	case r := <-results:
		return r
	case err := <-br.exited:
		t.Fatalf("chromium exited before the page reported: %v\n%s", err, br.log.String())
	case <-time.After(3 * testTimeout):
		t.Fatalf("no report from the page within %v\n%s", 3*testTimeout, br.log.String())
	}
	return pageResult{}
}

// stop kills the browser now and waits for it to exit.
func (br *browser) stop(t *testing.T) {
	t.Helper()
	if p, err := os.FindProcess(br.pid); err == nil {
		_ = p.Kill()
	}
	select {
	case <-br.exited:
	case <-time.After(testTimeout):
		t.Fatalf("chromium (pid %d) did not exit within %v of SIGKILL", br.pid, testTimeout)
	}
}

// TestServeWebSocketBrowser has a real browser talk to serve over
// WebSocket, text and binary subprotocols, with a plain TCP client of the
// same server on the other end of a channel.
func TestServeWebSocketBrowser(t *testing.T) {
	bin := requireChromium(t)

	var mu sync.Mutex
	results := make(chan pageResult, 1)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, browserPage)
		case "/result":
			var res pageResult
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err := json.Unmarshal(body, &res); err != nil {
				res = pageResult{Why: fmt.Sprintf("bad report %q: %v", body, err)}
			}
			mu.Lock()
			select {
			case results <- res:
			default:
			}
			mu.Unlock()
		default:
			http.NotFound(w, r)
		}
	}))
	defer page.Close()

	srv := startServer(t, Config{
		WebSocketListen:  "127.0.0.1:0",
		WebSocketPath:    "/webirc",
		WebSocketOrigins: []string{page.URL}, // the page's origin, another port
	})
	tcp := dialPlain(t, srv, "tcp")
	tcp.register("tcpuser")
	tcp.send("JOIN #web")
	tcp.waitFor("366")

	for _, tc := range []struct {
		proto, nick string
	}{
		{"text.ircv3.net", "webtext"},
		{"binary.ircv3.net", "webbin"},
	} {
		t.Run(tc.proto, func(t *testing.T) {
			wsURL := "ws://" + srv.WebSocketAddr().String() + "/webirc"
			url := page.URL + "/?proto=" + tc.proto + "&nick=" + tc.nick + "&ws=" + wsURL
			// The TCP client's first read waits for a browser to start,
			// which takes longer than a reply from serve.
			tcp.timeout = 3 * testTimeout
			br := startBrowser(t, bin, url)

			// Browser to TCP, then TCP to browser: a UTF-8 line and one
			// with a Latin-1 byte that is not valid UTF-8.
			_, line := tcp.waitFor("PRIVMSG", tc.nick+"!", "#web", "hello from the browser é")
			if !strings.Contains(line, "@127.0.0.1") {
				t.Errorf("browser's message %q, want its source host 127.0.0.1", line)
			}
			tcp.send("PRIVMSG #web :hello from tcp ü", "PRIVMSG #web :latin1 \xe9t\xe9")
			r := br.result(t, results)
			if !r.OK {
				t.Fatalf("page reported failure: %s; saw %q", r.Why, r.Seen)
			}
			if r.Protocol != tc.proto {
				t.Errorf("page's WebSocket.protocol = %q, want %q", r.Protocol, tc.proto)
			}
			var sawHello, sawLatin bool
			kind := "text "
			if tc.proto == "binary.ircv3.net" {
				kind = "binary "
			}
			for _, s := range r.Seen {
				if !strings.HasPrefix(s, kind) {
					t.Errorf("page got %q, want only %smessages", s, kind)
				}
				sawHello = sawHello || strings.Contains(s, ":tcpuser!") && strings.HasSuffix(s, "PRIVMSG #web :hello from tcp ü")
				if strings.Contains(s, "latin1") {
					sawLatin = true
					if tc.proto == "text.ircv3.net" && !strings.HasSuffix(s, "latin1 \uFFFDt\uFFFD") {
						t.Errorf("text page got %q, want the invalid bytes as U+FFFD", s)
					}
				}
			}
			if !sawHello || !sawLatin {
				t.Errorf("page saw %q, want the TCP client's two messages", r.Seen)
			}
			if tc.proto == "binary.ircv3.net" && !r.BytesE9 {
				t.Errorf("binary page did not get the raw byte 0xE9")
			}
			if tc.proto == "text.ircv3.net" && r.BytesE9 {
				t.Errorf("text page got a raw 0xE9")
			}
			br.stop(t)
			tcp.waitFor("QUIT", tc.nick+"!") // the browser is gone, and so is its user
		})
	}
}
