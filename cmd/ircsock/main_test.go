package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

const testTimeout = 20 * time.Second

func TestRunCommands(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		code     int
		stdout   string // substring expected on stdout
		stderr   string // substring expected on stderr
		noStdout bool
	}{
		{name: "no command", args: nil, code: 2, stderr: "usage: ircsock"},
		{name: "help", args: []string{"-h"}, code: 0, stdout: "serve"},
		{name: "unknown", args: []string{"frob"}, code: 2, stderr: `unknown command "frob"`},
		{name: "version", args: []string{"version"}, code: 0, stdout: "ircsock "},
		{name: "serve help", args: []string{"serve", "-h"}, code: 0, stderr: "-register-timeout"},
		{name: "serve bad flag", args: []string{"serve", "-nope"}, code: 2, stderr: "flag provided but not defined"},
		{name: "serve extra arg", args: []string{"serve", "x"}, code: 2, stderr: `unexpected argument "x"`},
		{name: "serve bad proxy-from", args: []string{"serve", "-proxy-from", "127.0.0.1,nonsense"}, code: 2, stderr: `not a network or address: "nonsense"`},
		{name: "serve bad level", args: []string{"serve", "-log-level", "loud"}, code: 2, stderr: "-log-level"},
		{name: "cert without tls listener", args: []string{"serve", "-tls-cert", "c.pem", "-tls-key", "k.pem"}, code: 2, stderr: "need -tls-listen or -wss-listen"},
		{name: "missing motd", args: []string{"serve", "-listen", "127.0.0.1:0", "-motd", "/nonexistent/motd"}, code: 1, stderr: "motd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			if code != tc.code {
				t.Errorf("run(%q) = %d, want %d; stderr %q", tc.args, code, tc.code, errOut.String())
			}
			if !strings.Contains(out.String(), tc.stdout) {
				t.Errorf("stdout %q, want it to contain %q", out.String(), tc.stdout)
			}
			if !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("stderr %q, want it to contain %q", errOut.String(), tc.stderr)
			}
		})
	}
}

// buildBinary builds the real program once per test into a temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "ircsock")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+) tls=(true|false)`)

// logWatcher hands on the server's stderr lines, keeping them for failure
// messages.
type logWatcher struct {
	lines chan string
	all   *bytes.Buffer
}

func watchLog(r io.Reader) *logWatcher {
	w := &logWatcher{lines: make(chan string, 100), all: new(bytes.Buffer)}
	go func() {
		defer close(w.lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
	}()
	return w
}

// waitLine returns the first line matching re.
func (w *logWatcher) waitLine(t *testing.T, re *regexp.Regexp, deadline <-chan time.Time) []string {
	t.Helper()
	for {
		select {
		case line, ok := <-w.lines:
			if !ok {
				t.Fatalf("server log ended before a line matching %s; log:\n%s", re, w.all)
			}
			w.all.WriteString(line + "\n")
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-deadline:
			t.Fatalf("no log line matching %s within %v; log:\n%s", re, testTimeout, w.all)
		}
	}
}

func TestServeBinary(t *testing.T) {
	bin := buildBinary(t)
	cases := []struct {
		name string
		sig  syscall.Signal
	}{
		{"SIGTERM", syscall.SIGTERM},
		{"SIGINT", syscall.SIGINT},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			cmd := exec.Command(bin, "serve", "-listen", "127.0.0.1:0", "-tls-listen", "127.0.0.1:0", "-data", data)
			// An os.Pipe rather than StderrPipe: Wait must not close
			// the log before the test has read its last line.
			stderr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stderr.Close()
			cmd.Stderr = pw
			err = cmd.Start()
			pw.Close()
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			exited := make(chan error, 1)
			waited := make(chan struct{})
			go func() {
				exited <- cmd.Wait()
				close(waited)
			}()
			t.Cleanup(func() {
				_ = cmd.Process.Kill() // fails harmlessly once it has exited
				<-waited
			})
			deadline := time.After(testTimeout)
			logw := watchLog(stderr)

			addrs := map[string]string{}
			for range 2 {
				m := logw.waitLine(t, listeningRE, deadline)
				addrs[m[2]] = m[1]
			}
			if addrs["false"] == "" || addrs["true"] == "" {
				t.Fatalf("listening lines gave %v, want one plain and one TLS", addrs)
			}

			plain := dial(t, addrs["false"], nil)
			plain.send("NICK plain", "USER p 0 * :Plain")
			plain.waitFor(" 001 plain ")

			pemBytes, err := os.ReadFile(filepath.Join(data, "cert.pem"))
			if err != nil {
				t.Fatalf("generated certificate: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pemBytes) {
				t.Fatalf("generated certificate in %s does not parse", data)
			}
			secure := dial(t, addrs["true"], &tls.Config{RootCAs: pool, ServerName: "localhost"})
			secure.send("NICK secure", "USER s 0 * :Secure", "JOIN #x")
			secure.waitFor(" 366 secure #x ")
			plain.send("JOIN #x", "PRIVMSG #x :over the wire")
			secure.waitFor(":plain!p@127.0.0.1 PRIVMSG #x :over the wire")

			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatalf("signal: %v", err)
			}
			plain.waitFor("ERROR :Server shutting down")
			secure.waitFor("ERROR :Server shutting down")
			logw.waitLine(t, regexp.MustCompile(`msg=stopped`), deadline)
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("exit: %v, want status 0; log:\n%s", err, logw.all)
				}
			case <-deadline:
				t.Fatalf("process did not exit within %v of %v", testTimeout, tc.sig)
			}
		})
	}
}

type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr string, tc *tls.Config) *rawClient {
	t.Helper()
	d := &net.Dialer{Timeout: testTimeout}
	var conn net.Conn
	var err error
	if tc != nil {
		conn, err = tls.DialWithDialer(d, "tcp", addr, tc)
	} else {
		conn, err = d.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// send writes lines, each write bounded by testTimeout (not the client's
// whole life, which a long test could outlast while still progressing).
func (c *rawClient) send(lines ...string) {
	c.t.Helper()
	for _, l := range lines {
		if err := c.conn.SetWriteDeadline(time.Now().Add(testTimeout)); err != nil {
			c.t.Fatal(err)
		}
		if _, err := io.WriteString(c.conn, l+"\r\n"); err != nil {
			c.t.Fatalf("write %q: %v", l, err)
		}
	}
}

func (c *rawClient) waitFor(sub string) string {
	c.t.Helper()
	var seen []string
	for {
		if err := c.conn.SetReadDeadline(time.Now().Add(testTimeout)); err != nil {
			c.t.Fatal(err)
		}
		line, err := c.r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			c.t.Fatalf("waiting for %q: %v; saw %q", sub, err, seen)
		}
		seen = append(seen, strings.TrimRight(line, "\r\n"))
		if strings.Contains(line, sub) {
			return line
		}
	}
}
