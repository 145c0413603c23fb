package ircd

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ircsock/ircsock/ircmsg"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every network test step.
const testTimeout = 10 * time.Second

// startServer runs a Server on loopback port 0 and stops it (checking that
// Run returns) when the test ends.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(testTimeout):
			t.Errorf("Run did not return %v after cancel", testTimeout)
		}
	})
	return srv
}

// tclient is a raw IRC client on a real socket. Each read and each write
// has its own bound, so a long test is not cut short by a deadline set when
// the connection opened.
type tclient struct {
	t    *testing.T
	name string
	conn net.Conn
	r    *bufio.Reader
	// timeout bounds one line read or one write; newTClient sets
	// testTimeout.
	timeout time.Duration
}

func dialPlain(t *testing.T, srv *Server, name string) *tclient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Addr().String(), testTimeout)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	return newTClient(t, conn, name)
}

func newTClient(t *testing.T, conn net.Conn, name string) *tclient {
	t.Cleanup(func() { conn.Close() })
	return &tclient{t: t, name: name, conn: conn, r: bufio.NewReader(conn), timeout: testTimeout}
}

func (c *tclient) send(lines ...string) {
	c.t.Helper()
	for _, l := range lines {
		if err := c.write(l + "\r\n"); err != nil {
			c.t.Fatalf("%s: write %q: %v", c.name, l, err)
		}
	}
}

// write writes p whole within c.timeout and returns the error, for writes
// that may fail by design (a connection being refused) or run on another
// goroutine.
func (c *tclient) write(p string) error {
	if err := c.conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return err
	}
	_, err := io.WriteString(c.conn, p)
	return err
}

// next reads one line within c.timeout and parses it.
func (c *tclient) next() (*ircmsg.Message, string, error) {
	if err := c.conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return nil, "", err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, line, err
	}
	line = strings.TrimRight(line, "\r\n")
	m, err := ircmsg.ParseString(line)
	if err != nil {
		c.t.Fatalf("%s: server sent unparsable line %q: %v", c.name, line, err)
	}
	return m, line, nil
}

// waitFor reads until a message with command cmd whose raw line contains
// every one of subs, and returns it; reaching EOF or the deadline fails.
func (c *tclient) waitFor(cmd string, subs ...string) (*ircmsg.Message, string) {
	c.t.Helper()
	var seen []string
	for {
		m, line, err := c.next()
		if err != nil {
			c.t.Fatalf("%s: waiting for %s %q: %v; saw %q", c.name, cmd, subs, err, seen)
		}
		seen = append(seen, line)
		if m.Command != cmd {
			continue
		}
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			return m, line
		}
	}
}

// waitEOF reads until the server closes the connection.
func (c *tclient) waitEOF() {
	c.t.Helper()
	for {
		_, line, err := c.next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			c.t.Fatalf("%s: waiting for EOF: %v (last %q)", c.name, err, line)
		}
	}
}

func (c *tclient) register(nick string) {
	c.t.Helper()
	c.send("NICK "+nick, "USER "+nick+" 0 * :Real "+nick)
	c.waitFor("001", nick)
	c.waitFor("422") // end of the welcome burst
}

