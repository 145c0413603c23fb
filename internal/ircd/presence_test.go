package ircd

import (
	"strings"
	"testing"
)

func TestAway(t *testing.T) {
	h := newHarness(t, Config{})
	h.register(1, "alice")
	h.register(2, "bob")
	h.register(3, "carol")
	h.in(2, "CAP", "REQ", "away-notify")
	h.take(2)
	for _, id := range []int{1, 2, 3} {
		h.in(idOf(id), "JOIN", "#a")
	}
	h.take(1)
	h.take(2)
	h.take(3)
	const srv = ":ircsock.localhost "
	runSteps(t, h, []step{
		{name: "away", from: 1, cmd: "AWAY", params: []string{"lunch"}, other: 2,
			wantSelf: []string{srv + "306 alice :You have been marked as being away"},
			want:     []string{":alice!alice@127.0.0.1 AWAY :lunch"}},
		{name: "no away-notify for carol", from: 3, cmd: "PING", params: []string{"x"},
			wantSelf: []string{srv + "PONG ircsock.localhost :x"}},
		{name: "301 to privmsg", from: 3, cmd: "PRIVMSG", params: []string{"alice", "hi"}, other: 1,
			wantSelf: []string{srv + "301 carol alice :lunch"}, want: []string{":carol!carol@127.0.0.1 PRIVMSG alice :hi"}},
		{name: "no 301 to notice", from: 3, cmd: "NOTICE", params: []string{"alice", "hi"}, other: 1,
			want: []string{":carol!carol@127.0.0.1 NOTICE alice :hi"}},
		{name: "whois", from: 3, cmd: "WHOIS", params: []string{"alice"},
			wantSelf: []string{
				srv + "311 carol alice alice 127.0.0.1 * :Real alice",
				srv + "319 carol alice :@#a",
				srv + "312 carol alice ircsock.localhost :ircsock",
				srv + "301 carol alice :lunch",
				srv + "318 carol alice :End of /WHOIS list",
			}},
		{name: "who", from: 3, cmd: "WHO", params: []string{"alice"},
			wantSelf: []string{srv + "352 carol * alice 127.0.0.1 ircsock.localhost alice G :0 Real alice", srv + "315 carol alice :End of WHO list"}},
		{name: "userhost", from: 3, cmd: "USERHOST", params: []string{"alice", "bob", "nobody"},
			wantSelf: []string{srv + "302 carol :alice=-alice@127.0.0.1 bob=+bob@127.0.0.1"}},
		{name: "back", from: 1, cmd: "AWAY", other: 2,
			wantSelf: []string{srv + "305 alice :You are no longer marked as being away"},
			want:     []string{":alice!alice@127.0.0.1 AWAY"}},
	})
}

