package interop

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
)

// serverLink is our side of a server link to ngircd, after our PASS and
// SERVER have been sent (when we dialled) or before (when ngircd dialled
// us). send writes its lines with one flush; expect returns the next
// matching line received.
type serverLink interface {
	send(t testing.TB, lines ...string)
	expect(ctx context.Context, t testing.TB, what string, match func(rawLine) bool) rawLine
}

// Names in the link scenario.
const (
	linkNick  = "linkbot" // the user we burst over the link
	obsNick   = "watcher" // the plain client on ngircd
	linkChan  = "#test"
	burstSize = 50
)

// linkDirection says who dials whom and whether over TLS.
type linkDirection struct {
	name    string
	reverse bool // ngircd dials us after an operator's CONNECT
	tls     bool
}

var linkDirections = []linkDirection{
	{name: "we dial plain"},
	{name: "we dial TLS", tls: true},
	{name: "ngircd dials plain", reverse: true},
	{name: "ngircd dials TLS", reverse: true, tls: true},
}

// linkSetup is a running ngircd and an observer client in linkChan.
type linkSetup struct {
	n   *ngircd
	obs *rawClient
}

// setupLink starts ngircd for d (dialling linkPort on CONNECT, if nonzero)
// and the observer.
func setupLink(ctx context.Context, t *testing.T, d linkDirection, pki *testPKI, linkPort int) *linkSetup {
	t.Helper()
	n := startNgircd(ctx, t, ngircdOpts{LinkPort: linkPort, LinkTLS: d.tls, PKI: pki})
	obs := dialRaw(t, obsNick, hostPort(n.Port), nil)
	obs.register(ctx, t, obsNick)
	obs.send("JOIN %s", linkChan)
	obs.expect(ctx, t, "the observer's JOIN", func(l rawLine) bool { return l.Command == "JOIN" && l.Nick() == obsNick })
	return &linkSetup{n: n, obs: obs}
}

// dialAddr is ngircd's port for a link we dial, and the TLS config that
// trusts its certificate, or nil.
func (s *linkSetup) dialAddr(d linkDirection) (string, *tls.Config) {
	if d.tls {
		return hostPort(s.n.SSLPort), s.n.PKI.ClientTLS()
	}
	return hostPort(s.n.Port), nil
}

// connect has the observer become an operator and make ngircd dial us.
func (s *linkSetup) connect(ctx context.Context, t testing.TB) {
	t.Helper()
	s.obs.send("OPER %s %s", operName, operPass)
	s.obs.expect(ctx, t, "381 you are an operator", isCommand("381"))
	s.obs.send("CONNECT %s", ourName)
}

