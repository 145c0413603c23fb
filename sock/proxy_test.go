package sock

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// v2Header builds a version 2 header: cmd 0 LOCAL or 1 PROXY, fam the
// family and protocol byte, body the address block and any TLVs.
func v2Header(cmd, fam byte, body []byte) []byte {
	b := append([]byte{}, proxyV2Sig...)
	b = append(b, 0x20|cmd, fam, 0, 0)
	binary.BigEndian.PutUint16(b[14:], uint16(len(body)))
	return append(b, body...)
}

func v2Inet(src, dst netip.AddrPort, tlvs ...byte) []byte {
	var body []byte
	fam := byte(0x11)
	if src.Addr().Is4() {
		a, d := src.Addr().As4(), dst.Addr().As4()
		body = append(append(body, a[:]...), d[:]...)
	} else {
		fam = 0x21
		a, d := src.Addr().As16(), dst.Addr().As16()
		body = append(append(body, a[:]...), d[:]...)
	}
	body = binary.BigEndian.AppendUint16(body, src.Port())
	body = binary.BigEndian.AppendUint16(body, dst.Port())
	return v2Header(1, fam, append(body, tlvs...))
}

var (
	src4 = netip.MustParseAddrPort("192.0.2.7:51000")
	dst4 = netip.MustParseAddrPort("198.51.100.1:6667")
	src6 = netip.MustParseAddrPort("[2001:db8::7]:51000")
	dst6 = netip.MustParseAddrPort("[2001:db8::1]:6697")
)

type proxyCase struct {
	name    string
	in      []byte
	want    ProxyHeader // Len is checked against the header's length
	hdrLen  int
	wantErr error
}

func proxyCases() []proxyCase {
	tcp4 := []byte("PROXY TCP4 192.0.2.7 198.51.100.1 51000 6667\r\n")
	tcp6 := []byte("PROXY TCP6 2001:db8::7 2001:db8::1 51000 6697\r\n")
	unknown := []byte("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n")
	v2in4 := v2Inet(src4, dst4)
	v2in6 := v2Inet(src6, dst6, 0x04, 0x00, 0x03, 'a', 'b', 'c') // a NOOP TLV
	v2local := v2Header(0, 0x00, nil)
	v2unix := v2Header(1, 0x31, make([]byte, 216))
	long := append(append([]byte{}, tcp4[:len(tcp4)-2]...), bytes.Repeat([]byte{' '}, 100)...)
	return []proxyCase{
		{name: "v1 TCP4", in: tcp4, want: ProxyHeader{Version: 1, Source: src4, Dest: dst4}, hdrLen: len(tcp4)},
		{name: "v1 TCP6", in: tcp6, want: ProxyHeader{Version: 1, Source: src6, Dest: dst6}, hdrLen: len(tcp6)},
		{name: "v1 UNKNOWN", in: unknown, want: ProxyHeader{Version: 1, Local: true}, hdrLen: len(unknown)},
		{name: "v1 shortest UNKNOWN", in: []byte("PROXY UNKNOWN\r\n"), want: ProxyHeader{Version: 1, Local: true}, hdrLen: 15},
		{name: "v2 INET", in: v2in4, want: ProxyHeader{Version: 2, Source: src4, Dest: dst4}, hdrLen: len(v2in4)},
		{name: "v2 INET6 with TLV", in: v2in6, want: ProxyHeader{Version: 2, Source: src6, Dest: dst6}, hdrLen: len(v2in6)},
		{name: "v2 LOCAL", in: v2local, want: ProxyHeader{Version: 2, Local: true}, hdrLen: 16},
		{name: "v2 UNIX", in: v2unix, want: ProxyHeader{Version: 2, Local: true}, hdrLen: len(v2unix)},
		{name: "v1 TCP4 with IPv6", in: []byte("PROXY TCP4 2001:db8::7 198.51.100.1 1 2\r\n"), wantErr: ErrProxyMalformed},
		{name: "v1 bad port", in: []byte("PROXY TCP4 192.0.2.7 198.51.100.1 65536 2\r\n"), wantErr: ErrProxyMalformed},
		{name: "v1 leading zero port", in: []byte("PROXY TCP4 192.0.2.7 198.51.100.1 01 2\r\n"), wantErr: ErrProxyMalformed},
		{name: "v1 missing field", in: []byte("PROXY TCP4 192.0.2.7 198.51.100.1 1\r\n"), wantErr: ErrProxyMalformed},
		{name: "v1 LF without CR", in: []byte("PROXY TCP4 192.0.2.7 198.51.100.1 1 2\n"), wantErr: ErrProxyMalformed},
		{name: "v1 too long", in: append(long, "\r\n"...), wantErr: ErrProxyTooLong},
		{name: "v2 bad version", in: append(append([]byte{}, proxyV2Sig...), 0x11, 0x11, 0, 0), wantErr: ErrProxyMalformed},
		{name: "v2 short INET block", in: v2Header(1, 0x11, make([]byte, 8)), wantErr: ErrProxyMalformed},
		{name: "v2 over the size bound", in: v2Header(1, 0x11, make([]byte, 5000)), wantErr: ErrProxyTooLong},
		{name: "no header", in: []byte("NICK alice\r\nUSER a 0 * :A\r\n"), wantErr: ErrProxyMissing},
		{name: "no header short", in: []byte("CAP LS\r\n"), wantErr: ErrProxyMissing},
		{name: "truncated v1", in: []byte("PROXY TCP4 192.0.2.7"), wantErr: io.ErrUnexpectedEOF},
		{name: "truncated v2", in: v2in4[:20], wantErr: io.ErrUnexpectedEOF},
	}
}

