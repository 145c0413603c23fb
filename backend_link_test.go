package ircsock_test

// Compressed links: two Backends linked with compression switched
// mid-stream in both directions while data is in flight, and raw-socket
// checks that the bytes after the announcing line really are zlib, in both
// directions, including compressed bytes in the same read as that line.

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

func isStart(m *ircmsg.Message) bool { return m.Command == "START" }

// linkSide is one Backend's end of a link.
type linkSide struct {
	name string
	h    *harness
	conn *ircsock.Conn
}

// sendSwitch sends pre plain lines, a START line, switches the output to
// zlib on the next flush and goes on sending post lines without waiting.
func sendSwitch(s linkSide, pre, post int) error {
	for i := range pre {
		if err := s.h.b.Send(msg("PRIVMSG", "#link", numbered(s.name+"-plain", i)), s.conn.ID()); err != nil {
			return fmt.Errorf("%s: Send plain %d: %w", s.name, i, err)
		}
	}
	if err := s.h.b.Send(msg("START", s.name), s.conn.ID()); err != nil {
		return fmt.Errorf("%s: Send START: %w", s.name, err)
	}
	if err := s.h.b.SetCompressedLink(s.conn.ID()); err != nil {
		return fmt.Errorf("%s: SetCompressedLink: %w", s.name, err)
	}
	for i := range post {
		if err := s.h.b.Send(msg("PRIVMSG", "#link", numbered(s.name+"-zlib", i)), s.conn.ID()); err != nil {
			return fmt.Errorf("%s: Send zlib %d: %w", s.name, i, err)
		}
	}
	return nil
}

// switchWant is what the receiving side of sendSwitch must see.
func switchWant(name string, pre, post int) []string {
	var want []string
	for i := range pre {
		want = append(want, numbered(name+"-plain", i))
	}
	want = append(want, name)
	for i := range post {
		want = append(want, numbered(name+"-zlib", i))
	}
	return want
}

