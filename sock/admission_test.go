package sock

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// dialFrom connects to l from the loopback address from.
func dialFrom(t *testing.T, l *Listener, from string) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.DialContext(ctx, "tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readRefusal reads the line a refused connection is sent, then EOF.
func readRefusal(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("refused connection: read %q: %v", line, err)
	}
	if _, err := r.ReadByte(); err == nil {
		t.Errorf("refused connection sent more after %q", line)
	}
	return line
}

func refusalLine(err error) []byte { return []byte("REFUSED " + err.Error() + "\n") }

func TestListenThrottle(t *testing.T) {
	l, h := proxyListener(t, ListenConfig{
		Throttle: Throttle{Conns: 2, Window: time.Hour, Ban: time.Hour},
		Exempt:   []netip.Prefix{netip.MustParsePrefix("127.0.0.4/32")},
		Refusal:  refusalLine,
	})
	for i := range 2 {
		dialFrom(t, l, "127.0.0.2")
		if got := waitConn(t, h).RemoteAddr().String(); !strings.HasPrefix(got, "127.0.0.2:") {
			t.Fatalf("connection %d from %s, want 127.0.0.2", i, got)
		}
	}
	for _, what := range []string{"over the rate", "banned"} {
		c := dialFrom(t, l, "127.0.0.2")
		err := waitFail(t, h, ErrThrottled)
		var le *LimitError
		if !errors.As(err, &le) || le.Addr != netip.MustParseAddr("127.0.0.2") || le.Limit != "Throttle=2 per 1h0m0s" || le.Until.IsZero() {
			t.Errorf("%s: Failed(%#v), want a LimitError for 127.0.0.2 naming Throttle=2 per 1h0m0s with a ban", what, err)
		}
		if got := readRefusal(t, c); !strings.HasPrefix(got, "REFUSED sock: too many connections from one address in a short time (Throttle): refused 127.0.0.2 (Throttle=2 per 1h0m0s), banned for 1h0m0s") {
			t.Errorf("%s: refusal line %q", what, got)
		}
	}
	// Another address is not affected, nor an exempt one however often
	// it connects.
	dialFrom(t, l, "127.0.0.3")
	waitConn(t, h)
	for range 4 {
		dialFrom(t, l, "127.0.0.4")
		waitConn(t, h)
	}
}

func TestListenThrottleWindow(t *testing.T) {
	// A window this short passes between two dials without any waiting
	// beyond the dial itself, so the third connection is admitted: the
	// count starts over with each window. The ban is what a test waits
	// for otherwise; it is not needed here.
	l, h := proxyListener(t, ListenConfig{Throttle: Throttle{Conns: 1, Window: time.Nanosecond, Ban: time.Hour}})
	for range 3 {
		dialFrom(t, l, "127.0.0.2")
		waitConn(t, h)
	}
}

func TestListenThrottleThroughProxy(t *testing.T) {
	l, h := readListener(t, ListenConfig{Addr: "127.0.0.1:0", ProxyFrom: loopback,
		Throttle: Throttle{Conns: 1, Window: time.Hour}, Refusal: refusalLine})
	dialSend(t, l, []byte("PROXY TCP4 192.0.2.7 198.51.100.1 1000 6667\r\n"))
	h.conn(t)
	c := dialSend(t, l, []byte("PROXY TCP4 192.0.2.7 198.51.100.1 1001 6667\r\n"))
	select {
	case err := <-h.fails:
		if !errors.Is(err, ErrThrottled) || !strings.Contains(err.Error(), "192.0.2.7") {
			t.Errorf("Failed(%v), want %v naming 192.0.2.7", err, ErrThrottled)
		}
	case c := <-h.conns:
		t.Fatalf("second connection from %v served, want it throttled", c.RemoteAddr())
	case <-time.After(10 * time.Second):
		t.Fatal("no refusal within 10 s")
	}
	if got := readRefusal(t, c); !strings.Contains(got, "refused 192.0.2.7 (Throttle=1 per 1h0m0s)") {
		t.Errorf("refusal line %q, want it to name 192.0.2.7 and the limit", got)
	}
	// The proxy's own address is not what was throttled.
	dialSend(t, l, []byte("PROXY TCP4 192.0.2.8 198.51.100.1 1002 6667\r\n"))
	h.conn(t)
}

