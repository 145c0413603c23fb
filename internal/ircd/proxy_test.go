package ircd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// freePort returns a port that was free on host a moment ago. haproxy
// binds it with noreuseport, so a clash fails its start loudly.
func freePort(t *testing.T, host string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("free port on %s: %v", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects a process's output for the failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// haproxyBin finds Debian's haproxy; under CI=true its absence fails.
func haproxyBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/haproxy"); serr == nil {
			return "/usr/sbin/haproxy"
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and haproxy is not installed: %v", err)
		}
		t.Skipf("skipped: haproxy not installed (apt-get install haproxy): %v", err)
	}
	return bin
}

// errHAProxyExited means haproxy stopped before its frontends were up,
// most likely because a port picked by freePort was taken meanwhile.
var errHAProxyExited = errors.New("haproxy exited before its frontends were up")

// startHAProxy checks and runs config in the foreground and stops it by
// its pid when the test ends. ready lists frontends to wait for. It
// returns errHAProxyExited (with haproxy's log) if haproxy stopped first.
func startHAProxy(t *testing.T, config string, ready ...string) error {
	t.Helper()
	bin := haproxyBin(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, "-c", "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s\nconfig:\n%s", err, out, config)
	}
	var log lockedBuffer
	cmd := exec.Command(bin, "-db", "-f", file)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(testTimeout):
			t.Errorf("haproxy (pid %d) did not exit within %v of SIGKILL", cmd.Process.Pid, testTimeout)
		}
		if t.Failed() {
			t.Logf("haproxy log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(testTimeout)
	for _, addr := range ready {
		for {
			select {
			case err := <-exited:
				exited <- err // for the cleanup
				return fmt.Errorf("%w: %v\n%s", errHAProxyExited, err, log.String())
			default:
			}
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				// haproxy opens its own connection to the backend for
				// this probe; closing at once is harmless.
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("haproxy frontend %s not up within %v: %v\n%s", addr, testTimeout, err, log.String())
			}
			time.Sleep(20 * time.Millisecond) // polling a port, bounded by deadline
		}
	}
	return nil
}

// dialFrom connects to addr from the local address from.
func dialFrom(t *testing.T, from, addr, name string) *tclient {
	t.Helper()
	d := net.Dialer{Timeout: testTimeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("%s: dial %s from %s: %v", name, addr, from, err)
	}
	return newTClient(t, conn, name)
}

// waitClosed reads until the connection ends (EOF or reset); a deadline
// or a 001 welcome fails.
func (c *tclient) waitClosed() {
	c.t.Helper()
	for {
		m, line, err := c.next()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatalf("%s: still open after %v without a line, want it refused", c.name, c.timeout)
			}
			return
		}
		if m.Command == "001" {
			c.t.Fatalf("%s: welcomed (%q), want it refused", c.name, line)
		}
	}
}

// haproxyGlobal opens the test's HAProxy configuration: the log on
// stderr, no SO_REUSEPORT (a port in use fails the start instead of being
// shared), plain TCP proxying.
const haproxyGlobal = `global
    log stderr format raw local0
    noreuseport
defaults
    mode tcp
    log global
    timeout connect 5s
    timeout client 60s
    timeout server 60s
`