func TestBackendLinkedCompression(t *testing.T) {
	const pre, post = 500, 2000
	hA, hB := newHarnessPair(t, ircsock.Config{}, ircsock.Config{})
	l := hA.listen(ircsock.ListenerConfig{Idle: -1})
	bconn := hB.connect(ircsock.ConnectorConfig{Addr: l.AddrPort().String(), Idle: -1})
	aconn := waitEvent(hA, "ListenerOpen", func(e ircsock.ListenerOpen) bool { return e.Conn.Peer() == bconn.Local() }).Conn

	// Each reader arranges its input switch before the peer can send START.
	if err := hA.b.CompressInputAfter(aconn.ID(), isStart); err != nil {
		t.Fatalf("A: CompressInputAfter = %v, want nil", err)
	}
	if err := hB.b.CompressInputAfter(bconn.ID(), isStart); err != nil {
		t.Fatalf("B: CompressInputAfter = %v, want nil", err)
	}
	a := linkSide{"A", hA, aconn}
	b := linkSide{"B", hB, bconn}

	// Both directions at once, each a burst sent without waiting.
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, s := range []linkSide{a, b} {
		wg.Go(func() {
			if err := sendSwitch(s, pre, post); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	for _, dir := range []struct {
		from, to linkSide
	}{{a, b}, {b, a}} {
		dir.to.h.expectInputs(fmt.Sprintf("%s->%s", dir.from.name, dir.to.name), dir.to.conn.ID(), switchWant(dir.from.name, pre, post))
		if n := len(eventsOf(dir.to.h, forConn[ircsock.InputError](dir.to.conn.ID()))); n != 0 {
			t.Errorf("%s: %d InputError events, want 0", dir.to.name, n)
		}
		waitEvent(dir.from.h, dir.from.name+": Compressed", forConn[ircsock.Compressed](dir.from.conn.ID()))
		if !dir.from.conn.Compressed() {
			t.Errorf("%s: Conn.Compressed() = false after SetCompressedLink took effect", dir.from.name)
		}
	}

	// The link still works after the switch, both ways.
	hA.send(msg("PING", "after"), aconn.ID())
	hB.send(msg("PONG", "after"), bconn.ID())
	if m := hB.inputs(bconn.ID(), pre+post+2)[pre+post+1]; m.Command != "PING" {
		t.Errorf("B: input after the switch = %s, want PING", m.Command)
	}
	if m := hA.inputs(aconn.ID(), pre+post+2)[pre+post+1]; m.Command != "PONG" {
		t.Errorf("A: input after the switch = %s, want PONG", m.Command)
	}
	hB.shutdown()
	hA.shutdown()
}

// TestBackendCompressedOutputRaw checks the wire: a raw peer reads the
// plaintext lines up to START, then inflates everything after START's CR LF
// with compress/zlib.
func TestBackendCompressedOutputRaw(t *testing.T) {
	const pre, post = 100, 2000
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1})
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)
	if err := sendSwitch(linkSide{"S", h, conn}, pre, post); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < pre {
		line, err := c.readLine()
		if err != nil {
			t.Fatalf("plain line %d: %v", len(got), err)
		}
		got = append(got, line)
	}
	start, err := c.readLine()
	if err != nil || start != "START S" {
		t.Fatalf("line after the plain ones = %q, %v, want %q", start, err, "START S")
	}
	// The next bytes must be a zlib header (RFC 1950: CMF 0x78 for
	// deflate with a 32 KiB window, and CMF*256+FLG divisible by 31).
	hdr, err := c.r.Peek(2)
	if err != nil {
		t.Fatalf("peek zlib header: %v", err)
	}
	if hdr[0]&0x0f != 8 || (int(hdr[0])<<8|int(hdr[1]))%31 != 0 {
		t.Fatalf("bytes after START = % x, want a zlib header", hdr)
	}
	zr, err := zlib.NewReader(c.r)
	if err != nil {
		t.Fatalf("zlib.NewReader: %v", err)
	}
	defer zr.Close()
	zl := bufio.NewReader(zr)
	for i := range post {
		line, err := zl.ReadString('\n')
		if err != nil {
			t.Fatalf("compressed line %d: %v", i, err)
		}
		got = append(got, line[:len(line)-2])
	}
	var want []string
	for i := range pre {
		want = append(want, "PRIVMSG #link "+numbered("S-plain", i))
	}
	for i := range post {
		want = append(want, "PRIVMSG #link "+numbered("S-zlib", i))
	}
	checkSeq(t, "raw peer", got, want)
	h.shutdown()
}