// oneByteReader returns one byte per Read, the worst split a socket can
// produce.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestReadProxyHeader(t *testing.T) {
	const after = "NICK alice\r\n"
	for _, tc := range proxyCases() {
		for _, split := range []string{"whole", "bytewise"} {
			t.Run(tc.name+"/"+split, func(t *testing.T) {
				in := append([]byte{}, tc.in...)
				if tc.wantErr != io.ErrUnexpectedEOF {
					in = append(in, after...)
				}
				var r io.Reader = bytes.NewReader(in)
				if split == "bytewise" {
					r = oneByteReader{r}
				}
				h, seen, err := ReadProxyHeader(r, 0)
				rest, _ := io.ReadAll(r)
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("ReadProxyHeader(%q) error = %v, want %v", tc.in, err, tc.wantErr)
					}
					if got := append(append([]byte{}, seen...), rest...); tc.wantErr == ErrProxyMissing && !bytes.Equal(got, in) {
						t.Errorf("seen + rest = %q, want the whole input %q", got, in)
					}
					return
				}
				if err != nil {
					t.Fatalf("ReadProxyHeader(%q) error = %v", tc.in, err)
				}
				want := tc.want
				want.Len = tc.hdrLen
				if h != want {
					t.Errorf("ReadProxyHeader(%q) = %+v, want %+v", tc.in, h, want)
				}
				if !bytes.Equal(seen, tc.in) {
					t.Errorf("seen = %q, want the header %q", seen, tc.in)
				}
				if string(rest) != after {
					t.Errorf("bytes after the header = %q, want %q", rest, after)
				}
			})
		}
	}
}

// FuzzReadProxyHeader checks that any input is read without panic, that
// nothing past a valid header is consumed, and that a header that parses
// says the same when written again as version 1 and parsed back.
func FuzzReadProxyHeader(f *testing.F) {
	for _, tc := range proxyCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		h, seen, err := ReadProxyHeader(r, 1024)
		if len(seen) > len(in) || !bytes.Equal(seen, in[:len(seen)]) {
			t.Fatalf("seen %q is not a prefix of the input %q", seen, in)
		}
		if err != nil {
			return
		}
		if h.Len != len(seen) || r.Len() != len(in)-h.Len {
			t.Fatalf("header of %d bytes, seen %d, left %d of %d", h.Len, len(seen), r.Len(), len(in))
		}
		if h.Local {
			return
		}
		proto := "TCP4"
		if h.Source.Addr().Is6() {
			proto = "TCP6"
		}
		if h.Dest.Addr().Is6() != h.Source.Addr().Is6() {
			return // a v2 header may mix families after Unmap; v1 cannot say it
		}
		line := "PROXY " + proto + " " + h.Source.Addr().String() + " " + h.Dest.Addr().String() + " " +
			strconv.Itoa(int(h.Source.Port())) + " " + strconv.Itoa(int(h.Dest.Port())) + "\r\n"
		h1, err := ParseProxyV1([]byte(line))
		if err != nil {
			if errors.Is(err, ErrProxyTooLong) {
				return
			}
			t.Fatalf("ParseProxyV1(%q) = %v", line, err)
		}
		if h1.Source != h.Source || h1.Dest != h.Dest {
			t.Fatalf("v1 round trip: %v %v, want %v %v", h1.Source, h1.Dest, h.Source, h.Dest)
		}
	})
}

// proxyListener starts a listener on 127.0.0.1 with cfg's PROXY settings.
func proxyListener(t *testing.T, cfg ListenConfig) (*Listener, *chanListenHandler) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	h := newChanHandler()
	l, err := Listen(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Close()
		l.Wait()
	})
	l.Start()
	return l, h
}

func dialSend(t *testing.T, l *Listener, data []byte) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	return c
}

