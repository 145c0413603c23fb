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

// TestNgircdDialsInCompressed has ngircd dial a Backend listener whose
// input switch is armed in its configuration (ListenerConfig.
// CompressInputAfter), before any byte of ngircd's is read: the exact way
// for a peer that speaks first. The link comes up compressed both ways,
// then 1,000 messages go each way (our PRIVMSGs to ngircd's observer, and
// ngircd's PONGs to our PINGs), in order and complete; ngircd's log must
// say it enabled compression and show no compression error.
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

			// Ours to ngircd: PRIVMSGs to the channel, in batches, each
			// batch queued without yielding so that it leaves in few
			// compressed flushes.
			from := ":" + linkNick + " "
			for i := 0; i < linkMessages; i += 100 {
				lines := make([]string, 0, 100)
				for j := i; j < i+100; j++ {
					lines = append(lines, fmt.Sprintf("%sPRIVMSG %s :zlib out %04d", from, linkChan, j))
				}
				link.send(t, lines...)
			}
			for i := range linkMessages {
				want := fmt.Sprintf("zlib out %04d", i)
				got := s.obs.expect(ctx, t, want, func(l rawLine) bool {
					return l.Command == "PRIVMSG" && l.Nick() == linkNick
				})
				if got.Param(1) != want {
					t.Fatalf("observer's PRIVMSG %d = %q, want %q", i, got.Param(1), want)
				}
			}

			// ngircd's to us: a PONG for each of our PINGs.
			for i := 0; i < linkMessages; i += 100 {
				lines := make([]string, 0, 100)
				for j := i; j < i+100; j++ {
					lines = append(lines, fmt.Sprintf(":%s PING %s :%s", ourName, pingToken(j), ngircdName))
				}
				link.send(t, lines...)
			}
			for i := range linkMessages {
				want := pingToken(i)
				got := link.expect(ctx, t, "PONG "+want, isCommand("PONG"))
				if got.Param(1) != want {
					t.Fatalf("PONG %d = %q, want its token %q", i, got.Raw, want)
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

func pingToken(i int) string { return fmt.Sprintf("tok-%04d", i) }

var enabledCompression = regexp.MustCompile(`Enabled link compression \(zlib\) on connection`)
