package hostile

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
)

// zipServer is an echo server whose connections decompress their input
// after a line "ZIP" (CompressInputAfter, armed when each opens), like a
// server link that announces compression.
func zipServer(t *testing.T) *server {
	s := newServer(t, ircsock.Config{}, ircsock.ListenerConfig{Idle: -1})
	s.hook(func(h *hooks) {
		h.onOpen = func(c *ircsock.Conn) {
			err := s.b.CompressInputAfter(c.ID(), func(m *ircmsg.Message) bool { return m.Command == "ZIP" })
			if err != nil {
				t.Errorf("CompressInputAfter: %v", err)
			}
		}
	})
	return s
}

// zwriter is a peer's own compressor (compress/zlib from the standard
// library, not the code under test) writing to a client.
type zwriter struct {
	c  *client
	zw *zlib.Writer
}

func newZwriter(c *client) *zwriter {
	_ = c.c.SetWriteDeadline(c.deadline())
	return &zwriter{c: c, zw: zlib.NewWriter(c.c)}
}

// lines compresses lines and sync-flushes them, as a link does per batch.
func (z *zwriter) lines(ls ...string) {
	z.c.t.Helper()
	for _, l := range ls {
		if _, err := io.WriteString(z.zw, l+"\r\n"); err != nil {
			z.c.t.Fatalf("%s: compressing: %v", z.c.name, err)
		}
	}
	if err := z.zw.Flush(); err != nil {
		z.c.t.Fatalf("%s: flushing: %v", z.c.name, err)
	}
}

// bomb returns a zlib stream that inflates to 1 GiB of zeros: a header and
// a first sync-flushed MiB, then the same compressed MiB repeated (once
// the window is all zeros, compressing another MiB of zeros gives the same
// bytes every time, so the bomb costs nothing to build). It checks the
// claim by inflating a prefix with compress/zlib.
func bomb(t testing.TB) (head, unit []byte, units int) {
	t.Helper()
	zeros := make([]byte, 1<<20)
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	chunk := func() []byte {
		buf.Reset()
		_, _ = zw.Write(zeros)
		_ = zw.Flush()
		return bytes.Clone(buf.Bytes())
	}
	head = chunk()
	unit = chunk()
	if again := chunk(); !bytes.Equal(unit, again) {
		t.Fatalf("bomb: successive compressed MiB differ (%d, %d bytes); cannot repeat them", len(unit), len(again))
	}
	// Check: head + 3 units inflate to exactly 4 MiB of zeros.
	probe := append(bytes.Clone(head), bytes.Repeat(unit, 3)...)
	zr, err := zlib.NewReader(bytes.NewReader(probe))
	if err != nil {
		t.Fatalf("bomb: %v", err)
	}
	n, err := io.Copy(io.Discard, zr)
	if n != 4<<20 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("bomb: prefix inflates to %d bytes (%v), want %d and an unfinished stream", n, err, 4<<20)
	}
	return head, unit, 1024
}

