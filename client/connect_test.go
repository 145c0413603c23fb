package client_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ircsock/ircsock/client"
	"github.com/ircsock/ircsock/internal/ircd"
	"github.com/ircsock/ircsock/ircmsg"
)

// runIRCd starts the project's own server (the one of "ircsock serve")
// on a loopback port until the test ends.
func runIRCd(t *testing.T, cfg ircd.Config) *ircd.Server {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	srv, err := ircd.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(step):
			t.Error("the server did not stop")
		}
	})
	return srv
}

func TestServerPassword(t *testing.T) {
	srv := runIRCd(t, ircd.Config{Password: "letmein"})
	t.Run("right", func(t *testing.T) {
		c := newTClient(t, "pass-ok", client.Config{Addr: srv.Addr().String(), Nick: "passok", Password: "letmein"}).start()
		c.waitEvent(client.EventRegistered)
		if tr := c.traceText(); !strings.Contains(tr, "-> PASS ***") || strings.Contains(tr, "letmein") {
			t.Errorf("trace should show PASS *** and never the password:\n%s", tr)
		}
	})
	t.Run("wrong", func(t *testing.T) {
		c := newTClient(t, "pass-bad", client.Config{Addr: srv.Addr().String(), Nick: "passbad", Password: "nope",
			Reconnect: client.Reconnect{Disabled: true}}).start()
		err := c.result()
		if err == nil || c.hasCommand("001") || !c.hasCommand("464") {
			t.Errorf("Run = %v, 464 seen %v, 001 seen %v; want a failure after 464 and no 001", err, c.hasCommand("464"), c.hasCommand("001"))
		}
	})
}

func TestIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		if underCI() {
			t.Fatalf("no IPv6 loopback: %v", err)
		}
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	srv := runIRCd(t, ircd.Config{Listen: "[::1]:0"})
	c := newTClient(t, "v6", client.Config{Addr: srv.Addr().String(), Nick: "six"}).start()
	c.waitEvent(client.EventRegistered)
	if !strings.HasPrefix(srv.Addr().String(), "[::1]:") {
		t.Errorf("server address %s is not IPv6", srv.Addr())
	}
}

// The caller's Dialer (here with a local address of 127.0.0.2) and the
// caller's dial function (as a proxy would be) are the ones used.
func TestCallerDialers(t *testing.T) {
	srv := runIRCd(t, ircd.Config{})
	t.Run("Dialer", func(t *testing.T) {
		p := listenPeer(t)
		c := newTClient(t, "dialer", client.Config{Addr: p.addr(), Nick: "d",
			Dialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}}).start()
		p.accept()
		if host, _, _ := net.SplitHostPort(p.c.RemoteAddr().String()); host != "127.0.0.2" {
			t.Errorf("connection from %s, want 127.0.0.2 (the Dialer's LocalAddr)", host)
		}
		_ = c
	})
	t.Run("Dial func", func(t *testing.T) {
		var calls atomic.Int32
		c := newTClient(t, "dialfunc", client.Config{Addr: "irc.invalid:6667", Nick: "df",
			Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				calls.Add(1)
				if addr != "irc.invalid:6667" {
					return nil, errors.New("unexpected address " + addr)
				}
				var d net.Dialer
				return d.DialContext(ctx, network, srv.Addr().String()) // the "proxy"
			}}).start()
		c.waitEvent(client.EventRegistered)
		if calls.Load() != 1 {
			t.Errorf("Dial called %d times, want 1", calls.Load())
		}
	})
}

// TLS with SNI taken from Addr and verification against the caller's
// RootCAs.
func TestTLSServerName(t *testing.T) {
	dir := t.TempDir()
	cert, _, err := ircd.LoadOrCreateCert(dir, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	sni := make(chan string, 1)
	srv := runIRCd(t, ircd.Config{Listen: "none", TLSListen: "127.0.0.1:0", TLS: &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			select {
			case sni <- h.ServerName:
			default:
			}
			return nil, nil
		},
	}})
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	_, port, _ := net.SplitHostPort(srv.TLSAddr().String())
	c := newTClient(t, "tls", client.Config{Addr: net.JoinHostPort("localhost", port), Nick: "tls",
		TLS: &tls.Config{RootCAs: roots}}).start()
	c.waitEvent(client.EventRegistered)
	if got := <-sni; got != "localhost" {
		t.Errorf("SNI %q, want localhost (from Addr)", got)
	}

	bad := newTClient(t, "tls-untrusted", client.Config{Addr: srv.TLSAddr().String(), Nick: "bad",
		TLS: &tls.Config{}, Reconnect: client.Reconnect{Disabled: true}}).start()
	var certErr *tls.CertificateVerificationError
	if err := bad.result(); !errors.As(err, &certErr) {
		t.Errorf("Run with an untrusted certificate = %v, want a certificate verification error", err)
	}
}

