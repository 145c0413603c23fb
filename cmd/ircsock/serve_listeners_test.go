package main

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"
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