func TestListenMaxConnsPerIPRefusal(t *testing.T) {
	l, h := proxyListener(t, ListenConfig{MaxConnsPerIP: 1, Refusal: refusalLine})
	dialFrom(t, l, "127.0.0.2")
	waitConn(t, h)
	c := dialFrom(t, l, "127.0.0.2")
	waitFail(t, h, ErrMaxConnsPerIP)
	if got := readRefusal(t, c); !strings.Contains(got, "(MaxConnsPerIP=1)") {
		t.Errorf("refusal line %q, want it to name MaxConnsPerIP=1", got)
	}
	dialFrom(t, l, "127.0.0.3")
	waitConn(t, h)
}

func TestAddrKey(t *testing.T) {
	cases := []struct {
		prefix   int
		ip, want string
	}{
		{0, "192.0.2.7", "192.0.2.7"},
		{0, "::ffff:192.0.2.7", "192.0.2.7"},
		{0, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"},
		{48, "2001:db8:1:2:3:4:5:6", "2001:db8:1::"},
		{128, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"},
		{200, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"},
	}
	for _, tc := range cases {
		t.Run(tc.ip, func(t *testing.T) {
			a := &Admission{cfg: AdmissionConfig{IPv6Prefix: tc.prefix}}
			if got := a.addrKey(netip.MustParseAddr(tc.ip)); got != netip.MustParseAddr(tc.want) {
				t.Errorf("addrKey(%s) with /%d = %s, want %s", tc.ip, tc.prefix, got, tc.want)
			}
		})
	}
}

// TestThrottleTableShrinks checks that quiet addresses are forgotten, so a
// storm from many addresses leaves no lasting memory behind.
func TestThrottleTableShrinks(t *testing.T) {
	a := &Admission{cfg: AdmissionConfig{Throttle: Throttle{Conns: 5, Window: time.Second, Ban: time.Second}}}
	t0 := time.Unix(1000, 0)
	for i := range 100 {
		ip := netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})
		if err := a.throttleLocked(ip, ip, t0); err != nil {
			t.Fatal(err)
		}
	}
	ip := netip.MustParseAddr("10.1.0.1")
	if err := a.throttleLocked(ip, ip, t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := len(a.throttle); n != 1 {
		t.Errorf("throttle table holds %d addresses after the window, want 1", n)
	}
}

// TestListenRefusalTLS: a TLS client refused by a limit reads the
// refusal line over TLS.
func TestListenRefusalTLS(t *testing.T) {
	cert := selfSignedCert(t)
	l, h := proxyListener(t, ListenConfig{MaxConnsPerIP: 1, Refusal: refusalLine,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	dialTLSFrom := func() net.Conn {
		t.Helper()
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}},
			Config: &tls.Config{InsecureSkipVerify: true}}
		c, err := d.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatalf("TLS dial: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	dialTLSFrom()
	waitConn(t, h)
	c := dialTLSFrom()
	waitFail(t, h, ErrMaxConnsPerIP)
	if got := readRefusal(t, c); !strings.Contains(got, "(MaxConnsPerIP=1)") {
		t.Errorf("refusal line over TLS %q, want it to name MaxConnsPerIP=1", got)
	}
}

// selfSignedCert makes an ECDSA certificate for 127.0.0.1, valid for an
// hour.
func selfSignedCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestListenMaxRefusing: with MaxRefusing 1 and a refused client that
// stays silent holding the one lingering slot, the next refusal is still
// reported, naming MaxRefusing, and a plain client still gets its line.
func TestListenMaxRefusing(t *testing.T) {
	l, h := proxyListener(t, ListenConfig{MaxConns: 1, Refusal: refusalLine,
		RefuseLinger: time.Hour, MaxRefusing: 1})
	dialFrom(t, l, "127.0.0.2")
	waitConn(t, h)

	silent := dialFrom(t, l, "127.0.0.3")
	if err := waitFail(t, h, ErrMaxConns); errors.Is(err, ErrMaxRefusing) {
		t.Errorf("first refusal Failed(%v), want no %v: no other refusal was lingering", err, ErrMaxRefusing)
	}
	if got := readLine(t, silent); !strings.Contains(got, "(MaxConns=1)") {
		t.Errorf("first refusal line %q, want it to name MaxConns=1", got)
	}

	c := dialFrom(t, l, "127.0.0.4")
	err := waitFail(t, h, ErrMaxRefusing)
	if !strings.Contains(err.Error(), "MaxRefusing=1") {
		t.Errorf("Failed(%v), want it to name MaxRefusing=1", err)
	}
	var le *LimitError
	if !errors.As(err, &le) || le.Err != ErrMaxConns || le.Addr != netip.MustParseAddr("127.0.0.4") {
		t.Errorf("Failed(%v), want it to keep the LimitError for MaxConns and 127.0.0.4", err)
	}
	if got := readRefusal(t, c); !strings.Contains(got, "(MaxConns=1)") {
		t.Errorf("second refusal line %q, want it to name MaxConns=1", got)
	}
}

// TestListenMaxRefusingTLS: past MaxRefusing a TLS client cannot be sent
// its line (that needs a handshake), and the event says so.
func TestListenMaxRefusingTLS(t *testing.T) {
	cert := selfSignedCert(t)
	l, h := proxyListener(t, ListenConfig{MaxConns: 1, Refusal: refusalLine,
		RefuseLinger: time.Hour, MaxRefusing: 1,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	dialFrom(t, l, "127.0.0.2") // admitted; its handshake never completes, so it is not served
	// The TLS handshake of an admitted connection runs before it is
	// handed over; this one stays in it, counted against MaxConns.
	dialFrom(t, l, "127.0.0.3") // refused, lingers waiting for a handshake
	if err := waitFail(t, h, ErrMaxConns); errors.Is(err, ErrMaxRefusing) {
		t.Errorf("first refusal Failed(%v), want no %v", err, ErrMaxRefusing)
	}
	dialFrom(t, l, "127.0.0.4")
	err := waitFail(t, h, ErrMaxRefusing)
	if !strings.Contains(err.Error(), "without its refusal line") || !strings.Contains(err.Error(), "MaxRefusing=1") {
		t.Errorf("Failed(%v), want it to say the line was not sent and name MaxRefusing=1", err)
	}
}

// TestListenRefuseLinger: a short RefuseLinger closes a silent refused
// client soon after its line, well before DefaultRefuseLinger would; a
// negative one closes it right after the line (plain) or at once,
// reporting that no line was sent (TLS).
func TestListenRefuseLinger(t *testing.T) {
	cert := selfSignedCert(t)
	for _, tc := range []struct {
		name   string
		linger time.Duration
		tls    bool
	}{
		{"short", 10 * time.Millisecond, false},
		{"negative", -1, false},
		{"short TLS", 10 * time.Millisecond, true},
		{"negative TLS", -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ListenConfig{MaxConns: 1, Refusal: refusalLine, RefuseLinger: tc.linger}
			if tc.tls {
				// The handshake must fit in the short linger too: a
				// loaded machine may take longer, so give it the time
				// a handshake needs and still stay under the default.
				cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
				if tc.linger > 0 {
					cfg.RefuseLinger = DefaultRefuseLinger / 4
				}
			}
			l, h := proxyListener(t, cfg)
			dialFrom(t, l, "127.0.0.2")
			if !tc.tls {
				waitConn(t, h)
			}
			start := time.Now()
			var c net.Conn
			if tc.tls && tc.linger < 0 {
				c = dialFrom(t, l, "127.0.0.3")
				err := waitFail(t, h, ErrMaxConns)
				if !strings.Contains(err.Error(), "RefuseLinger is negative") {
					t.Errorf("Failed(%v), want it to say no line was sent because RefuseLinger is negative", err)
				}
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if n, err := c.Read(make([]byte, 64)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("refused TLS connection: read %d bytes, %v; want it closed", n, err)
				}
				return
			}
			if tc.tls {
				d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}},
					Config: &tls.Config{InsecureSkipVerify: true}}
				tc, err := d.Dial("tcp", l.Addr().String())
				if err != nil {
					t.Fatalf("TLS dial: %v", err)
				}
				t.Cleanup(func() { tc.Close() })
				c = tc
			} else {
				c = dialFrom(t, l, "127.0.0.3")
			}
			if err := waitFail(t, h, ErrMaxConns); errors.Is(err, ErrMaxRefusing) {
				t.Errorf("Failed(%v), want no %v", err, ErrMaxRefusing)
			}
			if got := readLine(t, c); !strings.Contains(got, "(MaxConns=1)") {
				t.Errorf("refusal line %q, want it to name MaxConns=1", got)
			}
			// The server shut its write side after the line, so the
			// client reads EOF at once; the linger keeps the read side
			// open, taking and dropping what the client sends, and
			// only its end makes the client's writes fail. Wait for
			// that no longer than the default linger, so that a
			// RefuseLinger that is ignored fails.
			var buf [1]byte
			if n, err := c.Read(buf[:]); err != io.EOF {
				t.Errorf("after the line: read %d bytes, %v; want EOF", n, err)
			}
			if err := waitReset(c, start.Add(DefaultRefuseLinger*3/4)); err != nil {
				t.Errorf("RefuseLinger %v: %v", cfg.RefuseLinger, err)
			}
		})
	}
}

// waitReset writes to c, whose peer shut its write side, until a write
// fails because the peer closed the socket, or deadline passes.
func waitReset(c net.Conn, deadline time.Time) error {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn() // raw bytes: the peer only drops them
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		_ = c.SetWriteDeadline(deadline)
		if _, err := c.Write([]byte("PING x\r\n")); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			return nil
		}
		<-tick.C
	}
	return errors.New("the peer still took input at the deadline, want the socket closed")
}

