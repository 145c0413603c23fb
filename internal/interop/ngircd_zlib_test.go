package interop

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// linkMessages is how many messages go each way over the compressed link.
const linkMessages = 1000

// linkWindow is how many of the linkMessages are in flight at once: the
// test sends a window, waits until every message of it has arrived, then
// sends the next.
//
// The window exists because of how ngircd reads TLS. It takes at most
// ngircdTLSRead bytes of plaintext from GnuTLS per readable event and
// does not ask GnuTLS whether more is pending (ngircd's conn.c and
// conn-ssl.c have no gnutls_record_check_pending), so when one TLS record
// carries more than that, the rest waits inside GnuTLS until the socket
// becomes readable again, that is, until the peer sends something else.
// Our writer sends whatever is queued in one Write, and crypto/tls makes
// that one record of up to 16 KiB, so a burst of 1,000 lines can end in a
// record ngircd only half reads: it then answers nothing more and the link
// stalls until the next traffic. With a window, what is in flight is one
// window's lines, which fit in ngircdTLSRead even before compression (the
// test checks that), so every record ngircd gets is read whole.
const linkWindow = 40

// ngircdTLSRead is ngircd's READBUFFER_LEN: the most it reads from a
// connection at once.
const ngircdTLSRead = 2048

// TestNgircdDialsInCompressed has ngircd dial a Backend listener whose
// input switch is armed in its configuration (ListenerConfig.
// CompressInputAfter), before any byte of ngircd's is read: the exact way
// for a peer that speaks first. The link comes up compressed both ways,
// then 1,000 messages go each way (our PRIVMSGs to ngircd's observer, and
// ngircd's PONGs to our PINGs), in order and complete; ngircd's log must
// say it enabled compression and show no compression error.
//
// The messages go in windows of linkWindow, each waited for before the
// next leaves, the way a server link paces itself on the peer's answers;
// see linkWindow for why a blind burst of 1,000 cannot work over TLS.
func TestNgircdDialsInCompressed(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		d := linkDirection{name: "ngircd dials plain", reverse: true, tls: useTLS}
		if useTLS {
			d.name = "ngircd dials TLS"
		}
		t.Run(d.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			pki := newTestPKI(t, t.TempDir())
			p := newBackendPeer(t)
			lc := ircsock.ListenerConfig{
				Addr:               "127.0.0.1:0",
				CompressInputAfter: func(m *ircmsg.Message) bool { return m.Command == "SERVER" },
			}
			if d.tls {
				lc.TLS = pki.ServerTLS()
			}
			l, err := p.b.CreateListener(lc)
			if err != nil {
				t.Fatalf("CreateListener = %v, want nil", err)
			}
			s := setupLink(ctx, t, d, pki, l.Port())
			s.connect(ctx, t)
			link := acceptBackendLink(ctx, t, p)
			link.preArmed = true
			runLinkScenario(ctx, t, s, d, link)
			if !link.conn.Compressed() {
				t.Errorf("Conn.Compressed() = false after the link came up, want true")
			}

			// Ours to ngircd: PRIVMSGs to the channel, a window at a
			// time, each window queued without yielding so that it
			// leaves in few compressed flushes.
			from := ":" + linkNick + " "
			for i := 0; i < linkMessages; i += linkWindow {
				lines := make([]string, 0, linkWindow)
				for j := i; j < i+linkWindow; j++ {
					lines = append(lines, fmt.Sprintf("%sPRIVMSG %s :zlib out %04d", from, linkChan, j))
				}
				checkWindowFits(t, lines)
				link.send(t, lines...)
				for j := i; j < i+linkWindow; j++ {
					want := fmt.Sprintf("zlib out %04d", j)
					got := s.obs.expect(ctx, t, want, func(l rawLine) bool {
						return l.Command == "PRIVMSG" && l.Nick() == linkNick
					})
					if got.Param(1) != want {
						t.Fatalf("observer's PRIVMSG %d = %q, want %q", j, got.Param(1), want)
					}
				}
			}

			// ngircd's to us: a PONG for each of our PINGs.
			for i := 0; i < linkMessages; i += linkWindow {
				lines := make([]string, 0, linkWindow)
				for j := i; j < i+linkWindow; j++ {
					lines = append(lines, fmt.Sprintf(":%s PING %s :%s", ourName, pingToken(j), ngircdName))
				}
				checkWindowFits(t, lines)
				link.send(t, lines...)
				for j := i; j < i+linkWindow; j++ {
					want := pingToken(j)
					got := link.expect(ctx, t, "PONG "+want, isCommand("PONG"))
					if got.Param(1) != want {
						t.Fatalf("PONG %d = %q, want its token %q", j, got.Raw, want)
					}
				}
			}

			if _, err := s.n.proc.out.wait(ctx, enabledCompression); err != nil {
				t.Errorf("ngircd's log does not show compression enabled: %v", err)
			}
			for _, bad := range []string{"ompression error", "zip input buffer", "Zip Write buffer"} {
				if s.n.proc.out.contains(bad) {
					t.Errorf("ngircd's log has %q: a zlib stream went wrong", bad)
				}
			}
		})
	}
}

// checkWindowFits fails the test if a window's lines, uncompressed and
// with their CR LF, exceed what ngircd reads of TLS at once: then even a
// window could end in a record ngircd leaves half read (see linkWindow).
func checkWindowFits(t *testing.T, lines []string) {
	t.Helper()
	n := 0
	for _, l := range lines {
		n += len(l) + len("\r\n")
	}
	if n > ngircdTLSRead {
		t.Fatalf("a window of %d lines is %d bytes, more than ngircd's %d-byte TLS read: lower linkWindow", len(lines), n, ngircdTLSRead)
	}
}

func pingToken(i int) string { return fmt.Sprintf("tok-%04d", i) }

var enabledCompression = regexp.MustCompile(`Enabled link compression \(zlib\) on connection`)
