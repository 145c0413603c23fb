package ircd

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
)

// tlsServer starts a server with a plain and a TLS listener; it returns
// the server and a config that trusts its certificate.
func tlsServer(t *testing.T, cfg Config) (*Server, *tls.Config) {
	t.Helper()
	cert, _, err := LoadOrCreateCert(filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatalf("LoadOrCreateCert: %v", err)
	}
	cfg.TLSListen = "127.0.0.1:0"
	cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv := startServer(t, cfg)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	return srv, &tls.Config{RootCAs: pool, ServerName: "localhost"}
}

func dialTLS(t *testing.T, srv *Server, tc *tls.Config, name string) *tclient {
	t.Helper()
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: testTimeout}, Config: tc}
	conn, err := d.Dial("tcp", srv.TLSAddr().String())
	if err != nil {
		t.Fatalf("%s: TLS dial: %v", name, err)
	}
	return newTClient(t, conn, name)
}

// capLS sends CAP LS with the given version ("" for none) and returns the
// advertised list.
func capLS(c *tclient, version string) string {
	c.t.Helper()
	if version == "" {
		c.send("CAP LS")
	} else {
		c.send("CAP LS " + version)
	}
	m, _ := c.waitFor("CAP")
	return m.Params[len(m.Params)-1]
}

