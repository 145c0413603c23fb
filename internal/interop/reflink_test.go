package interop

import (
	"bufio"
	"compress/zlib"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// refLink is a reference server link written with the standard library's
// compress/zlib: it proves that the ngircd setup and the scenario are
// right, so that a failure of the same scenario over the Backend points at
// the Backend. It switches each direction to zlib right after the SERVER
// line of that direction, as ngircd does.
type refLink struct {
	*lineQueue
	conn net.Conn

	wmu sync.Mutex
	zw  *zlib.Writer // nil while our output is still clear text
}

// newRefLink starts reading conn and closes it when the test ends.
func newRefLink(t testing.TB, conn net.Conn) *refLink {
	r := &refLink{lineQueue: newLineQueue(t, "reflink"), conn: conn}
	go r.read()
	t.Cleanup(func() {
		conn.Close()
		r.waitStopped(t)
	})
	return r
}

func (r *refLink) read() {
	// bufio.Reader, unlike bufio.Scanner, leaves the bytes after the
	// SERVER line in its buffer, where the zlib reader then starts.
	br := bufio.NewReaderSize(r.conn, 4096)
	lines := br
	compressed := false
	for {
		s, err := lines.ReadString('\n')
		if err != nil {
			r.stop(fmt.Errorf("read (compressed=%v): %w", compressed, err))
			return
		}
		l := parseRaw(strings.TrimRight(s, "\r\n"))
		r.t.Logf("%s <- %s", r.name, l.Raw)
		if !r.put(l) {
			r.stop(r.rerr)
			return
		}
		if l.Command == "SERVER" && !compressed {
			zr, err := zlib.NewReader(br)
			if err != nil {
				r.stop(fmt.Errorf("zlib header after SERVER: %w", err))
				return
			}
			compressed = true
			lines = bufio.NewReader(zr)
		}
	}
}

// send writes lines and flushes once: clear text until (and including) the
// first SERVER line, zlib with one Z_SYNC_FLUSH per call after it.
func (r *refLink) send(t testing.TB, lines ...string) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	_ = r.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	for _, line := range lines {
		t.Logf("%s -> %s", r.name, line)
		var err error
		if r.zw != nil {
			_, err = io.WriteString(r.zw, line+"\r\n")
		} else {
			_, err = io.WriteString(r.conn, line+"\r\n")
			if parseRaw(line).Command == "SERVER" {
				r.zw = zlib.NewWriter(r.conn)
			}
		}
		if err != nil {
			t.Errorf("%s: write %q: %v", r.name, line, err)
			return
		}
	}
	if r.zw != nil {
		if err := r.zw.Flush(); err != nil {
			t.Errorf("%s: flush: %v", r.name, err)
		}
	}
}

// dialRefLink dials ngircd's server port and sends our PASS and SERVER.
func dialRefLink(t testing.TB, addr string, tlsConf *tls.Config) *refLink {
	t.Helper()
	conn, err := dialMaybeTLS(addr, tlsConf)
	if err != nil {
		t.Fatalf("reflink: dial %s: %v", addr, err)
	}
	r := newRefLink(t, conn)
	r.send(t, ourPass(), ourServer())
	return r
}

// acceptRefLink waits for ngircd to dial l, then answers its PASS and
// SERVER with ours.
func acceptRefLink(ctx context.Context, t testing.TB, l net.Listener) *refLink {
	t.Helper()
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		ch <- result{c, err}
	}()
	var res result
	select {
	case res = <-ch:
	case <-ctx.Done():
		l.Close()
		t.Fatalf("reflink: ngircd never dialled %s: %v", l.Addr(), ctx.Err())
	}
	if res.err != nil {
		t.Fatalf("reflink: accept: %v", res.err)
	}
	return newRefLink(t, res.c)
}

// ourPass is the PASS line we send: IRC+ protocol 2.10, and Z among the
// server flags to ask for a compressed link (ngircd compresses only when
// the peer's PASS carries Z). No H: without the enhanced handshake ngircd
// registers the link at once and starts its burst.
func ourPass() string { return "PASS " + passToNgircd + " 0210-IRC+ ircsock|0.1:Z P" }

// ourServer is the SERVER line we send; its CRLF is the last clear byte.
func ourServer() string { return "SERVER " + ourName + " 1 :ircsock interop link" }