func waitConn(t *testing.T, h *chanListenHandler) net.Conn {
	t.Helper()
	select {
	case c := <-h.conns:
		return c
	case err := <-h.fails:
		t.Fatalf("Failed(%v), want a connection", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no connection within 10 s")
	}
	return nil
}

func waitFail(t *testing.T, h *chanListenHandler, want error) error {
	t.Helper()
	select {
	case c := <-h.conns:
		t.Fatalf("connection from %v served, want refusal with %v", c.RemoteAddr(), want)
	case err := <-h.fails:
		if !errors.Is(err, want) {
			t.Fatalf("Failed(%v), want %v", err, want)
		}
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("no refusal within 10 s, want %v", want)
	}
	return nil
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// readHandler serves by reading what follows the header.
type readHandler struct {
	conns chan net.Conn
	data  chan string
	fails chan error
}

func newReadHandler() *readHandler {
	return &readHandler{conns: make(chan net.Conn, 4), data: make(chan string, 4), fails: make(chan error, 4)}
}

func (h *readHandler) Serve(c net.Conn, release func()) {
	h.conns <- c
	go func() {
		defer release()
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, len("NICK alice\r\n"))
		_, err := io.ReadFull(c, buf)
		if err != nil {
			h.data <- "error: " + err.Error()
			return
		}
		h.data <- string(buf)
	}()
}

func (h *readHandler) Failed(err error) { h.fails <- err }

func (h *readHandler) HandleListen(ev ListenEvent) {
	ListenFuncs{Serve: h.Serve, Failed: h.Failed}.HandleListen(ev)
}

func (h *readHandler) conn(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-h.conns:
		return c
	case err := <-h.fails:
		// Serve hands the connection over before its reading can
		// report anything: when both are ready, the connection came
		// first and the report stays for the test to check.
		select {
		case c := <-h.conns:
			h.fails <- err
			return c
		default:
		}
		t.Fatalf("Failed(%v), want a connection", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no connection within 10 s")
	}
	return nil
}

func (h *readHandler) read(t *testing.T) string {
	t.Helper()
	select {
	case s := <-h.data:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("nothing read within 10 s")
	}
	return ""
}

// readListener starts a listener whose connections are read by a
// readHandler; it is closed after the test's connections (cleanups run
// last in, first out).
func readListener(t *testing.T, cfg ListenConfig) (*Listener, *readHandler) {
	t.Helper()
	rh := newReadHandler()
	l, err := Listen(cfg, rh)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Close()
		l.Wait()
	})
	l.Start()
	return l, rh
}