// TestServeBehindHAProxy runs serve behind Debian's HAProxy with
// send-proxy and send-proxy-v2 frontends, IPv4 and IPv6: the client's own
// address, not HAProxy's, is the one serve shows and limits.
func TestServeBehindHAProxy(t *testing.T) {
	requireIPv6Loopback(t)
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	// One connection per client address: HAProxy's own address 127.0.0.1
	// carries several at once, so a limit applied to it would show.
	limited := startServer(t, Config{ProxyFrom: trusted, MaxConnsPerIP: 1})
	open := startServer(t, Config{ProxyFrom: trusted})

	// Ports are picked free, then bound by haproxy: another process may
	// take one in between, so a start that fails is retried with new ones.
	var fe map[string]string
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		fe = map[string]string{
			"v1_4": net.JoinHostPort("127.0.0.1", fmt.Sprint(freePort(t, "127.0.0.1"))),
			"v2_4": net.JoinHostPort("127.0.0.1", fmt.Sprint(freePort(t, "127.0.0.1"))),
			"v1_6": net.JoinHostPort("::1", fmt.Sprint(freePort(t, "::1"))),
			"v2_6": net.JoinHostPort("::1", fmt.Sprint(freePort(t, "::1"))),
		}
		var cfg strings.Builder
		cfg.WriteString(haproxyGlobal)
		for _, f := range []struct{ name, send, server string }{
			{"v1_4", "send-proxy", limited.Addr().String()},
			{"v2_4", "send-proxy-v2", limited.Addr().String()},
			{"v1_6", "send-proxy", open.Addr().String()},
			{"v2_6", "send-proxy-v2", open.Addr().String()},
		} {
			// No "check" on the server line: health checks would open
			// connections of their own.
			fmt.Fprintf(&cfg, "frontend fe_%s\n    bind %s\n    default_backend be_%s\nbackend be_%s\n    server s %s %s\n",
				f.name, fe[f.name], f.name, f.name, f.server, f.send)
		}
		err = startHAProxy(t, cfg.String(), fe["v1_4"], fe["v2_4"], fe["v1_6"], fe["v2_6"])
		if !errors.Is(err, errHAProxyExited) {
			break
		}
		t.Logf("attempt %d: %v", attempt+1, err)
	}
	if err != nil {
		t.Fatal(err)
	}

	// IPv4 through send-proxy: serve sees 127.0.0.2.
	a := dialFrom(t, "127.0.0.2", fe["v1_4"], "a")
	a.register("alice")
	a.send("WHOIS alice")
	a.waitFor("311", "alice", "127.0.0.2")

	// A second client from 127.0.0.2, through send-proxy-v2 this time,
	// is over the per-address limit of 1.
	b := dialFrom(t, "127.0.0.2", fe["v2_4"], "b")
	_ = b.write("NICK bob\r\nUSER bob 0 * :Bob\r\n") // may race the refusal
	b.waitClosed()

	// 127.0.0.3 is another address: admitted, though HAProxy's own
	// 127.0.0.1 already carries alice's connection.
	c := dialFrom(t, "127.0.0.3", fe["v2_4"], "c")
	c.register("carol")
	c.send("WHOIS carol")
	c.waitFor("311", "carol", "127.0.0.3")
	c.send("PRIVMSG alice :through two proxies")
	a.waitFor("PRIVMSG", "carol!", "127.0.0.3", "through two proxies")

	// IPv6 clients on ::1 reach serve over 127.0.0.1; the header names
	// ::1 (written 0::1 so that it cannot read as a trailing parameter).
	for _, name := range []string{"v1_6", "v2_6"} {
		d := dialFrom(t, "::1", fe[name], name)
		nick := "six" + strings.ReplaceAll(name, "_", "")
		d.register(nick)
		d.send("WHOIS " + nick)
		d.waitFor("311", nick, "0::1")
	}

	// Straight to serve, not through HAProxy: a trusted address without a
	// header is refused, and so is an untrusted address with one.
	direct := dialFrom(t, "127.0.0.1", limited.Addr().String(), "direct")
	// One write, its error ignored: the refusal may reset the connection
	// before a second one.
	_ = direct.write("NICK dave\r\nUSER dave 0 * :Dave\r\n")
	direct.waitClosed()
	forged := dialFrom(t, "127.0.0.4", limited.Addr().String(), "forged")
	_ = forged.write("PROXY TCP4 192.0.2.1 127.0.0.1 1234 6667\r\nNICK eve\r\nUSER eve 0 * :Eve\r\n")
	forged.waitClosed()
}

// requireIPv6Loopback skips without ::1, except under CI=true.
func requireIPv6Loopback(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp6", "[::1]:0")
	if err == nil {
		l.Close()
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and ::1 cannot be bound: %v", err)
	}
	t.Skipf("skipped: ::1 cannot be bound: %v", err)
}

// TestServeBehindHAProxyOptional runs serve with ProxyOptional behind
// Debian's HAProxy: a client through HAProxy is known by its own address,
// a connection from the trusted address without a header is admitted
// with that address, and an untrusted address's header is still refused.
func TestServeBehindHAProxyOptional(t *testing.T) {
	srv := startServer(t, Config{ProxyFrom: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, ProxyOptional: true})
	var fe string
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		fe = net.JoinHostPort("127.0.0.1", fmt.Sprint(freePort(t, "127.0.0.1")))
		err = startHAProxy(t, haproxyGlobal+fmt.Sprintf(
			"frontend fe\n    bind %s\n    default_backend be\nbackend be\n    server s %s send-proxy-v2\n", fe, srv.Addr()), fe)
		if !errors.Is(err, errHAProxyExited) {
			break
		}
		t.Logf("attempt %d: %v", attempt+1, err)
	}
	if err != nil {
		t.Fatal(err)
	}

	a := dialFrom(t, "127.0.0.2", fe, "a")
	a.register("alice")
	a.send("WHOIS alice")
	a.waitFor("311", "alice", "127.0.0.2")

	// The proxy's own address, straight to serve and without a header.
	direct := dialFrom(t, "127.0.0.1", srv.Addr().String(), "direct")
	direct.register("dave")
	direct.send("WHOIS dave")
	direct.waitFor("311", "dave", "127.0.0.1")

	forged := dialFrom(t, "127.0.0.4", srv.Addr().String(), "forged")
	_ = forged.write("PROXY TCP4 192.0.2.1 127.0.0.1 1234 6667\r\nNICK eve\r\nUSER eve 0 * :Eve\r\n")
	forged.waitClosed()
}
