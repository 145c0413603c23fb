package interop

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// linkMessages is how many messages go each way over the compressed link.
const linkMessages = 1000

// linkWindow is how many of the linkMessages are in flight at once in the
// paced cases: the test sends a window, waits until every message of it
// has arrived, then sends the next.
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
// test checks that), so every record ngircd gets is read whole. The
// unpaced case shows the other way, the one a real link can use:
// ListenerConfig.MaxTLSRecord at ngircdTLSRead keeps every record small
// enough whatever is queued, and all 1,000 lines go at once.
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
// In the paced cases the messages go in windows of linkWindow, each
// waited for before the next leaves, the way a server link paces itself
// on the peer's answers; see linkWindow for why a blind burst of 1,000
// cannot work over TLS with records of up to 16 KiB. The unpaced case
// sends all 1,000 at once over TLS with ListenerConfig.MaxTLSRecord at
// ngircd's read size.
func TestNgircdDialsInCompressed(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tls       bool
		window    int
		maxRecord int
		noise     int // bytes of incompressible text per PRIVMSG
	}{
		{"ngircd dials plain", false, linkWindow, 0, 0},
		{"ngircd dials TLS", true, linkWindow, 0, 0},
		// Text that compresses badly, so that 1,000 lines at once make
		// hundreds of KB of TLS and, without the cap, 16 KiB records.
		{"ngircd dials TLS unpaced", true, linkMessages, ngircdTLSRead, 300},
	} {
		d := linkDirection{name: tc.name, reverse: true, tls: tc.tls}
		t.Run(d.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			pki := newTestPKI(t, t.TempDir())
			p := newBackendPeer(t)
			lc := ircsock.ListenerConfig{
				Addr:               "127.0.0.1:0",
				CompressInputAfter: func(m *ircmsg.Message) bool { return m.Command == "SERVER" },
				MaxTLSRecord:       tc.maxRecord,
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
			for i := 0; i < linkMessages; i += tc.window {
				lines := make([]string, 0, tc.window)
				for j := i; j < i+tc.window; j++ {
					lines = append(lines, fmt.Sprintf("%sPRIVMSG %s :%s", from, linkChan, zlibOut(j, tc.noise)))
				}
				if tc.maxRecord == 0 {
					checkWindowFits(t, lines)
				}
				link.send(t, lines...)
				for j := i; j < i+tc.window; j++ {
					want := zlibOut(j, tc.noise)
					got := s.obs.expect(ctx, t, want, func(l rawLine) bool {
						return l.Command == "PRIVMSG" && l.Nick() == linkNick
					})
					if got.Param(1) != want {
						t.Fatalf("observer's PRIVMSG %d = %q, want %q", j, got.Param(1), want)
					}
				}
			}

			// ngircd's to us: a PONG for each of our PINGs.
			for i := 0; i < linkMessages; i += tc.window {
				lines := make([]string, 0, tc.window)
				for j := i; j < i+tc.window; j++ {
					lines = append(lines, fmt.Sprintf(":%s PING %s :%s", ourName, pingToken(j), ngircdName))
				}
				if tc.maxRecord == 0 {
					checkWindowFits(t, lines)
				}
				link.send(t, lines...)
				for j := i; j < i+tc.window; j++ {
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

// zlibOut is the text of our PRIVMSG number i, with noise bytes of
// pseudo-random hex after the number.
func zlibOut(i, noise int) string {
	s := fmt.Sprintf("zlib out %04d", i)
	if noise == 0 {
		return s
	}
	r := rand.New(rand.NewPCG(uint64(i), 1))
	b := make([]byte, 0, noise/2)
	for range noise / 2 {
		b = append(b, byte(r.Uint32()))
	}
	return s + " " + hex.EncodeToString(b)
}

func pingToken(i int) string { return fmt.Sprintf("tok-%04d", i) }

var enabledCompression = regexp.MustCompile(`Enabled link compression \(zlib\) on connection`)