func TestListenerProxy(t *testing.T) {
	const nick = "NICK alice\r\n"
	for _, tc := range []struct {
		name string
		hdr  []byte
		want netip.AddrPort
	}{
		{"v1 TCP4", []byte("PROXY TCP4 192.0.2.7 198.51.100.1 51000 6667\r\n"), src4},
		{"v1 TCP6", []byte("PROXY TCP6 2001:db8::7 2001:db8::1 51000 6697\r\n"), src6},
		{"v2 INET", v2Inet(src4, dst4), src4},
		{"v2 INET6", v2Inet(src6, dst6), src6},
	} {
		t.Run(tc.name+" then data in one segment", func(t *testing.T) {
			l, rh := readListener(t, ListenConfig{Addr: "127.0.0.1:0", ProxyFrom: loopback})
			dialSend(t, l, append(append([]byte{}, tc.hdr...), nick...))
			if got := rh.conn(t).RemoteAddr().String(); got != tc.want.String() {
				t.Errorf("RemoteAddr() = %s, want %s", got, tc.want)
			}
			if got := rh.read(t); got != nick {
				t.Errorf("read after the header %q, want %q", got, nick)
			}
		})
	}
	t.Run("v2 LOCAL keeps the socket address", func(t *testing.T) {
		l, h := proxyListener(t, ListenConfig{ProxyFrom: loopback})
		client := dialSend(t, l, v2Header(0, 0, nil))
		c := waitConn(t, h)
		if got, want := c.RemoteAddr().String(), client.LocalAddr().String(); got != want {
			t.Errorf("RemoteAddr() = %s, want the socket's %s", got, want)
		}
	})
	t.Run("trusted without header", func(t *testing.T) {
		l, h := proxyListener(t, ListenConfig{ProxyFrom: loopback})
		dialSend(t, l, []byte(nick))
		waitFail(t, h, ErrProxyMissing)
	})
	t.Run("trusted without header, optional", func(t *testing.T) {
		l, rh := readListener(t, ListenConfig{Addr: "127.0.0.1:0", ProxyFrom: loopback, ProxyOptional: true})
		client := dialSend(t, l, []byte(nick))
		if got, want := rh.conn(t).RemoteAddr().String(), client.LocalAddr().String(); got != want {
			t.Errorf("RemoteAddr() = %s, want the socket's %s", got, want)
		}
		if got := rh.read(t); got != nick {
			t.Errorf("read %q, want the bytes read ahead given back: %q", got, nick)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		l, h := proxyListener(t, ListenConfig{ProxyFrom: loopback})
		dialSend(t, l, []byte("PROXY TCP4 nonsense\r\n"))
		waitFail(t, h, ErrProxyMalformed)
	})
	t.Run("timeout", func(t *testing.T) {
		l, h := proxyListener(t, ListenConfig{ProxyFrom: loopback, ProxyTimeout: 50 * time.Millisecond})
		dialSend(t, l, []byte("PROXY TCP4 "))
		err := waitFail(t, h, os.ErrDeadlineExceeded)
		if !strings.Contains(err.Error(), "ProxyTimeout") {
			t.Errorf("error %q does not name ProxyTimeout", err)
		}
	})
	t.Run("close while waiting for a header", func(t *testing.T) {
		l, h := proxyListener(t, ListenConfig{ProxyFrom: loopback, ProxyTimeout: time.Hour})
		dialSend(t, l, []byte("PROXY "))
		// Close only once the connection is accepted: closed before, the
		// listener would never see it, and nothing would be reported.
		deadline := time.Now().Add(10 * time.Second)
		for {
			l.mu.Lock()
			open := l.open
			l.mu.Unlock()
			if open > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("connection not accepted within 10 s")
			}
			time.Sleep(time.Millisecond)
		}
		// The header read holds the connection until Close stops it.
		done := make(chan struct{})
		go func() {
			l.Close()
			l.Wait()
			close(done)
		}()
		waitFail(t, h, net.ErrClosed)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Close and Wait did not return within 10 s")
		}
	})
	t.Run("untrusted header refused", func(t *testing.T) {
		l, rh := readListener(t, ListenConfig{Addr: "127.0.0.1:0", ProxyFrom: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		client := dialSend(t, l, append(v2Inet(src4, dst4), nick...))
		if got, want := rh.conn(t).RemoteAddr().String(), client.LocalAddr().String(); got != want {
			t.Errorf("RemoteAddr() = %s, want the socket's %s", got, want)
		}
		if got := rh.read(t); !strings.Contains(got, ErrProxyUntrusted.Error()) {
			t.Errorf("read = %q, want %v", got, ErrProxyUntrusted)
		}
		select {
		case err := <-rh.fails:
			if !errors.Is(err, ErrProxyUntrusted) {
				t.Errorf("Failed(%v), want %v", err, ErrProxyUntrusted)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no Failed report within 10 s")
		}
	})
	t.Run("untrusted without header passes", func(t *testing.T) {
		l, rh := readListener(t, ListenConfig{Addr: "127.0.0.1:0", ProxyFrom: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		dialSend(t, l, []byte(nick))
		rh.conn(t)
		if got := rh.read(t); got != nick {
			t.Errorf("read %q, want %q", got, nick)
		}
	})
	t.Run("per-IP limit counts the proxied address", func(t *testing.T) {
		l, rh := readListener(t, ListenConfig{Addr: "127.0.0.1:0", ProxyFrom: loopback, MaxConnsPerIP: 1})
		// Three connections from the same proxy: two name 192.0.2.7, one
		// 192.0.2.8. The second 192.0.2.7 is refused, the others served.
		dialSend(t, l, []byte("PROXY TCP4 192.0.2.7 198.51.100.1 1000 6667\r\n"))
		if got := rh.conn(t).RemoteAddr().String(); got != "192.0.2.7:1000" {
			t.Fatalf("first RemoteAddr() = %s", got)
		}
		dialSend(t, l, []byte("PROXY TCP4 192.0.2.7 198.51.100.1 1001 6667\r\n"))
		select {
		case err := <-rh.fails:
			if !errors.Is(err, ErrMaxConnsPerIP) || !strings.Contains(err.Error(), "192.0.2.7") {
				t.Errorf("Failed(%v), want %v naming 192.0.2.7", err, ErrMaxConnsPerIP)
			}
		case c := <-rh.conns:
			t.Fatalf("second connection from %v served, want it refused", c.RemoteAddr())
		case <-time.After(10 * time.Second):
			t.Fatal("no refusal within 10 s")
		}
		dialSend(t, l, []byte("PROXY TCP4 192.0.2.8 198.51.100.1 1002 6667\r\n"))
		if got := rh.conn(t).RemoteAddr().String(); got != "192.0.2.8:1002" {
			t.Errorf("third RemoteAddr() = %s, want 192.0.2.8:1002", got)
		}
	})
}
