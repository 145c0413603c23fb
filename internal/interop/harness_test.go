package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// underCI reports whether a missing peer must fail the test instead of
// skipping it: CI installs every peer, so a missing one there is a broken
// setup, not an optional extra.
func underCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "0" && v != "false"
}

// needBinary returns the path of the peer program name, or ends the test:
// a skip with the reason locally, a failure under CI.
func needBinary(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	// Daemons such as ngircd live in sbin, which a non-root PATH often
	// lacks.
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		if p, serr := exec.LookPath(filepath.Join(dir, name)); serr == nil {
			return p
		}
	}
	msg := fmt.Sprintf("peer %q not installed (apt-get install -y %s): %v", name, pkg, err)
	if underCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before the caller binds it, so every caller
// that hands the port to a peer retries the whole start on a bind failure.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pick a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("pick a free port: close: %v", err)
	}
	return port
}

// itoa is strconv.Itoa, for command lines.
func itoa(n int) string { return strconv.Itoa(n) }

// hostPort joins 127.0.0.1 and port.
func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// waitDial waits until addr accepts a TCP connection, the context ends, or
// exited is closed (the process that should listen has died).
func waitDial(ctx context.Context, addr string, exited <-chan struct{}) error {
	var d net.Dialer
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never accepted: %w (last dial error: %v)", addr, ctx.Err(), err)
		case <-exited:
			return fmt.Errorf("%s never accepted: the process exited (last dial error: %v)", addr, err)
		case <-tick.C:
		}
	}
}

// lineLog is an io.Writer that copies a process's output into the test log
// one line at a time and keeps the lines so a test can wait for one.
type lineLog struct {
	t    testing.TB
	name string

	mu      sync.Mutex
	partial []byte
	lines   []string
	changed chan struct{} // closed and replaced on every new line
	closed  bool          // the test has ended: stop logging
}

func newLineLog(t testing.TB, name string) *lineLog {
	return &lineLog{t: t, name: name, changed: make(chan struct{})}
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(bytes.TrimRight(l.partial[:i], "\r"))
		l.partial = l.partial[i+1:]
		l.addLocked(line)
	}
	return len(p), nil
}

func (l *lineLog) addLocked(line string) {
	if !l.closed {
		l.t.Logf("%s| %s", l.name, line)
	}
	l.lines = append(l.lines, line)
	close(l.changed)
	l.changed = make(chan struct{})
}

// flush logs an unterminated last line and stops logging, so nothing is
// logged after the test has returned.
func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.addLocked(string(l.partial))
		l.partial = nil
	}
	l.closed = true
}

// wait returns the first line matching re, waiting for it until ctx ends.
func (l *lineLog) wait(ctx context.Context, re *regexp.Regexp) (string, error) {
	seen := 0
	for {
		l.mu.Lock()
		for ; seen < len(l.lines); seen++ {
			if re.MatchString(l.lines[seen]) {
				line := l.lines[seen]
				l.mu.Unlock()
				return line, nil
			}
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return "", fmt.Errorf("%s: no output line matching %q: %w", l.name, re, ctx.Err())
		}
	}
}

// contains reports whether any line so far contains s.
func (l *lineLog) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// proc is a peer process started by the test.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *lineLog
	exited chan struct{} // closed when Wait has returned
	err    error         // Wait's result, valid after exited is closed
}

// startProc starts a program in its own process group with its output in
// the test log. On cleanup it gets SIGTERM, then SIGKILL after a grace
// period, and the cleanup waits for it (bounded), so no peer outlives its
// test.
func startProc(t testing.TB, name string, dir string, env []string, path string, args ...string) *proc {
	t.Helper()
	return runProc(t, name, procCmd(dir, env, path, args...))
}

// procCmd prepares a command for runProc, for callers that need its
// standard input.
func procCmd(dir string, env []string, path string, args ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// runProc starts cmd as startProc does.
func runProc(t testing.TB, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	out := newLineLog(t, name)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Output pipes held open by a grandchild must not hang Wait.
	cmd.WaitDelay = 2 * time.Second
	t.Logf("start %s: %s", name, cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, out: out, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// wait waits for p to exit by itself and returns Wait's result.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-p.exited:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("%s still running: %w", p.name, ctx.Err())
	}
}

// stop ends the process group of p, politely first, and waits for it.
func (p *proc) stop(t testing.TB) {
	defer p.out.flush()
	pgid := p.cmd.Process.Pid
	select {
	case <-p.exited:
		// The group's id may be reused once its leader is reaped, so
		// nothing is signalled any more.
		t.Logf("%s had exited: %v", p.name, p.err)
		return
	default:
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
		return
	case <-time.After(3 * time.Second):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		t.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, pgid)
	}
}

// errExited reports a process that ended while the test still needed it.
func (p *proc) errExited() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited: %v", p.name, p.err)
	default:
		return errors.New(p.name + " still running")
	}
}