func TestServeChat(t *testing.T) {
	srv := startServer(t, Config{})
	alice := dialPlain(t, srv, "alice")
	bob := dialPlain(t, srv, "bob")
	alice.register("alice")
	bob.register("bob")

	steps := []struct {
		name     string
		from     *tclient
		send     string
		to       *tclient
		wantCmd  string
		wantSubs []string
	}{
		{"alice joins and is op", alice, "JOIN #chat", alice, "353", []string{"= #chat :@alice"}},
		{"bob joins, alice sees", bob, "JOIN #chat", alice, "JOIN", []string{":bob!bob@127.0.0.1 JOIN :#chat"}},
		{"bob gets names", bob, "NAMES #chat", bob, "353", []string{":@alice bob"}},
		{"channel privmsg", alice, "PRIVMSG #chat :hello channel", bob, "PRIVMSG", []string{":alice!alice@127.0.0.1 PRIVMSG #chat :hello channel"}},
		{"channel notice", bob, "NOTICE #chat :a notice", alice, "NOTICE", []string{":bob!bob@127.0.0.1 NOTICE #chat :a notice"}},
		{"private privmsg", bob, "PRIVMSG alice :psst", alice, "PRIVMSG", []string{":bob!bob@127.0.0.1 PRIVMSG alice :psst"}},
		{"private notice", alice, "NOTICE bob :ok", bob, "NOTICE", []string{"NOTICE bob :ok"}},
		{"topic set", alice, "TOPIC #chat :the topic", bob, "TOPIC", []string{":alice!alice@127.0.0.1 TOPIC #chat :the topic"}},
		{"topic get", bob, "TOPIC #chat", bob, "333", []string{"333 bob #chat alice!alice@127.0.0.1"}},
		{"who", bob, "WHO #chat", bob, "352", []string{"352 bob #chat alice 127.0.0.1 ircsock.localhost alice H@ :0 Real alice"}},
		{"who end", bob, "WHO #chat", bob, "315", []string{"315 bob #chat :End of WHO list"}},
		{"nick in use", bob, "NICK Alice", bob, "433", []string{"433 bob Alice :Nickname is already in use"}},
		{"no such nick", bob, "PRIVMSG nobody :x", bob, "401", []string{"401 bob nobody"}},
		{"no such channel", bob, "PART #nowhere", bob, "403", []string{"403 bob #nowhere"}},
		{"unknown command", bob, "FROB", bob, "421", []string{"421 bob FROB"}},
		{"need more params", bob, "TOPIC", bob, "461", []string{"461 bob TOPIC"}},
		{"ping", bob, "PING :tok", bob, "PONG", []string{"PONG ircsock.localhost :tok"}},
		{"nick change", bob, "NICK robert", alice, "NICK", []string{":bob!bob@127.0.0.1 NICK :robert"}},
		{"quit broadcast", bob, "QUIT :see you", alice, "QUIT", []string{":robert!bob@127.0.0.1 QUIT :Quit: see you"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.from.t, st.to.t = t, t
			st.from.send(st.send)
			st.to.waitFor(st.wantCmd, st.wantSubs...)
		})
	}
	bob.t = t
	bob.waitFor("ERROR", "Closing Link: 127.0.0.1 (Quit: see you)")
	bob.waitEOF()
}

func TestServeCap(t *testing.T) {
	srv := startServer(t, Config{})
	plain := dialPlain(t, srv, "plain")
	plain.register("plain")
	tagged := dialPlain(t, srv, "tagged")
	tagged.send("CAP LS 302", "NICK tagged", "USER t 0 * :T")
	tagged.waitFor("CAP", "LS", "message-tags", "server-time")
	tagged.send("CAP REQ :message-tags server-time")
	tagged.waitFor("CAP", "ACK", "message-tags server-time")
	tagged.send("CAP END")
	tagged.waitFor("001")
	tagged.waitFor("422")

	plain.send("JOIN #t")
	plain.waitFor("366")
	tagged.send("JOIN #t")
	tagged.waitFor("366")

	plain.send("@+example/x=1;+react=ok PRIVMSG #t :hi")
	m, line := tagged.waitFor("PRIVMSG", "hi")
	if v, ok := m.Tag("time"); !ok {
		t.Errorf("relayed PRIVMSG %q has no time tag", line)
	} else if _, err := time.Parse("2006-01-02T15:04:05.000Z", v); err != nil {
		t.Errorf("time tag %q: %v", v, err)
	}
	if v, ok := m.Tag("+example/x"); !ok || v != "1" {
		t.Errorf("relayed PRIVMSG %q: +example/x = %q, %v; want \"1\", true", line, v, ok)
	}

	tagged.send("@+typing=active TAGMSG #t")
	tagged.send("PRIVMSG #t :after")
	for {
		m, line, err := plain.next()
		if err != nil {
			t.Fatalf("waiting for PRIVMSG after TAGMSG: %v", err)
		}
		if m.Command == "TAGMSG" {
			t.Errorf("client without message-tags got %q", line)
		}
		if m.Command == "PRIVMSG" {
			if len(m.Tags) != 0 {
				t.Errorf("client without CAPs got tags: %q", line)
			}
			break
		}
	}
}

func TestServeNotRegistered(t *testing.T) {
	srv := startServer(t, Config{})
	c := dialPlain(t, srv, "c")
	c.send("JOIN #x")
	c.waitFor("451", "You have not registered")
	c.send("NICK 1bad")
	c.waitFor("432", "1bad")
	c.send("NICK")
	c.waitFor("431")
	c.register("late")
}

func TestServePassword(t *testing.T) {
	srv := startServer(t, Config{Password: "sesame"})
	bad := dialPlain(t, srv, "bad")
	bad.send("PASS wrong", "NICK bad", "USER b 0 * :B")
	bad.waitFor("464")
	bad.waitFor("ERROR", "Bad password")
	bad.waitEOF()
	good := dialPlain(t, srv, "good")
	good.send("PASS sesame")
	good.register("good")
}