func TestMonitorAndWhowas(t *testing.T) {
	h := newHarness(t, Config{MaxMonitor: 2})
	h.register(1, "alice")
	h.register(2, "bob")
	const srv = ":ircsock.localhost "
	runSteps(t, h, []step{
		{name: "monitor", from: 1, cmd: "MONITOR", params: []string{"+", "bob,carol"},
			wantSelf: []string{srv + "730 alice :bob!bob@127.0.0.1", srv + "731 alice :carol"}},
		{name: "monitor full", from: 1, cmd: "MONITOR", params: []string{"+", "dave,erin"},
			wantSelf: []string{srv + "734 alice 2 dave,erin :Monitor list is full"}},
		{name: "list", from: 1, cmd: "MONITOR", params: []string{"L"},
			wantSelf: []string{srv + "732 alice :bob,carol", srv + "733 alice :End of MONITOR list"}},
		{name: "bob quits", from: 2, cmd: "QUIT", params: []string{"bye"}, other: 1,
			wantSelf: []string{"ERROR :Closing Link: 127.0.0.1 (Quit: bye)"},
			want:     []string{srv + "731 alice :bob"}},
		{name: "whowas", from: 1, cmd: "WHOWAS", params: []string{"BOB"},
			wantSelf: []string{
				srv + "314 alice bob bob 127.0.0.1 * :Real bob",
				srv + "312 alice bob ircsock.localhost :Sat, 01 Mar 2025 12:00:00 UTC",
				srv + "369 alice BOB :End of WHOWAS",
			}},
		{name: "whowas nobody", from: 1, cmd: "WHOWAS", params: []string{"zed"},
			wantSelf: []string{srv + "406 alice zed :There was no such nickname", srv + "369 alice zed :End of WHOWAS"}},
		{name: "status", from: 1, cmd: "MONITOR", params: []string{"S"},
			wantSelf: []string{srv + "731 alice :bob,carol"}},
		{name: "remove", from: 1, cmd: "MONITOR", params: []string{"-", "bob"}},
	})
	h.register(3, "carol")
	expect(t, "carol comes online", h.take(1), []string{srv + "730 alice :carol!carol@127.0.0.1"})
	h.register(2, "bob")
	expect(t, "bob is no longer monitored", h.take(1), nil)
	h.in(3, "NICK", "carla")
	expect(t, "carol renames", h.take(1), []string{srv + "731 alice :carol"})
	h.take(3)
	h.in(1, "WHOWAS", "carol")
	if got := h.take(1); len(got) != 3 || !strings.Contains(got[0], " 314 alice carol carol ") {
		t.Errorf("WHOWAS after a nick change = %q, want carol's 314, 312, 369", got)
	}
	h.in(1, "MONITOR", "C")
	h.in(1, "MONITOR", "L")
	expect(t, "cleared", h.take(1), []string{srv + "733 alice :End of MONITOR list"})
}

func TestSetname(t *testing.T) {
	h := newHarness(t, Config{})
	h.register(1, "alice")
	h.register(2, "bob")
	h.register(3, "carol")
	h.in(1, "CAP", "REQ", "setname")
	h.in(2, "CAP", "REQ", "setname")
	for _, id := range []int{1, 2, 3} {
		h.in(idOf(id), "JOIN", "#s")
	}
	h.take(1)
	h.take(2)
	h.take(3)
	runSteps(t, h, []step{
		{name: "setname", from: 1, cmd: "SETNAME", params: []string{"Alice L."}, other: 2,
			wantSelf: []string{":alice!alice@127.0.0.1 SETNAME :Alice L."},
			want:     []string{":alice!alice@127.0.0.1 SETNAME :Alice L."}},
		{name: "not to carol without the cap", from: 3, cmd: "WHOIS", params: []string{"alice"},
			wantSelf: []string{
				":ircsock.localhost 311 carol alice alice 127.0.0.1 * :Alice L.",
				":ircsock.localhost 319 carol alice :@#s",
				":ircsock.localhost 312 carol alice ircsock.localhost :ircsock",
				":ircsock.localhost 318 carol alice :End of /WHOIS list",
			}},
		{name: "too long", from: 1, cmd: "SETNAME", params: []string{strings.Repeat("x", RealLen+1)},
			wantSelf: []string{":ircsock.localhost FAIL SETNAME INVALID_REALNAME :Realname is not valid (at most 100 bytes, not empty)"}},
	})
}

