package interop

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWeechatStartupWithServe runs weechat-headless through what a user
// does on a first visit: it connects (CAP negotiation, registration),
// autojoins a channel (weechat then asks MODE and WHO), and is driven
// through its FIFO to every query command it has (WHO, MODE lists, AWAY,
// LIST, NAMES, WHOIS, WHOWAS, USERHOST, ISON, INVITE, VERSION, TIME,
// INFO, ADMIN, LINKS) and, raw, HELP, MONITOR and SETNAME. A last private
// message to a raw client marks the end: the server handles one client's
// lines in order. Then serve's log must show no 421 (unknown command) and
// nothing at WARN or ERROR.
func TestWeechatStartupWithServe(t *testing.T) {
	path := needBinary(t, "weechat-headless", "weechat-headless weechat-plugins")
	tlsOpt := weechatTLSOption(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pki := newTestPKI(t, t.TempDir())
	s := startServe(ctx, t, pki)

	const (
		weeNick = "weestart"
		bobNick = "bob"
		channel = "#startup"
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
		"/set fifo.file.path " + fifo,
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
		"--stdout", "--dir", dir, "--plugins", "irc,fifo", "--run-command", cmds)

	bob.expect(ctx, t, "weechat's JOIN", func(l rawLine) bool {
		return l.Command == "JOIN" && l.Nick() == weeNick && l.Param(0) == channel
	})
	if _, err := os.Stat(fifo); err != nil {
		t.Fatalf("weechat's FIFO is missing (is the fifo plugin, Debian package weechat-plugins, installed?): %v", err)
	}
	for _, c := range []string{
		"/who " + channel,
		"/mode " + channel,
		"/mode " + channel + " +b",
		"/mode " + channel + " +e",
		"/mode " + channel + " +I",
		"/mode " + weeNick + " +i",
		"/away lunch",
		"/away",
		"/list",
		"/names " + channel,
		"/whois " + bobNick,
		"/whowas nobody",
		"/userhost " + bobNick,
		"/ison " + bobNick + " nobody",
		"/invite " + bobNick + " " + channel,
		"/version",
		"/time",
		"/info",
		"/admin",
		"/links",
		"/quote HELP",
		"/quote MONITOR + " + bobNick,
		"/quote MONITOR L",
		"/quote SETNAME :weechat at startup",
		"/quote PRIVMSG " + bobNick + " :done",
	} {
		if err := writeFIFO(ctx, fifo, "irc.server."+server+" *"+c); err != nil {
			t.Fatalf("weechat FIFO (the fifo plugin, package weechat-plugins): %v", err)
		}
	}
	bob.expect(ctx, t, "weechat's last line", isMsg(weeNick, bobNick, "done"))

	s.proc.out.mu.Lock()
	lines := append([]string(nil), s.proc.out.lines...)
	s.proc.out.mu.Unlock()
	for _, l := range lines {
		if strings.Contains(l, "numeric=421") || strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
			t.Errorf("serve log: %s", l)
		}
	}
	if t.Failed() {
		t.Log("weechat sent a command serve does not answer, or serve logged a problem (above)")
	}
}