func TestServePingTimeout(t *testing.T) {
	srv := startServer(t, Config{PingInterval: 200 * time.Millisecond})
	c := dialPlain(t, srv, "c")
	c.register("sleepy")
	c.waitFor("PING")
	_, line := c.waitFor("ERROR", "Ping timeout:")
	if !strings.HasSuffix(line, " seconds)") {
		t.Errorf("ERROR line %q, want it to end in \" seconds)\"", line)
	}
	c.waitEOF()

	// A client that answers stays.
	d := dialPlain(t, srv, "d")
	d.register("awake")
	for range 3 {
		m, _ := d.waitFor("PING")
		d.send("PONG :" + m.Params[len(m.Params)-1])
	}
}

func TestServeRegistrationTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	srv := startServer(t, Config{RegisterTimeout: timeout})
	// The server starts the clock when it accepts, after the dial begins:
	// measured from here, an early close is a broken promise whatever the
	// scheduler does. How late it comes is not asserted.
	start := time.Now()
	slow := dialPlain(t, srv, "slow")
	slow.send("NICK slow") // but never USER
	slow.waitFor("ERROR", "Closing Link: 127.0.0.1 (Registration timeout)")
	slow.waitEOF()
	if el := time.Since(start); el < timeout {
		t.Errorf("closed %v after the dial began, before the %v registration timeout", el, timeout)
	}
	fast := dialPlain(t, srv, "fast")
	fast.register("slow") // the nick was freed
}

func TestServeLineTooLong(t *testing.T) {
	srv := startServer(t, Config{MaxLine: 1024})
	c := dialPlain(t, srv, "c")
	c.register("c")
	c.send("PRIVMSG c :" + strings.Repeat("x", 5000))
	c.waitFor("417")
	c.send("PING :still")
	c.waitFor("PONG", "still")
}

func TestServeTLS(t *testing.T) {
	cert, fp, err := LoadOrCreateCert(filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatalf("LoadOrCreateCert: %v", err)
	}
	srv := startServer(t, Config{
		Listen:    "none",
		TLSListen: "127.0.0.1:0",
		TLS:       &tls.Config{Certificates: []tls.Certificate{cert}},
	})
	if srv.Addr().IsValid() {
		t.Errorf("Addr() = %v with Listen none, want invalid", srv.Addr())
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: testTimeout}, Config: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", srv.TLSAddr().String())
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	got := Fingerprint(conn.(*tls.Conn).ConnectionState().PeerCertificates[0].Raw)
	if got != fp {
		t.Errorf("peer certificate fingerprint %s, want %s", got, fp)
	}
	c := newTClient(t, conn, "tls")
	c.register("secure")
	c.send("WHOIS secure")
	c.waitFor("671", "secure connection")
}

// TestServeTLSRequestsClientCert checks that the TLS listener asks for a
// client certificate (the client's callback runs) and accepts an
// unverifiable self-signed one; TestServeTLS connects without one.
func TestServeTLSRequestsClientCert(t *testing.T) {
	cert, _, err := LoadOrCreateCert(filepath.Join(t.TempDir(), "server"))
	if err != nil {
		t.Fatalf("LoadOrCreateCert: %v", err)
	}
	clientCert, _, err := LoadOrCreateCert(filepath.Join(t.TempDir(), "client"), "client.example")
	if err != nil {
		t.Fatalf("LoadOrCreateCert (client): %v", err)
	}
	srv := startServer(t, Config{
		Listen:    "none",
		TLSListen: "127.0.0.1:0",
		TLS:       &tls.Config{Certificates: []tls.Certificate{cert}},
	})
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	asked := make(chan struct{}, 1)
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: testTimeout}, Config: &tls.Config{
		RootCAs: pool, ServerName: "localhost",
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			asked <- struct{}{}
			return &clientCert, nil
		},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", srv.TLSAddr().String())
	if err != nil {
		t.Fatalf("TLS dial with a self-signed client certificate: %v", err)
	}
	select {
	case <-asked:
	default:
		t.Errorf("the TLS listener did not request a client certificate")
	}
	c := newTClient(t, conn, "tls")
	c.register("certified")
	c.send("PING :after")
	c.waitFor("PONG", "after")
}