func TestOperSeesCertFP(t *testing.T) {
	h := newHarness(t, Config{Opers: map[string]string{"root": "pw"}})
	h.register(1, "alice")
	h.register(2, "bob")
	h.register(3, "carol")
	h.s.clients[1].ext().certFP = strings.Repeat("ab", 32)
	const srv = ":ircsock.localhost "
	fp := srv + "276 %s alice :has client certificate fingerprint " + strings.Repeat("ab", 32)
	whois := func(who string, withFP bool) []string {
		out := []string{
			srv + "311 " + who + " alice alice 127.0.0.1 * :Real alice",
			srv + "312 " + who + " alice ircsock.localhost :ircsock",
		}
		if withFP {
			out = append(out, strings.Replace(fp, "%s", who, 1))
		}
		return append(out, srv+"318 "+who+" alice :End of /WHOIS list")
	}
	runSteps(t, h, []step{
		{name: "self", from: 1, cmd: "WHOIS", params: []string{"alice"}, wantSelf: whois("alice", true)},
		{name: "stranger", from: 2, cmd: "WHOIS", params: []string{"alice"}, wantSelf: whois("bob", false)},
		{name: "bad oper", from: 3, cmd: "OPER", params: []string{"root", "nope"},
			wantSelf: []string{srv + "464 carol :Password incorrect"}},
		{name: "oper", from: 3, cmd: "OPER", params: []string{"root", "pw"},
			wantSelf: []string{":carol!carol@127.0.0.1 MODE carol :+o", srv + "381 carol :You are now an IRC operator"}},
		{name: "oper sees it", from: 3, cmd: "WHOIS", params: []string{"alice"}, wantSelf: whois("carol", true)},
	})
}

// TestEverydayCommands checks that every command irssi, weechat and
// hexchat send in normal use gets its reply, not 421.
func TestEverydayCommands(t *testing.T) {
	h := newHarness(t, Config{AdminEmail: "admin@example.org"})
	h.register(1, "alice")
	h.in(1, "JOIN", "#b,#a")
	h.in(1, "TOPIC", "#a", "about a")
	h.take(1)
	cases := []struct {
		cmd    string
		params []string
		codes  []string
		has    string
	}{
		{"VERSION", nil, []string{"351", "005", "005"}, "351 alice ircsock ircsock.localhost"},
		{"TIME", nil, []string{"391"}, "391 alice ircsock.localhost :Sat, 01 Mar 2025 12:00:00 UTC"},
		{"INFO", nil, []string{"371", "371", "371", "374"}, "374 alice :End of INFO list"},
		{"ADMIN", nil, []string{"256", "257", "258", "259"}, "259 alice :admin@example.org"},
		{"LINKS", nil, []string{"364", "365"}, "364 alice ircsock.localhost ircsock.localhost :0 ircsock"},
		{"HELP", []string{"join"}, []string{"704", "706"}, "704 alice JOIN :JOIN <channel>"},
		{"HELP", []string{"frob"}, []string{"524"}, "524 alice FROB :No help available on this topic"},
		{"HELP", nil, []string{"704", "705", "705", "705", "705", "706"}, "706 alice * :End of /HELP"},
		{"LIST", nil, []string{"321", "322", "322", "323"}, "322 alice #a 1 :[+nt] about a"},
		{"LIST", []string{"#b"}, []string{"321", "322", "323"}, "322 alice #b 1 :[+nt] "},
		{"ISON", []string{"alice", "zed"}, []string{"303"}, "303 alice :alice"},
		{"USERHOST", []string{"alice"}, []string{"302"}, "302 alice :alice=+alice@127.0.0.1"},
		{"WHOWAS", []string{"zed"}, []string{"406", "369"}, "369 alice zed :End of WHOWAS"},
		{"MONITOR", []string{"L"}, []string{"733"}, "733 alice :End of MONITOR list"},
		{"AWAY", nil, []string{"305"}, "305 alice :You are no longer marked as being away"},
		{"SETNAME", []string{"A"}, []string{"SETNAME"}, ":alice!alice@127.0.0.1 SETNAME :A"},
		{"INVITE", []string{"alice", "#a"}, []string{"443"}, "443 alice alice #a :is already on channel"},
	}
	for _, tc := range cases {
		t.Run(tc.cmd+" "+strings.Join(tc.params, " "), func(t *testing.T) {
			h.in(1, tc.cmd, tc.params...)
			got := h.take(1)
			expect(t, "replies", commandsOf(got), tc.codes)
			if !strings.Contains(strings.Join(got, "\n"), tc.has) {
				t.Errorf("replies %q lack %q", got, tc.has)
			}
		})
	}
}
