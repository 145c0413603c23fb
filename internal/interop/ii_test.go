package interop

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestIIWithServe connects ii, the suckless FIFO client, to `ircsock
// serve`: it registers, joins a channel and exchanges channel and private
// messages with a second (raw) client. What ii received is read from ii's
// own out files.
func TestIIWithServe(t *testing.T) {
	iiPath := needBinary(t, "ii", "ii")
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	s := startServe(ctx, t, nil)

	const (
		iiNick  = "iiuser"
		bobNick = "bob"
		channel = "#interop"
	)
	bob := dialRaw(t, bobNick, s.Addr, nil)
	bob.register(ctx, t, bobNick)
	bob.send("JOIN %s", channel)
	bob.expect(ctx, t, "bob's JOIN", func(l rawLine) bool { return l.Command == "JOIN" && l.Nick() == bobNick })

	dir := t.TempDir()
	host, port := splitHostPort(t, s.Addr)
	startProc(t, "ii", dir, nil, iiPath, "-s", host, "-p", itoa(port), "-n", iiNick, "-f", "ii interop user", "-i", dir)
	srvDir := filepath.Join(dir, host)

	// RFC 2812's 001 carries nick!user@host: ii is registered once its
	// server out file shows it.
	if _, err := waitFileLine(ctx, filepath.Join(srvDir, "out"), regexp.MustCompile(regexp.QuoteMeta(iiNick+"!"))); err != nil {
		t.Fatalf("ii did not register: %v", err)
	}
	if err := writeFIFO(ctx, filepath.Join(srvDir, "in"), "/j "+channel); err != nil {
		t.Fatal(err)
	}
	bob.expect(ctx, t, "ii's JOIN", func(l rawLine) bool {
		return l.Command == "JOIN" && l.Nick() == iiNick && l.Param(0) == channel
	})

	chanDir := filepath.Join(srvDir, channel)
	// ii writes "<timestamp> <nick> text" to a buffer's out file.
	said := func(nick, text string) *regexp.Regexp {
		return regexp.MustCompile(`^\d+ <` + regexp.QuoteMeta(nick) + `> ` + regexp.QuoteMeta(text) + `$`)
	}
	cases := []struct {
		name string
		run  func(t *testing.T, text string)
	}{
		{"ii to channel", func(t *testing.T, text string) {
			if err := writeFIFO(ctx, filepath.Join(chanDir, "in"), text); err != nil {
				t.Fatal(err)
			}
			bob.expect(ctx, t, "ii's channel PRIVMSG", isMsg(iiNick, channel, text))
		}},
		{"bob to channel", func(t *testing.T, text string) {
			bob.send("PRIVMSG %s :%s", channel, text)
			if _, err := waitFileLine(ctx, filepath.Join(chanDir, "out"), said(bobNick, text)); err != nil {
				t.Fatalf("ii did not show bob's channel message: %v", err)
			}
		}},
		{"bob to ii", func(t *testing.T, text string) {
			bob.send("PRIVMSG %s :%s", iiNick, text)
			if _, err := waitFileLine(ctx, filepath.Join(srvDir, bobNick, "out"), said(bobNick, text)); err != nil {
				t.Fatalf("ii did not show bob's private message: %v", err)
			}
		}},
		{"ii to bob", func(t *testing.T, text string) {
			if err := writeFIFO(ctx, filepath.Join(srvDir, bobNick, "in"), text); err != nil {
				t.Fatal(err)
			}
			bob.expect(ctx, t, "ii's private PRIVMSG", isMsg(iiNick, bobNick, text))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, "interop "+tc.name)
		})
	}
}
