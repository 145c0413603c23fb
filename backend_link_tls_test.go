package ircsock_test

import (
	"bufio"
	"compress/zlib"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
)

// TestBackendCompressedOutputTLSBurst checks that a compressed link over
// TLS writes out every line of a burst sent while events wait in the
// channel, when Send only queues and the coalescing timer alone must wake
// the writer: a raw TLS peer inflates everything after START with
// compress/zlib and must get all of it with no further Send. A line
// queued into the compressor but never sync-flushed, or a deferred batch
// whose flush is lost, leaves the reader waiting until its deadline.
func TestBackendCompressedOutputTLSBurst(t *testing.T) {
	const lines, waiting = 1000, 100
	p := pki()
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1, TLS: &tls.Config{Certificates: []tls.Certificate{p.server}}})
	d := tls.Dialer{Config: &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"}}
	tc, err := d.DialContext(h.ctx, "tcp", listenAddr(l))
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	c := wrapRaw(t, h, tc)
	conn := h.accepted(c)

	// Stall the harness's pump (it takes h.mu for every event) and have
	// the peer send lines, so that events wait in the channel for the
	// whole burst and every Send of it is deferred.
	h.mu.Lock()
	var sb strings.Builder
	for i := range waiting {
		fmt.Fprintf(&sb, "PING :%s\r\n", numbered("waiting", i))
	}
	if _, err := c.Write([]byte(sb.String())); err != nil {
		h.mu.Unlock()
		t.Fatalf("peer's write: %v", err)
	}
	for len(h.b.Events()) == 0 {
		select {
		case <-h.ctx.Done():
			h.mu.Unlock()
			t.Fatalf("no event waiting in the channel: %v", h.ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}

	h.send(msg("START", "S"), conn.ID())
	if err := h.b.SetCompressedLink(conn.ID()); err != nil {
		h.mu.Unlock()
		t.Fatalf("SetCompressedLink = %v, want nil", err)
	}
	var want []string
	for i := range lines {
		line := numbered("tls-zlib", i)
		want = append(want, "PRIVMSG #link "+line)
		h.send(msg("PRIVMSG", "#link", line), conn.ID())
	}
	got, err := readStartThenZlib(c, lines)
	waited := len(h.b.Events())
	h.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	checkSeq(t, "raw TLS peer", got, want)
	if waited == 0 {
		t.Errorf("no event waited in the channel during the burst: Send did not defer, the test proves nothing")
	}
	h.inputs(conn.ID(), waiting)
	h.shutdown()
}

// readStartThenZlib reads the line "START S" and then n lines inflated
// from the zlib stream that follows it, without their CR LF.
func readStartThenZlib(c *rawConn, n int) ([]string, error) {
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	start, err := c.readLine()
	if err != nil || start != "START S" {
		return nil, fmt.Errorf("first line = %q, %v, want %q", start, err, "START S")
	}
	zr, err := zlib.NewReader(c.r)
	if err != nil {
		return nil, fmt.Errorf("zlib.NewReader: %w", err)
	}
	defer zr.Close()
	zl := bufio.NewReader(zr)
	var got []string
	for i := range n {
		line, err := zl.ReadString('\n')
		if err != nil {
			return got, fmt.Errorf("compressed line %d of %d: %w", i, n, err)
		}
		got = append(got, strings.TrimSuffix(line, "\r\n"))
	}
	return got, nil
}