// runLinkScenario checks ngircd's handshake, bursts our user into
// linkChan, answers the end-of-burst PING and then checks messages both
// ways against the observer.
func runLinkScenario(ctx context.Context, t *testing.T, s *linkSetup, d linkDirection, link serverLink) {
	pass := link.expect(ctx, t, "ngircd's PASS", isCommand("PASS"))
	if got, want := pass.Param(0), passToUs; got != want {
		t.Errorf("ngircd's PASS password = %q, want %q (line %q)", got, want, pass.Raw)
	}
	if got := pass.Param(2); !strings.HasPrefix(pass.Param(1), "0210") || !strings.Contains(flagsOf(got), "Z") {
		t.Errorf("ngircd's PASS = %q, want version 0210 and Z among the flags", pass.Raw)
	}
	srv := link.expect(ctx, t, "ngircd's SERVER", isCommand("SERVER"))
	if got, want := srv.Param(0), ngircdName; got != want {
		t.Errorf("ngircd's SERVER name = %q, want %q (line %q)", got, want, srv.Raw)
	}
	if d.reverse {
		link.send(t, ourPass(), ourServer())
	}
	p := ":" + ourName + " "
	link.send(t,
		// RFC 2813 NICK from a server: nick hopcount user host token
		// modes :realname.
		p+"NICK "+linkNick+" 1 "+linkNick+" 127.0.0.1 1 + :interop link bot",
		p+"NJOIN "+linkChan+" :"+linkNick,
	)
	ping := link.expect(ctx, t, "ngircd's end-of-burst PING", isCommand("PING"))
	link.send(t, p+"PONG "+ourName+" :"+ping.Param(0))
	// ngircd's own word that it compresses this link, besides the
	// fact that it understands what we send after SERVER.
	if _, err := s.n.proc.out.wait(ctx, regexp.MustCompile(`Enabled link compression \(zlib\) on connection`)); err != nil {
		t.Errorf("ngircd did not enable compression: %v", err)
	}
	s.obs.expect(ctx, t, linkNick+"'s JOIN", func(l rawLine) bool {
		return l.Command == "JOIN" && l.Nick() == linkNick && l.Param(0) == linkChan
	})

	from := ":" + linkNick + " "
	cases := []struct {
		name string
		run  func(t *testing.T, text string)
	}{
		{"our channel PRIVMSG", func(t *testing.T, text string) {
			link.send(t, from+"PRIVMSG "+linkChan+" :"+text)
			s.obs.expect(ctx, t, "our channel PRIVMSG", isMsg(linkNick, linkChan, text))
		}},
		{"our private PRIVMSG", func(t *testing.T, text string) {
			link.send(t, from+"PRIVMSG "+obsNick+" :"+text)
			s.obs.expect(ctx, t, "our private PRIVMSG", isMsg(linkNick, obsNick, text))
		}},
		{"their channel PRIVMSG", func(t *testing.T, text string) {
			s.obs.send("PRIVMSG %s :%s", linkChan, text)
			link.expect(ctx, t, "their channel PRIVMSG", isMsg(obsNick, linkChan, text))
		}},
		{"their private PRIVMSG", func(t *testing.T, text string) {
			s.obs.send("PRIVMSG %s :%s", linkNick, text)
			link.expect(ctx, t, "their private PRIVMSG", isMsg(obsNick, linkNick, text))
		}},
		{fmt.Sprintf("%d PRIVMSGs in one flush", burstSize), func(t *testing.T, text string) {
			lines := make([]string, burstSize)
			for i := range lines {
				lines[i] = fmt.Sprintf("%sPRIVMSG %s :%s %02d", from, linkChan, text, i)
			}
			link.send(t, lines...)
			for i := range lines {
				got := s.obs.expect(ctx, t, fmt.Sprintf("burst PRIVMSG %d", i), func(l rawLine) bool {
					return l.Command == "PRIVMSG" && l.Nick() == linkNick
				})
				if want := fmt.Sprintf("%s %02d", text, i); got.Param(1) != want {
					t.Fatalf("burst PRIVMSG %d = %q, want %q", i, got.Param(1), want)
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, "interop "+tc.name+" over "+d.name)
		})
	}
}

// flagsOf returns the IRC+ server flags of a PASS flags parameter such as
// "ngIRCd|26.1:CHLMSXZ", or the whole parameter in RFC 2813 form.
func flagsOf(p string) string {
	if _, rest, ok := strings.Cut(p, "|"); ok {
		_, flags, _ := strings.Cut(rest, ":")
		return flags
	}
	return p
}

// TestNgircdReferenceLink runs the link scenario over the standard
// library's zlib (refLink), proving the ngircd setup and the scenario
// before the Backend is judged by them.
func TestNgircdReferenceLink(t *testing.T) {
	for _, d := range linkDirections {
		t.Run(d.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			pki := newTestPKI(t, t.TempDir())
			if !d.reverse {
				s := setupLink(ctx, t, d, pki, 0)
				addr, tlsConf := s.dialAddr(d)
				runLinkScenario(ctx, t, s, d, dialRefLink(t, addr, tlsConf))
				return
			}
			var l net.Listener
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			port := l.Addr().(*net.TCPAddr).Port
			if d.tls {
				// ngircd verifies our certificate against the test
				// CA (SSLVerify = yes).
				l = tls.NewListener(l, pki.ServerTLS())
			}
			s := setupLink(ctx, t, d, pki, port)
			s.connect(ctx, t)
			runLinkScenario(ctx, t, s, d, acceptRefLink(ctx, t, l))
		})
	}
}

// TestNgircdLink runs the link scenario over an ircsock.Backend: a
// connector to ngircd's plain and TLS ports, and a listener that ngircd
// dials after an operator's CONNECT, each compressed both ways.
func TestNgircdLink(t *testing.T) {
	for _, d := range linkDirections {
		t.Run(d.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			pki := newTestPKI(t, t.TempDir())
			p := newBackendPeer(t)
			var link *backendLink
			var s *linkSetup
			if d.reverse {
				lc := ircsock.ListenerConfig{Addr: "127.0.0.1:0"}
				if d.tls {
					lc.TLS = pki.ServerTLS()
				}
				l, err := p.b.CreateListener(lc)
				if err != nil {
					t.Fatalf("CreateListener(%+v) = %v, want nil", lc, err)
				}
				s = setupLink(ctx, t, d, pki, l.Port())
				s.connect(ctx, t)
				link = acceptBackendLink(ctx, t, p)
			} else {
				s = setupLink(ctx, t, d, pki, 0)
				addr, tlsConf := s.dialAddr(d)
				host, port := splitHostPort(t, addr)
				link = dialBackendLink(ctx, t, p, ircsock.ConnectorConfig{Addr: net.JoinHostPort(host, strconv.Itoa(port)), TLS: tlsConf})
			}
			if got := link.conn.TLS() != nil; got != d.tls {
				t.Errorf("Conn.TLS() != nil is %v, want %v", got, d.tls)
			}
			runLinkScenario(ctx, t, s, d, link)
			if !link.conn.Compressed() {
				t.Errorf("Conn.Compressed() = false after the link came up, want true")
			}
		})
	}
}

func splitHostPort(t testing.TB, addr string) (string, int) {
	t.Helper()
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}