func TestSASLRequiredUnavailable(t *testing.T) {
	srv := runIRCd(t, ircd.Config{}) // offers no sasl
	c := newTClient(t, "required", client.Config{Addr: srv.Addr().String(), Nick: "req",
		SASL:      client.SASL{Password: "pw", Required: true},
		Reconnect: client.Reconnect{Disabled: true}}).start()
	if err := c.result(); !errors.Is(err, client.ErrSASLUnavailable) {
		t.Errorf("Run = %v, want ErrSASLUnavailable", err)
	}
	if c.hasCommand("001") {
		t.Error("registered without the required login")
	}
}

// chghost, account-notify and batch grouping, as a server sends them.
func TestStateFromServer(t *testing.T) {
	p := listenPeer(t)
	var groups []*client.Batch
	got := make(chan struct{}, 1)
	c := newTClient(t, "state", client.Config{Addr: p.addr(), Nick: "me"})
	c.HandleBatch("netsplit", func(_ *client.Client, b *client.Batch) {
		groups = append(groups, b)
		got <- struct{}{}
	})
	c.start()
	p.open()
	p.send(":srv CAP * LS :chghost batch account-notify")
	p.expect("CAP REQ ")
	p.send(":srv CAP me ACK :chghost batch account-notify")
	p.expect("CAP END")
	p.send(":srv 001 me :Welcome",
		`:srv 005 me CASEMAPPING=ascii PREFIX=(qov)~@+ NETWORK=Test\x20Net :are supported`,
		":me!u@h JOIN #c",
		":srv 353 me = #c :@me a!ua@ha b!ub@hb",
		":a!ua@ha CHGHOST newuser new.host",
		":a!ua@ha ACCOUNT acct",
		"BATCH +s1 netsplit one.test two.test",
		"@batch=s1 :a!newuser@new.host QUIT :one.test two.test",
		"@batch=s1 :b!ub@hb QUIT :one.test two.test",
		"BATCH -s1")
	select {
	case <-got:
	case <-time.After(step):
		t.Fatal("no netsplit batch")
	}
	if len(groups) != 1 || len(groups[0].Messages) != 2 || groups[0].Params[0] != "one.test" {
		t.Fatalf("batches %+v, want one netsplit of two QUITs", groups)
	}
	if c.hasMatch(func(m *ircmsg.Message) bool { return m.Command == "QUIT" }) == false {
		t.Error("the batch's QUITs did not reach the QUIT handlers one by one")
	}
	ch, _ := c.Channel("#c")
	if len(ch.Members) != 1 || ch.Members[0].Nick != "me" || ch.Members[0].Prefixes != "@" {
		t.Errorf("#c after the netsplit: %+v, want only @me", ch.Members)
	}
	// chghost and account came before the split: check them on a fresh join.
	p.send(":a!newuser@new.host JOIN #c")
	c.waitPoll("a back", func() bool { _, ok := c.User("a"); return ok })
	if u, _ := c.User("A"); u.Ident != "newuser" || u.Host != "new.host" {
		t.Errorf("User(A) = %+v, want newuser@new.host", u)
	}
	if c.Casemap().String() != "ascii" {
		t.Errorf("Casemap() = %v, want ascii from 005", c.Casemap())
	}
	is := c.ISupport()
	if is.Network() != "Test Net" || is.Prefix().Symbols != "~@+" {
		t.Errorf("ISupport(): NETWORK %q, PREFIX %+v; want \"Test Net\", ~@+", is.Network(), is.Prefix())
	}
	if caps := c.Caps(); len(caps) != 3 {
		t.Errorf("Caps() = %v, want the three acknowledged", caps)
	}
	if err := c.Notice("#c", "notice text"); err != nil {
		t.Fatal(err)
	}
	p.expect("NOTICE #c :notice text")
}
