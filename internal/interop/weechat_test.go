package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// weechatTLSOption is the /server add option for TLS: "-ssl" before
// WeeChat 4.0, "-tls" from 4.0 on (the option was renamed).
func weechatTLSOption(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", path, err)
	}
	v := strings.TrimSpace(string(out))
	major, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if err != nil {
		t.Fatalf("%s --version = %q, want a version number", path, v)
	}
	if major >= 4 {
		return "-tls"
	}
	return "-ssl"
}

// TestWeechatWithServeTLS connects weechat-headless to `ircsock serve`'s
// TLS listener, trusting only the test CA (system CAs off, verification
// on): it registers, joins a channel and exchanges channel and private
// messages with a second (raw) client. WeeChat is driven through its FIFO
// plugin; what it received is read from its own logger files.
func TestWeechatWithServeTLS(t *testing.T) {
	path := needBinary(t, "weechat-headless", "weechat-headless weechat-plugins")
	tlsOpt := weechatTLSOption(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	pki := newTestPKI(t, t.TempDir())
	s := startServe(ctx, t, pki)

	const (
		weeNick = "weeuser"
		bobNick = "bob"
		channel = "#interop"
		server  = "srv"
	)
	bob := dialRaw(t, bobNick, s.Addr, nil)
	bob.register(ctx, t, bobNick)
	bob.send("JOIN %s", channel)
	bob.expect(ctx, t, "bob's JOIN", func(l rawLine) bool { return l.Command == "JOIN" && l.Nick() == bobNick })

	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	verify := strings.TrimPrefix(tlsOpt, "-") + "_verify"
	cmds := strings.Join([]string{
		"/set logger.file.flush_delay 0",
		"/set fifo.file.path " + fifo,
		// WeeChat spaces a user's messages 2 s apart by default; the
		// option is anti_flood_prio_high (s) before 4.0, anti_flood (ms)
		// after, and setting the missing one is a harmless error.
		"/set irc.server_default.anti_flood_prio_high 0",
		"/set irc.server_default.anti_flood 0",
		"/set weechat.network.gnutls_ca_system off",
		"/set weechat.network.gnutls_ca_user " + pki.CAFile,
		"/server add " + server + " " + strings.Replace(s.TLSAddr, ":", "/", 1) + " " + tlsOpt +
			" -nicks=" + weeNick + " -username=" + weeNick + " -autojoin=" + channel,
		"/set irc.server." + server + "." + verify + " on",
		"/connect " + server,
	}, ";")
	startProc(t, "weechat", dir, []string{"TERM=dumb"}, path,
		"--stdout", "--dir", dir, "--plugins", "irc,logger,fifo", "--run-command", cmds)

	// Autojoin happens only after a verified handshake and registration.
	bob.expect(ctx, t, "weechat's JOIN", func(l rawLine) bool {
		return l.Command == "JOIN" && l.Nick() == weeNick && l.Param(0) == channel
	})
	// The FIFO is made by the /set at startup, long before the JOIN.
	if _, err := os.Stat(fifo); err != nil {
		t.Fatalf("weechat's FIFO is missing (is the fifo plugin, Debian package weechat-plugins, installed?): %v", err)
	}
	if _, err := s.proc.out.wait(ctx, regexp.MustCompile(`msg=registered .*nick=`+weeNick+` .*tls=true`)); err != nil {
		t.Errorf("serve did not log weechat's registration over TLS: %v", err)
	}

	logs := filepath.Join(dir, "logs")
	// WeeChat logs "date\tprefix\tmessage"; the prefix carries the
	// nick's channel mode, if any.
	said := func(nick, text string) *regexp.Regexp {
		return regexp.MustCompile(`\t[@+%~&]?` + regexp.QuoteMeta(nick) + `\t` + regexp.QuoteMeta(text) + `$`)
	}
	weeSays := func(t *testing.T, target, text string) {
		t.Helper()
		if err := writeFIFO(ctx, fifo, "irc.server."+server+" */msg "+target+" "+text); err != nil {
			t.Fatalf("weechat FIFO (the fifo plugin, package weechat-plugins): %v", err)
		}
	}
	cases := []struct {
		name string
		run  func(t *testing.T, text string)
	}{
		{"weechat to channel", func(t *testing.T, text string) {
			weeSays(t, channel, text)
			bob.expect(ctx, t, "weechat's channel PRIVMSG", isMsg(weeNick, channel, text))
		}},
		{"bob to channel", func(t *testing.T, text string) {
			bob.send("PRIVMSG %s :%s", channel, text)
			if _, err := waitFileLine(ctx, filepath.Join(logs, "irc."+server+"."+channel+".weechatlog"), said(bobNick, text)); err != nil {
				t.Fatalf("weechat did not show bob's channel message: %v", err)
			}
		}},
		{"bob to weechat", func(t *testing.T, text string) {
			bob.send("PRIVMSG %s :%s", weeNick, text)
			if _, err := waitFileLine(ctx, filepath.Join(logs, "irc."+server+"."+bobNick+".weechatlog"), said(bobNick, text)); err != nil {
				t.Fatalf("weechat did not show bob's private message: %v", err)
			}
		}},
		{"weechat to bob", func(t *testing.T, text string) {
			weeSays(t, bobNick, text)
			bob.expect(ctx, t, "weechat's private PRIVMSG", isMsg(weeNick, bobNick, text))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, "interop "+tc.name)
		})
	}
}