func TestServeSTS(t *testing.T) {
	srv, tc := tlsServer(t, Config{})
	tlsPort := strconv.Itoa(int(srv.TLSAddr().Port()))
	cases := []struct {
		name, version string
		tls           bool
		want, not     string
	}{
		{"plain 302", "302", false, "sts=port=" + tlsPort, "sts=duration"},
		{"tls 302", "302", true, "sts=duration=2592000", "sts=port"},
		{"plain without 302", "", false, "", "sts"},
	}
	for _, tc2 := range cases {
		t.Run(tc2.name, func(t *testing.T) {
			var c *tclient
			if tc2.tls {
				c = dialTLS(t, srv, tc, "c")
			} else {
				c = dialPlain(t, srv, "c")
			}
			caps := strings.Fields(capLS(c, tc2.version))
			if tc2.want != "" && !contains(caps, tc2.want) {
				t.Errorf("CAP LS = %q, want %s", caps, tc2.want)
			}
			for _, cp := range caps {
				if strings.HasPrefix(cp, tc2.not) {
					t.Errorf("CAP LS = %q, want no %s", caps, tc2.not)
				}
			}
			// STS is a policy, not something to request.
			c.send("CAP REQ sts")
			c.waitFor("CAP", "NAK")
		})
	}
	t.Run("configured", func(t *testing.T) {
		srv, tc := tlsServer(t, Config{STSDuration: time.Hour, STSPort: 6697})
		if caps := capLS(dialPlain(t, srv, "p"), "302"); !strings.Contains(caps, "sts=port=6697") {
			t.Errorf("plain CAP LS = %q, want sts=port=6697", caps)
		}
		if caps := capLS(dialTLS(t, srv, tc, "s"), "302"); !strings.Contains(caps, "sts=duration=3600") {
			t.Errorf("TLS CAP LS = %q, want sts=duration=3600", caps)
		}
	})
	t.Run("off", func(t *testing.T) {
		srv, _ := tlsServer(t, Config{STSDuration: -1})
		if caps := capLS(dialPlain(t, srv, "p"), "302"); strings.Contains(caps, "sts") {
			t.Errorf("CAP LS = %q with STS off, want no sts", caps)
		}
	})
	t.Run("no TLS listener", func(t *testing.T) {
		srv := startServer(t, Config{})
		if caps := capLS(dialPlain(t, srv, "p"), "302"); strings.Contains(caps, "sts") {
			t.Errorf("CAP LS = %q without TLS, want no sts", caps)
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// dialSrcAddr connects to srv's plain listener from the loopback address
// from.
func dialSrcAddr(srv *Server, from string) (net.Conn, error) {
	d := net.Dialer{Timeout: testTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	return d.Dial("tcp", srv.Addr().String())
}

// stormResult counts what the storm's connections were told.
type stormResult struct {
	mu        sync.Mutex
	admitted  int
	refused   map[string]int // by ERROR line
	failures  []string
	attempted int
}

// storm makes n connection attempts from addr, par at a time. Each sends
// a PING and reads one line: a PONG (admitted) or the ERROR that refused
// it; then it closes.
func storm(srv *Server, addr string, n, par int, res *stormResult) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range par {
		wg.Go(func() {
			for i := range next {
				line, err := stormOnce(srv, addr, i)
				res.mu.Lock()
				res.attempted++
				switch {
				case err != nil:
					res.failures = append(res.failures, err.Error())
				case strings.Contains(line, " PONG "):
					res.admitted++
				default:
					res.refused[line]++
				}
				res.mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// stormOnce makes one attempt from addr. A refused connection is sent its
// ERROR at once, while an admitted one hears nothing until it speaks, so
// the client first listens briefly and sends its PING only if nothing
// came: a refused client that never writes cannot be reset by a PING
// arriving after the server has stopped lingering (sock.ListenConfig.RefuseLinger),
// which a loaded machine can delay that long. Which one it was is read
// from the line, not from the timing.
func stormOnce(srv *Server, addr string, i int) (string, error) {
	c, err := dialSrcAddr(srv, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	r := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	line, err := r.ReadString('\n')
	if err == nil {
		return strings.TrimRight(line, "\r\n"), nil
	}
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		return "", fmt.Errorf("read after %q: %w", line, err)
	}
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	if _, err := fmt.Fprintf(c, "PING :s%d\r\n", i); err != nil {
		return "", fmt.Errorf("write: %w", err)
	}
	rest, err := r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read after %q: %w", line+rest, err)
	}
	return strings.TrimRight(line+rest, "\r\n"), nil
}

// stormConfig is the limits the storm runs against.
func stormConfig() Config {
	return Config{
		MaxConnsPerIP: 8,
		Throttle:      ircsock.Throttle{Conns: 50, Window: time.Minute, Ban: time.Minute},
		Flood:         ircsock.FloodControl{Burst: 10, Interval: 50 * time.Millisecond, MaxQueued: 30},
	}
}

// TestServeStorm: 2,000 connection attempts from 127.0.0.2 and a client
// flooding a channel from 127.0.0.3 do not stop a client from 127.0.0.1
// from registering, getting every PONG and having every message
// delivered. Every refused attempt is told which limit refused it; the
// flooder is closed with Excess Flood.
func TestServeStorm(t *testing.T) {
	cfg := stormConfig()
	srv := startServer(t, cfg)

	res := &stormResult{refused: map[string]int{}}
	stormDone := make(chan struct{})
	go func() {
		defer close(stormDone)
		storm(srv, "127.0.0.2", 2000, 32, res)
	}()

	// A listener on the channel, and the flooder.
	watcher := dialPlain(t, srv, "watcher")
	watcher.register("watcher")
	watcher.send("JOIN #storm")
	watcher.waitFor("366")
	fconn, err := dialSrcAddr(srv, "127.0.0.3")
	if err != nil {
		t.Fatalf("flooder: %v", err)
	}
	flooder := newTClient(t, fconn, "flooder")
	flooder.register("flooder")
	flooder.send("JOIN #storm")
	flooder.waitFor("366")
	floodDone := make(chan struct{})
	go func() {
		defer close(floodDone)
		var b strings.Builder
		for i := range 500 {
			fmt.Fprintf(&b, "PRIVMSG #storm :flood %d\r\n", i)
		}
		// The server may close on us mid-write; that is the point.
		_, _ = fconn.Write([]byte(b.String()))
	}()

	// The bystander registers during the storm, then pings and talks.
	by := dialPlain(t, srv, "bystander")
	by.register("bystander")
	by.send("JOIN #storm")
	by.waitFor("366")
	const rounds = 30
	for i := range rounds {
		by.send(fmt.Sprintf("PING :by%d", i), fmt.Sprintf("PRIVMSG #storm :by %d", i))
		by.waitFor("PONG", fmt.Sprintf("by%d", i))
	}

	// The flooder is told why it goes.
	flooder.waitFor("ERROR", "Excess Flood")
	<-floodDone
	// Every one of the bystander's messages reached the watcher, in
	// order, whatever the flooder's that arrived between them.
	for i := range rounds {
		watcher.waitFor("PRIVMSG", fmt.Sprintf(":by %d", i))
	}
	<-stormDone

	res.mu.Lock()
	defer res.mu.Unlock()
	if len(res.failures) > 0 {
		t.Errorf("%d storm connections got neither a PONG nor a refusal, e.g. %q", len(res.failures), res.failures[0])
	}
	if res.admitted > cfg.Throttle.Conns {
		t.Errorf("%d storm connections admitted, want at most Throttle.Conns = %d", res.admitted, cfg.Throttle.Conns)
	}
	if res.admitted == 0 {
		t.Error("no storm connection admitted, want the first ones in")
	}
	refused := 0
	for line, n := range res.refused {
		refused += n
		if !strings.HasPrefix(line, "ERROR :Closing Link: 127.0.0.2 (Connecting too fast: Throttle=50 per 1m0s; try again in ") &&
			line != "ERROR :Closing Link: 127.0.0.2 (Too many connections from your address: MaxConnsPerIP=8)" {
			t.Errorf("%d storm connections refused with %q, want an ERROR naming the limit", n, line)
		}
	}
	if res.attempted != 2000 || res.admitted+refused+len(res.failures) != 2000 {
		t.Errorf("storm: %d attempted, %d admitted, %d refused, %d failed; want 2000 in all", res.attempted, res.admitted, refused, len(res.failures))
	}
	t.Logf("storm: %d admitted, %d refused: %v", res.admitted, refused, res.refused)
}

// TestServeShareLimits: with ShareLimits, a client's connection to the
// plain listener counts against MaxConnsPerIP on the TLS listener too;
// without it, each listener counts on its own.
func TestServeShareLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		shared bool
	}{{"shared", true}, {"per listener", false}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, tcfg := tlsServer(t, Config{MaxConnsPerIP: 1, ShareLimits: tc.shared})
			a := dialPlain(t, srv, "a")
			a.register("alice")
			b := dialTLS(t, srv, tcfg, "b")
			if tc.shared {
				if m, _ := b.waitFor("ERROR"); !strings.Contains(m.Params[0], "MaxConnsPerIP=1") {
					t.Errorf("second connection over TLS got ERROR %q, want it to name MaxConnsPerIP=1", m.Params[0])
				}
				return
			}
			b.register("bob")
		})
	}
}
