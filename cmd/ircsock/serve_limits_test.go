package main

import (
	"bufio"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dialFrom opens a plain connection to addr from the loopback address
// from.
func dialFrom(t *testing.T, addr, from string) *rawClient {
	t.Helper()
	d := &net.Dialer{Timeout: testTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, from, err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		t.Fatal(err)
	}
	return &rawClient{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// TestServeLimitFlags checks that the flags switch the library's limits
// on in serve: -throttle refuses the third connection from one address
// with an ERROR naming the limit (-exempt leaves 127.0.0.1 out), and
// -flood-burst/-flood-queue close a flooder with Excess Flood.
func TestServeLimitFlags(t *testing.T) {
	logw, deadline := startServe(t, "-listen", "127.0.0.1:0",
		"-throttle", "2", "-throttle-window", "1h", "-throttle-ban", "1h", "-exempt", "127.0.0.1/32",
		"-flood-burst", "2", "-flood-interval", "1h", "-flood-queue", "3")
	addr := logw.waitLine(t, listeningRE, deadline)[1]
	for range 2 {
		c := dialFrom(t, addr, "127.0.0.2")
		c.send("PING :in")
		c.waitFor("PONG")
	}
	c := dialFrom(t, addr, "127.0.0.2")
	if line := c.waitFor("ERROR"); !strings.Contains(line, "Throttle=2 per 1h0m0s") {
		t.Errorf("third connection got %q, want an ERROR naming Throttle=2 per 1h0m0s", line)
	}
	// Exempt from the throttle and from flood control.
	for range 3 {
		e := dialFrom(t, addr, "127.0.0.1")
		e.send("PING :a", "PING :b", "PING :c", "PING :d", "PING :e", "PING :f")
		e.waitFor("PONG ircsock.localhost :f")
	}
	f := dialFrom(t, addr, "127.0.0.3")
	f.send("PING :1", "PING :2", "PING :3", "PING :4", "PING :5", "PING :6")
	f.waitFor("ERROR :Excess Flood")
}

// TestServeThrottleMaxAddrsFlag checks -throttle-max-addrs: with room for
// one address, a second address is refused with an ERROR naming the limit
// while the first goes on connecting.
func TestServeThrottleMaxAddrsFlag(t *testing.T) {
	logw, deadline := startServe(t, "-listen", "127.0.0.1:0",
		"-throttle", "5", "-throttle-window", "1h", "-throttle-max-addrs", "1")
	addr := logw.waitLine(t, listeningRE, deadline)[1]
	c := dialFrom(t, addr, "127.0.0.2")
	c.send("PING :in")
	c.waitFor("PONG")
	r := dialFrom(t, addr, "127.0.0.3")
	if line := r.waitFor("ERROR"); !strings.Contains(line, "Throttle.MaxAddrs=1") {
		t.Errorf("a second address got %q, want an ERROR naming Throttle.MaxAddrs=1", line)
	}
	c = dialFrom(t, addr, "127.0.0.2")
	c.send("PING :again")
	c.waitFor("PONG")
}

// TestServeSTSFlags checks the STS policy serve advertises with a TLS
// listener, and -sts-duration.
func TestServeSTSFlags(t *testing.T) {
	logw, deadline := startServe(t, "-listen", "127.0.0.1:0", "-tls-listen", "127.0.0.1:0",
		"-data", t.TempDir(), "-sts-duration", "1h", "-sts-port", "6697")
	addrs := map[string]string{}
	for range 2 {
		m := logw.waitLine(t, listeningRE, deadline)
		addrs[m[2]] = m[1]
	}
	c := dial(t, addrs["false"], nil)
	c.send("CAP LS 302")
	if line := c.waitFor(" CAP "); !strings.Contains(line, "sts=port=6697") {
		t.Errorf("CAP LS 302 = %q, want sts=port=6697", line)
	}
}

// TestServeRefusalFlags checks -refuse-linger and -max-refusing: with one
// refused client lingering for an hour and -max-refusing 1, the next
// refused client still gets its ERROR line and the log names the limit.
func TestServeRefusalFlags(t *testing.T) {
	logw, deadline := startServe(t, "-listen", "127.0.0.1:0", "-log-level", "debug",
		"-max-conns", "1", "-refuse-linger", "1h", "-max-refusing", "1")
	addr := logw.waitLine(t, listeningRE, deadline)[1]
	in := dialFrom(t, addr, "127.0.0.2")
	in.send("PING :in")
	in.waitFor("PONG")
	for i, from := range []string{"127.0.0.3", "127.0.0.4"} {
		c := dialFrom(t, addr, from)
		if line := c.waitFor("ERROR"); !strings.Contains(line, "MaxConns=1") {
			t.Errorf("refused client %d got %q, want an ERROR naming MaxConns=1", i+1, line)
		}
	}
	logw.waitLine(t, regexp.MustCompile(`listener failure.*refused 127\.0\.0\.4 .*MaxRefusing=1`), deadline)
}