// zlibLines compresses lines (each with CR LF) into one zlib stream,
// sync-flushed, as a peer's first compressed write.
func zlibLines(t *testing.T, zw *zlib.Writer, buf *bytes.Buffer, lines []string) []byte {
	t.Helper()
	buf.Reset()
	for _, l := range lines {
		if _, err := io.WriteString(zw, l+"\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Flush(); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func oneWrite(head, n int) []int { return []int{n} }

func writesOf13(head, n int) []int {
	var c []int
	for ; n > 0; n -= 13 {
		c = append(c, min(n, 13))
	}
	return c
}

// TestBackendCompressInputRaw sends plaintext lines, START and zlib bytes
// in one buffer, cut into writes in several ways, including the compressed
// bytes in the same write as START; the Backend must decompress exactly
// from the byte after START's CR LF.
func TestBackendCompressInputRaw(t *testing.T) {
	const pre, post = 20, 500
	var plain, zl1, zl2 []string
	for i := range pre {
		plain = append(plain, "PRIVMSG #in :"+numbered("plain", i))
	}
	plain = append(plain, "START now")
	for i := range post {
		zl1 = append(zl1, "PRIVMSG #in :"+numbered("zlib", i))
		zl2 = append(zl2, "PRIVMSG #in :"+numbered("more", i))
	}
	cases := []struct {
		name string
		// cuts returns the write sizes for the first buffer: head bytes of
		// plaintext (START included) followed by zlib bytes, n in all.
		cuts func(head, n int) []int
		// level is the peer's zlib level. zlib.NoCompression writes stored
		// blocks, which carry the lines' own CR LF: a switch made one
		// record late would decode them as plaintext lines, so it shows
		// at once.
		level int
	}{
		{"one write", oneWrite, zlib.DefaultCompression},
		{"one write, stored blocks", oneWrite, zlib.NoCompression},
		{"cut inside the zlib header", func(head, n int) []int { return []int{head + 1, n - head - 1} }, zlib.DefaultCompression},
		{"13-byte writes", writesOf13, zlib.DefaultCompression},
		{"13-byte writes, stored blocks", writesOf13, zlib.NoCompression},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ircsock.Config{})
			l := h.listen(ircsock.ListenerConfig{Idle: -1})
			c := dialRaw(t, h, listenAddr(l))
			conn := h.accepted(c)
			if err := h.b.CompressInputAfter(conn.ID(), isStart); err != nil {
				t.Fatalf("CompressInputAfter = %v, want nil", err)
			}
			var zbuf bytes.Buffer
			zw, err := zlib.NewWriterLevel(&zbuf, tc.level)
			if err != nil {
				t.Fatal(err)
			}
			head := []byte{}
			for _, p := range plain {
				head = append(head, p+"\r\n"...)
			}
			first := append(head, zlibLines(t, zw, &zbuf, zl1)...)
			rest := first
			for _, n := range tc.cuts(len(head), len(first)) {
				if _, err := c.Write(rest[:n]); err != nil {
					t.Fatalf("write: %v", err)
				}
				rest = rest[n:]
			}
			if len(rest) != 0 {
				t.Fatalf("test bug: %d bytes not written", len(rest))
			}
			// The compressed stream goes on in a later write.
			if _, err := c.Write(zlibLines(t, zw, &zbuf, zl2)); err != nil {
				t.Fatalf("write: %v", err)
			}
			var want []string
			for i := range pre {
				want = append(want, numbered("plain", i))
			}
			want = append(want, "now")
			for i := range post {
				want = append(want, numbered("zlib", i))
			}
			for i := range post {
				want = append(want, numbered("more", i))
			}
			h.expectInputs("inputs", conn.ID(), want)
			if n := len(eventsOf(h, forConn[ircsock.InputError](conn.ID()))); n != 0 {
				t.Errorf("%d InputError events, want 0", n)
			}
			h.shutdown()
		})
	}
}

// TestBackendCompressedLinkNowRaw switches both directions at once and
// checks each against a raw zlib peer.
func TestBackendCompressedLinkNowRaw(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1})
	c := dialRaw(t, h, listenAddr(l))
	conn := h.accepted(c)
	c.writeLines(t, "PING :plain")
	h.inputs(conn.ID(), 1)
	if err := h.b.SetCompressedLinkNow(conn.ID()); err != nil {
		t.Fatalf("SetCompressedLinkNow = %v, want nil", err)
	}
	waitEvent(h, "Compressed", forConn[ircsock.Compressed](conn.ID()))

	var zbuf bytes.Buffer
	zw := zlib.NewWriter(&zbuf)
	if _, err := c.Write(zlibLines(t, zw, &zbuf, []string{"PING :zipped-1", "PING :zipped-2"})); err != nil {
		t.Fatal(err)
	}
	if got := paramsOf(h.inputs(conn.ID(), 3)[1:]); got[0] != "zipped-1" || got[1] != "zipped-2" {
		t.Errorf("compressed inputs = %q, want [zipped-1 zipped-2]", got)
	}
	h.send(msg("PONG", "zipped-back"), conn.ID())
	zr, err := zlib.NewReader(c.r)
	if err != nil {
		t.Fatalf("zlib.NewReader on the Backend's output: %v", err)
	}
	defer zr.Close()
	line, err := bufio.NewReader(zr).ReadString('\n')
	if err != nil || line != "PONG zipped-back\r\n" {
		t.Errorf("inflated = %q, %v, want %q", line, err, "PONG zipped-back\r\n")
	}
	h.shutdown()
}