func TestCompression(t *testing.T) {
	rows := []struct {
		name string
		run  func(t *testing.T, s *server, bad *client)
	}{
		{"decompression bomb of 1 GiB", func(t *testing.T, s *server, bad *client) {
			head, unit, units := bomb(t)
			t.Logf("bomb: %d + %d x %d compressed bytes inflate to %d MiB (ratio %d)",
				len(head), units, len(unit), units+1, (1<<20)/len(unit))
			hw := watchHeap(t)
			bad.send("ZIP\r\n")
			sent := 0
			if err := bad.write(head); err == nil {
				sent += len(head)
				for range units {
					if err := bad.write(unit); err != nil {
						break // the Backend has dropped us, as it should
					}
					sent += len(unit)
				}
			}
			d := s.disconnect(bad)
			hw.check(t, "bomb", 16<<20, 4<<20)
			t.Logf("bomb: %d compressed bytes written before the drop; reason %q", sent, d.Reason)
			if !errors.Is(d.Err, filter.ErrInflateLimit) || !strings.Contains(d.Reason, "inflate limit") {
				t.Errorf("Disconnect = %q, %v; want a reason and error naming filter.ErrInflateLimit", d.Reason, d.Err)
			}
		}},
		{"corrupt stream mid-link", func(t *testing.T, s *server, bad *client) {
			bad.send("ZIP\r\n")
			bad.expect("ZIP")
			z := newZwriter(bad)
			z.lines(msgLine("z1"), msgLine("z2"))
			bad.expect(msgLine("z1"))
			bad.expect(msgLine("z2"))
			// 0xff starts a block of the reserved type 3: invalid deflate.
			bad.send(strings.Repeat("\xff", 64))
			bad.expectEOF()
			d := s.disconnect(bad)
			if !errors.Is(d.Err, filter.ErrZlibCorrupt) {
				t.Errorf("Disconnect = %q, %v; want an error wrapping filter.ErrZlibCorrupt", d.Reason, d.Err)
			}
			if r := s.snapshot(bad); r.inputs != 3 {
				t.Errorf("Input events = %d, want 3 (ZIP and both compressed lines)", r.inputs)
			}
		}},
		{"garbage right after the switch", func(t *testing.T, s *server, bad *client) {
			// A fatal input error closes the connection at once, so the
			// echo of ZIP may or may not get out first: only the events
			// are checked.
			bad.send("ZIP\r\nNICK plain\r\nUSER a b c d\r\n")
			bad.expectEOF()
			d := s.disconnect(bad)
			if !errors.Is(d.Err, filter.ErrZlibCorrupt) {
				t.Errorf("Disconnect = %q, %v; want an error wrapping filter.ErrZlibCorrupt", d.Reason, d.Err)
			}
			if r := s.snapshot(bad); r.inputs != 1 || r.nInErrs != 0 {
				t.Errorf("Input, InputError events = %d, %d; want 1 (ZIP), 0: nothing after the switch decoded as plaintext", r.inputs, r.nInErrs)
			}
		}},
		{"stream finished by the peer", func(t *testing.T, s *server, bad *client) {
			bad.send("ZIP\r\n")
			z := newZwriter(bad)
			z.lines(msgLine("f1"), msgLine("f2"))
			if err := z.zw.Close(); err != nil {
				t.Fatalf("zlib Close: %v", err)
			}
			bad.expectEOF()
			d := s.disconnect(bad)
			if !errors.Is(d.Err, filter.ErrZlibStreamEnd) {
				t.Errorf("Disconnect = %q, %v; want an error wrapping filter.ErrZlibStreamEnd", d.Reason, d.Err)
			}
			if r := s.snapshot(bad); r.inputs != 3 {
				t.Errorf("Input events = %d, want 3 (ZIP and both lines before the end)", r.inputs)
			}
		}},
		{"switch requested twice", func(t *testing.T, s *server, bad *client) {
			id := s.rec(bad).conn.ID()
			calls := []struct {
				name string
				call func() error
				want error
			}{
				{"CompressInputAfter again", func() error {
					return s.b.CompressInputAfter(id, func(*ircmsg.Message) bool { return true })
				}, ircsock.ErrAlreadyCompressed},
				{"SetCompressedLink", func() error { return s.b.SetCompressedLink(id) }, nil},
				{"SetCompressedLink again", func() error { return s.b.SetCompressedLink(id) }, ircsock.ErrAlreadyCompressed},
				{"SetCompressedLinkNow on a compressed link", func() error { return s.b.SetCompressedLinkNow(id) }, ircsock.ErrAlreadyCompressed},
			}
			for _, c := range calls {
				var err error
				withTimeout(t, c.name, callBound, func() { err = c.call() })
				if !errors.Is(err, c.want) {
					t.Errorf("%s = %v, want %v", c.name, err, c.want)
				}
			}
			// One zlib layer each way, not two: our stdlib reader decodes
			// the echoes with a single inflate.
			bad.send("ZIP\r\n")
			z := newZwriter(bad)
			z.lines(msgLine("d1"), msgLine("d2"))
			_ = bad.c.SetReadDeadline(bad.deadline())
			zr, err := zlib.NewReader(bad.c)
			if err != nil {
				t.Fatalf("reading the compressed echo: %v", err)
			}
			br := bufio.NewReader(zr)
			for _, want := range []string{"ZIP", msgLine("d1"), msgLine("d2")} {
				got, err := br.ReadString('\n')
				if got = strings.TrimRight(got, "\r\n"); got != want || err != nil {
					t.Fatalf("compressed echo = %q, %v; want %q", got, err, want)
				}
			}
		}},
		{"unset output with data in flight", func(t *testing.T, s *server, bad *client) {
			id := s.rec(bad).conn.ID()
			if err := s.b.SetCompressedLink(id); err != nil {
				t.Fatalf("SetCompressedLink: %v", err)
			}
			const n, m = 3000, 100
			for i := range n {
				if err := s.b.Send(&ircmsg.Message{Command: "PRIVMSG", Params: []string{"#t", fmt.Sprintf("z %d", i)}}, id); err != nil {
					t.Fatalf("Send %d: %v", i, err)
				}
			}
			// The queue still holds most of it while the link changes.
			if err := s.b.Send(&ircmsg.Message{Command: "LAST"}, id); err != nil {
				t.Fatalf("Send LAST: %v", err)
			}
			if err := s.b.UnsetCompressedLink(id); err != nil {
				t.Fatalf("UnsetCompressedLink: %v", err)
			}
			for i := range m {
				if err := s.b.Send(&ircmsg.Message{Command: "PRIVMSG", Params: []string{"#t", fmt.Sprintf("p %d", i)}}, id); err != nil {
					t.Fatalf("Send plain %d: %v", i, err)
				}
			}
			// Read with a Stack: Zlib under Line until LAST, then shift
			// the zlib layer out; its pending bytes are the plaintext.
			_ = bad.c.SetReadDeadline(bad.deadline())
			st := filter.NewStack(filter.NewZlib(), &filter.Line{})
			rd := filter.NewReader(bad.c, st)
			next := func() string {
				rec, err := rd.Next()
				if err != nil {
					t.Fatalf("reading the switched stream: %v", err)
				}
				return string(rec)
			}
			for i := range n {
				if got, want := next(), fmt.Sprintf("PRIVMSG #t :z %d", i); got != want {
					t.Fatalf("compressed line %d = %q, want %q", i, got, want)
				}
			}
			if got := next(); got != "LAST" {
				t.Fatalf("line after the compressed ones = %q, want LAST", got)
			}
			st.Shift()
			for i := range m {
				if got, want := next(), fmt.Sprintf("PRIVMSG #t :p %d", i); got != want {
					t.Fatalf("plain line %d = %q, want %q", i, got, want)
				}
			}
		}},
		{"unset input after a handshake with data in flight", func(t *testing.T, s *server, bad *client) {
			s.hook(func(h *hooks) {
				h.onInput = func(c *ircsock.Conn, m *ircmsg.Message) bool {
					if m.Command != "UNZIP" {
						return true
					}
					if err := s.b.UnsetCompressedLink(c.ID()); err != nil {
						t.Errorf("UnsetCompressedLink: %v", err)
					}
					_ = s.b.Send(&ircmsg.Message{Command: "UNZIPPED"}, c.ID())
					return false
				}
			})
			bad.send("ZIP\r\n")
			z := newZwriter(bad)
			var zs []string
			for i := range 200 {
				zs = append(zs, msgLine(fmt.Sprintf("in %d", i)))
			}
			z.lines(append(zs, "UNZIP")...)
			bad.expect("UNZIPPED")
			bad.send(msgLine("plain 1") + "\r\n" + msgLine("plain 2") + "\r\n")
			bad.expect(msgLine("plain 2"))
			r := s.snapshot(bad)
			if r.inputs != 204 || r.nInErrs != 0 || r.disc != nil {
				t.Errorf("Input, InputError, Disconnect = %d, %d, %v; want 204, 0, none", r.inputs, r.nInErrs, r.disc)
			}
			for i, m := range r.msgs[1:201] {
				if want := fmt.Sprintf("hello in %d", i); len(m.Params) != 2 || m.Params[1] != want {
					t.Fatalf("Input %d = %v, want %q", i+1, m.Params, want)
				}
			}
		}},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			s := zipServer(t)
			s.hook(func(h *hooks) { h.keepMsgs = true })
			good := dial(t, s.ctx, "good", s.addr())
			good.healthy("before")
			bad := dial(t, s.ctx, "bad", s.addr())
			s.rec(bad)
			p := startProber(good)
			tc.run(t, s, bad)
			p.stopProbe(t)
			good.healthy("after")
		})
	}
}