// readLine reads one line from c, within 10 s.
func readLine(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read %q: %v", line, err)
	}
	return line
}

// TestListenCloseCutsHandshake: Close ends a TLS handshake in progress
// (here a client that connected and never said a word) instead of
// leaving Wait to wait for HandshakeTimeout.
func TestListenCloseCutsHandshake(t *testing.T) {
	cert := selfSignedCert(t)
	h := newChanHandler()
	l, err := Listen(ListenConfig{Addr: "127.0.0.1:0", MaxConns: 1, HandshakeTimeout: time.Hour,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, h)
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	dialFrom(t, l, "127.0.0.2")
	// The refusal of a second connection shows that the first was
	// accepted: it is in its handshake.
	dialFrom(t, l, "127.0.0.3")
	waitFail(t, h, ErrMaxConns)
	done := make(chan struct{})
	go func() {
		l.Close()
		l.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close and Wait still waiting after 10 s for a handshake bounded by an hour")
	}
	select {
	case err := <-h.fails:
		if !errors.Is(err, net.ErrClosed) && !errors.Is(err, context.Canceled) {
			t.Errorf("the cut handshake failed with %v, want it to say the listener closed", err)
		}
	default:
		t.Error("the cut handshake was not reported")
	}
}

func TestListenBadIPv6Prefix(t *testing.T) {
	for _, n := range []int{-1, 129} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			l, err := Listen(ListenConfig{Addr: "127.0.0.1:0", IPv6Prefix: n}, ListenFuncs{})
			if err == nil {
				l.Close()
				t.Fatalf("Listen with IPv6Prefix %d succeeded, want %v", n, ErrBadConfig)
			}
			if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), "IPv6Prefix="+strconv.Itoa(n)) {
				t.Errorf("Listen with IPv6Prefix %d = %v, want %v naming IPv6Prefix=%d", n, err, ErrBadConfig, n)
			}
		})
	}
}
