package interop

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawLine is one IRC line as the observer sees it. The observer parses
// with its own few lines of code, not with package ircmsg, so that a bug
// in the code under test cannot hide itself.
type rawLine struct {
	Raw     string
	Source  string // prefix without ':'
	Command string
	Params  []string
}

// parseRaw splits an RFC 1459 line; tags, if any, are dropped.
func parseRaw(s string) rawLine {
	l := rawLine{Raw: s}
	if strings.HasPrefix(s, "@") {
		_, s, _ = strings.Cut(s, " ")
	}
	if strings.HasPrefix(s, ":") {
		l.Source, s, _ = strings.Cut(s[1:], " ")
	}
	s = strings.TrimLeft(s, " ")
	l.Command, s, _ = strings.Cut(s, " ")
	l.Command = strings.ToUpper(l.Command)
	for s != "" {
		s = strings.TrimLeft(s, " ")
		if strings.HasPrefix(s, ":") {
			l.Params = append(l.Params, s[1:])
			break
		}
		var p string
		p, s, _ = strings.Cut(s, " ")
		if p != "" {
			l.Params = append(l.Params, p)
		}
	}
	return l
}

// Nick is the nick part of the line's source.
func (l rawLine) Nick() string {
	n, _, _ := strings.Cut(l.Source, "!")
	return n
}

// Param returns parameter i, or "" when there is none.
func (l rawLine) Param(i int) string {
	if i < len(l.Params) {
		return l.Params[i]
	}
	return ""
}

// rawClient is a plain IRC client on a net.Conn, used to observe and drive
// the peers. It answers PING by itself; every other line is queued for
// expect.
type rawClient struct {
	*lineQueue
	conn net.Conn
	wmu  sync.Mutex
}

// lineQueue carries the lines a reader goroutine has parsed to expect.
type lineQueue struct {
	t     testing.TB
	name  string
	lines chan rawLine
	done  chan struct{} // closed when the reader has stopped
	rerr  error         // why the reader stopped, valid after done
}

func newLineQueue(t testing.TB, name string) *lineQueue {
	return &lineQueue{t: t, name: name, lines: make(chan rawLine, 4096), done: make(chan struct{})}
}

// put queues l for expect; it reports false (and records why) when the
// test has stopped reading.
func (q *lineQueue) put(l rawLine) bool {
	select {
	case q.lines <- l:
		return true
	default:
		q.rerr = fmt.Errorf("%s: more than %d unread lines", q.name, cap(q.lines))
		return false
	}
}

// stop records why the reader stopped and wakes expect.
func (q *lineQueue) stop(err error) {
	q.rerr = err
	close(q.lines)
	close(q.done)
}

// waitStopped waits (bounded) for the reader after its input was closed.
func (q *lineQueue) waitStopped(t testing.TB) {
	select {
	case <-q.done:
	case <-time.After(5 * time.Second):
		t.Errorf("%s: reader did not stop after close", q.name)
	}
}

// dialMaybeTLS connects to addr within 5 s, with TLS when tlsConf is
// non-nil.
func dialMaybeTLS(addr string, tlsConf *tls.Config) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if tlsConf != nil {
		return tls.DialWithDialer(d, "tcp", addr, tlsConf)
	}
	return d.Dial("tcp", addr)
}

// dialRaw connects to addr (with TLS when tlsConf is non-nil) and starts
// reading. The connection is closed when the test ends.
func dialRaw(t testing.TB, name, addr string, tlsConf *tls.Config) *rawClient {
	t.Helper()
	conn, err := dialMaybeTLS(addr, tlsConf)
	if err != nil {
		t.Fatalf("%s: dial %s: %v", name, addr, err)
	}
	c := &rawClient{lineQueue: newLineQueue(t, name), conn: conn}
	go c.read()
	t.Cleanup(func() {
		conn.Close()
		c.waitStopped(t)
	})
	return c
}

func (c *rawClient) read() {
	sc := bufio.NewScanner(c.conn)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for sc.Scan() {
		l := parseRaw(strings.TrimRight(sc.Text(), "\r"))
		c.t.Logf("%s <- %s", c.name, l.Raw)
		if l.Command == "PING" {
			c.send("PONG :%s", l.Param(len(l.Params)-1))
			continue
		}
		if !c.put(l) {
			c.stop(c.rerr)
			return
		}
	}
	c.stop(sc.Err())
}

// send writes one line with CR LF; a write error fails the test.
func (c *rawClient) send(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.t.Logf("%s -> %s", c.name, line)
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		c.t.Errorf("%s: write %q: %v", c.name, line, err)
	}
}

// expect returns the first line for which match is true, discarding the
// lines before it, or fails the test when ctx ends or the connection
// closes first.
//
// t is the test that waits, which may be a subtest of the one that made
// the queue.
func (q *lineQueue) expect(ctx context.Context, t testing.TB, what string, match func(rawLine) bool) rawLine {
	t.Helper()
	for {
		select {
		case l, ok := <-q.lines:
			if !ok {
				t.Fatalf("%s: connection ended while waiting for %s: %v", q.name, what, q.rerr)
			}
			if match(l) {
				return l
			}
		case <-ctx.Done():
			t.Fatalf("%s: no %s: %v", q.name, what, ctx.Err())
		}
	}
}

// register sends NICK and USER and waits for 001.
func (c *rawClient) register(ctx context.Context, t testing.TB, nick string) {
	t.Helper()
	c.send("NICK %s", nick)
	c.send("USER %s 0 * :interop observer %s", nick, nick)
	c.expect(ctx, t, "001 welcome for "+nick, isCommand("001"))
}

// isCommand matches lines with the given command or numeric.
func isCommand(cmd string) func(rawLine) bool {
	return func(l rawLine) bool { return l.Command == cmd }
}

// isMsg matches a PRIVMSG from nick to target with text.
func isMsg(nick, target, text string) func(rawLine) bool {
	return func(l rawLine) bool {
		return l.Command == "PRIVMSG" && strings.EqualFold(l.Nick(), nick) &&
			strings.EqualFold(l.Param(0), target) && l.Param(1) == text
	}
}