func TestServeShutdown(t *testing.T) {
	// A short drain: c below never closes its side, and the shutdown
	// must still be clean once the drain time is up.
	srv, err := New(Config{Listen: "127.0.0.1:0", DrainTimeout: 300 * time.Millisecond, ShutdownTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	a := dialPlain(t, srv, "a")
	a.register("a")
	b := dialPlain(t, srv, "b") // unregistered
	b.send("NICK b")
	c := dialPlain(t, srv, "c")
	c.register("stubborn")
	a.send("JOIN #x")
	a.waitFor("366")
	cancel()
	for _, cl := range []*tclient{a, b} {
		cl.waitFor("ERROR", "Server shutting down")
		cl.waitEOF()
		cl.conn.Close() // as a real client does
	}
	c.waitFor("ERROR", "Server shutting down")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(testTimeout):
		t.Fatalf("Run did not return within %v of cancel", testTimeout)
	}
	c.conn.Close()
	goleak.VerifyNone(t)
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"no listener", Config{Listen: "none"}},
		{"tls without config", Config{Listen: "none", TLSListen: "127.0.0.1:0"}},
		{"bad address", Config{Listen: "127.0.0.1"}},
		{"bad port", Config{Listen: "127.0.0.1:http"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := New(tc.cfg)
			if err == nil {
				srv.Close()
				t.Fatalf("New(%+v) = nil error, want one", tc.cfg)
			}
		})
	}
}

func TestServeBadInput(t *testing.T) {
	srv := startServer(t, Config{MaxLine: 1024})
	c := dialPlain(t, srv, "c")
	c.register("c")
	other := dialPlain(t, srv, "other")
	other.register("other")
	cases := []struct {
		name string
		line string
		want string // a reply command expected before the PONG, or ""
	}{
		{"too long", "PRIVMSG other :" + strings.Repeat("x", 5000), "417"},
		{"tags too long", "@a=" + strings.Repeat("y", 9000) + " PING :x", "417"},
		{"NUL byte", "PRIVMSG other :a\x00b", ""},
		{"only spaces", "     ", ""},
		{"tags only", "@a=b", ""},
		{"source only", ":nick!u@h", ""},
		{"invalid UTF-8", "PRIVMSG other :\xff\xfe", ""},
		{"bad escapes", "@a=\\\\\\ PRIVMSG other :esc", ""},
		{"lone CR", "PRIVMSG other :a\rb", ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			token := "alive" + string(rune('a'+i))
			c.send(tc.line, "PING :"+token)
			if tc.want != "" {
				c.waitFor(tc.want)
			}
			c.waitFor("PONG", token)
		})
	}
	c.t = t
	// The other client still works and nothing broke its stream.
	other.send("PRIVMSG c :still here")
	c.waitFor("PRIVMSG", ":other!other@127.0.0.1 PRIVMSG c :still here")
}

func TestServeSendQ(t *testing.T) {
	srv := startServer(t, Config{MaxSendQ: 64 << 10})
	talker := dialPlain(t, srv, "talker")
	talker.register("talker")
	stuck := dialPlain(t, srv, "stuck")
	stuck.register("stuck")
	observer := dialPlain(t, srv, "observer")
	observer.register("observer")
	talker.send("JOIN #q")
	talker.waitFor("366")
	observer.send("JOIN #obs")
	observer.waitFor("366")
	stuck.send("JOIN #q,#obs")
	talker.waitFor("JOIN", "stuck")
	observer.waitFor("JOIN", "stuck")

	// stuck never reads again; talker floods #q with far more than the
	// send queue and the loopback socket buffers hold. Senders get no
	// echo, so talker's own queue stays empty.
	line := "PRIVMSG #q :" + strings.Repeat("z", 400) + "\r\n"
	batch := strings.Repeat(line, 100)
	stop := make(chan struct{})
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		for range 300 {
			select {
			case <-stop:
				return
			default:
			}
			if err := talker.write(batch); err != nil {
				return
			}
		}
	}()
	observer.waitFor("QUIT", ":stuck!stuck@127.0.0.1 QUIT", "SendQ")
	close(stop)
	<-flooded
	for _, c := range []*tclient{talker, observer} {
		c.send("PING :after")
		c.waitFor("PONG", "after")
	}
}

func TestServeIPv6(t *testing.T) {
	requireIPv6Loopback(t)
	srv := startServer(t, Config{Listen: "[::1]:0"})
	if got := srv.Addr().Addr().String(); got != "::1" {
		t.Errorf("Addr() = %v, want [::1]:port", srv.Addr())
	}
	conn, err := net.DialTimeout("tcp", srv.Addr().String(), testTimeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := newTClient(t, conn, "v6")
	c.send("NICK six", "USER six 0 * :Six")
	// "::1" would start a trailing parameter inside 352; the server writes 0::1.
	c.waitFor("001", "six!six@0::1")
	c.send("WHO six")
	m, line := c.waitFor("352")
	if len(m.Params) != 8 || m.Params[3] != "0::1" {
		t.Errorf("352 = %q, want host parameter 0::1 and 8 parameters", line)
	}
}
