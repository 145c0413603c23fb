package ircd

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
)

// recorder is a transport that keeps what the core sends, rendered in a
// fixed test form (tags, source, command, every parameter, the last one
// after a colon) so that expectations read like IRC.
// It also formats every message as the Backend will (Colonify) and keeps
// the first failure: a reply the Backend cannot format would be lost.
type recorder struct {
	lines  map[ircsock.ConnID][]string
	closed map[ircsock.ConnID]string
	bad    error
}

func (r *recorder) Send(m *ircmsg.Message, ids ...ircsock.ConnID) error {
	if _, err := (ircmsg.Format{Colonify: true}).Append(nil, m); err != nil && r.bad == nil {
		r.bad = fmt.Errorf("format %q: %w", render(m), err)
	}
	line := render(m)
	for _, id := range ids {
		r.lines[id] = append(r.lines[id], line)
	}
	return nil
}

func (r *recorder) Disconnect(id ircsock.ConnID, reason string) error {
	if _, dup := r.closed[id]; dup {
		return errors.New("disconnect twice")
	}
	r.closed[id] = reason
	return nil
}

func render(m *ircmsg.Message) string {
	var b strings.Builder
	if len(m.Tags) > 0 {
		b.WriteByte('@')
		for i, t := range m.Tags {
			if i > 0 {
				b.WriteByte(';')
			}
			b.WriteString(t.Key)
			if t.Value != "" {
				b.WriteString("=" + t.Value)
			}
		}
		b.WriteByte(' ')
	}
	if m.Source != "" {
		b.WriteString(":" + m.Source + " ")
	}
	b.WriteString(m.Command)
	for i, p := range m.Params {
		b.WriteByte(' ')
		if i == len(m.Params)-1 {
			b.WriteByte(':')
		}
		b.WriteString(p)
	}
	return b.String()
}

// harness drives a core with a fake clock.
type harness struct {
	t   *testing.T
	s   *core
	r   *recorder
	now time.Time
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	r := &recorder{lines: map[ircsock.ConnID][]string{}, closed: map[ircsock.ConnID]string{}}
	t.Cleanup(func() {
		if r.bad != nil {
			t.Errorf("the core sent a message the Backend cannot format: %v", r.bad)
		}
	})
	return &harness{t: t, s: newCore(cfg, r, t0), r: r, now: t0}
}

func (h *harness) open(id ircsock.ConnID) {
	h.s.open(id, netip.MustParseAddr("127.0.0.1"), false, h.now)
}

func (h *harness) in(id ircsock.ConnID, cmd string, params ...string) {
	h.s.input(id, &ircmsg.Message{Command: cmd, Params: params}, h.now)
}

func (h *harness) inTags(id ircsock.ConnID, tags []ircmsg.Tag, cmd string, params ...string) {
	h.s.input(id, &ircmsg.Message{Tags: tags, Command: cmd, Params: params}, h.now)
}

// take returns and forgets what id has been sent.
func (h *harness) take(id ircsock.ConnID) []string {
	l := h.r.lines[id]
	delete(h.r.lines, id)
	return l
}

// register opens id and registers it as nick, discarding the welcome.
func (h *harness) register(id ircsock.ConnID, nick string) {
	h.t.Helper()
	h.open(id)
	h.in(id, "NICK", nick)
	h.in(id, "USER", nick, "0", "*", "Real "+nick)
	if got := h.take(id); len(got) == 0 || !strings.Contains(got[0], " 001 ") {
		h.t.Fatalf("register %s: got %q, want 001 first", nick, got)
	}
}

func expect(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func commandsOf(lines []string) []string {
	var out []string
	for _, l := range lines {
		f := strings.Fields(l)
		for len(f) > 0 && (f[0][0] == '@' || f[0][0] == ':') {
			f = f[1:]
		}
		if len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

func TestRegistration(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"no motd", Config{}, []string{"001", "002", "003", "004", "005", "005", "251", "254", "255", "422"}},
		{"motd", Config{MOTD: []string{"hello", "world"}},
			[]string{"001", "002", "003", "004", "005", "005", "251", "254", "255", "375", "372", "372", "376"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.cfg)
			h.open(1)
			h.in(1, "NICK", "alice")
			if got := h.take(1); len(got) != 0 {
				t.Fatalf("after NICK alone got %q, want nothing", got)
			}
			h.in(1, "USER", "al", "0", "*", "Alice Liddell")
			got := h.take(1)
			expect(t, "welcome numerics", commandsOf(got), tc.want)
			if want := ":ircsock.localhost 001 alice :Welcome to the ircsock IRC Network alice!al@127.0.0.1"; got[0] != want {
				t.Errorf("001 = %q, want %q", got[0], want)
			}
			isupport := got[4] + got[5]
			for _, tok := range []string{"CASEMAPPING=ascii", "CHANTYPES=#&", "NICKLEN=30", "CHANNELLEN=50", "PREFIX=(ov)@+", "NETWORK=ircsock",
				"CHANMODES=beI,k,l,imnst", "EXCEPTS=e", "INVEX=I", "MONITOR=100", "MAXLIST=beI:100"} {
				if !strings.Contains(isupport, " "+tok+" ") {
					t.Errorf("005 lines %q lack %s", isupport, tok)
				}
			}
		})
	}
}

func TestPassword(t *testing.T) {
	cases := []struct {
		name, pass string
		ok         bool
	}{
		{"right", "sesame", true},
		{"wrong", "nope", false},
		{"missing", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{Password: "sesame"})
			h.open(1)
			if tc.pass != "" {
				h.in(1, "PASS", tc.pass)
			}
			h.in(1, "NICK", "bob")
			h.in(1, "USER", "bob", "0", "*", "Bob")
			got := h.take(1)
			if tc.ok {
				if len(got) == 0 || !strings.Contains(got[0], " 001 ") {
					t.Errorf("got %q, want 001 first", got)
				}
				return
			}
			expect(t, "reply", got, []string{
				":ircsock.localhost 464 bob :Password incorrect",
				"ERROR :Closing Link: 127.0.0.1 (Bad password)",
			})
			if r, ok := h.r.closed[1]; !ok {
				t.Errorf("not disconnected, want reason %q", "Bad password")
			} else if r != "Bad password" {
				t.Errorf("disconnect reason %q, want %q", r, "Bad password")
			}
		})
	}
}

func TestCap(t *testing.T) {
	h := newHarness(t, Config{})
	h.open(1)
	h.in(1, "CAP", "LS", "302")
	h.in(1, "NICK", "carol")
	h.in(1, "USER", "carol", "0", "*", "Carol")
	expect(t, "before CAP END", h.take(1), []string{":ircsock.localhost CAP * LS :away-notify message-tags server-time setname"})
	h.in(1, "CAP", "REQ", "server-time bogus")
	expect(t, "REQ with unknown", h.take(1), []string{":ircsock.localhost CAP carol NAK :server-time bogus"})
	h.in(1, "CAP", "REQ", "server-time message-tags")
	expect(t, "REQ", h.take(1), []string{":ircsock.localhost CAP carol ACK :server-time message-tags"})
	h.in(1, "CAP", "LIST")
	expect(t, "LIST", h.take(1), []string{"@time=2025-03-01T12:00:00.000Z :ircsock.localhost CAP carol LIST :message-tags server-time"})
	h.in(1, "CAP", "REQ", "-message-tags")
	expect(t, "REQ remove", h.take(1), []string{"@time=2025-03-01T12:00:00.000Z :ircsock.localhost CAP carol ACK :-message-tags"})
	h.in(1, "CAP", "END")
	got := h.take(1)
	if len(got) == 0 || got[0] != "@time=2025-03-01T12:00:00.000Z :ircsock.localhost 001 carol :Welcome to the ircsock IRC Network carol!carol@127.0.0.1" {
		t.Errorf("after CAP END got %q, want timed 001 first", got)
	}
	h.in(1, "CAP", "FOO")
	expect(t, "bad subcommand", h.take(1), []string{"@time=2025-03-01T12:00:00.000Z :ircsock.localhost 410 carol FOO :Invalid CAP command"})
}

func TestChannelTraffic(t *testing.T) {
	h := newHarness(t, Config{})
	h.register(1, "alice")
	h.register(2, "bob")
	h.in(1, "JOIN", "#Chat")
	expect(t, "alice join", h.take(1), []string{
		":alice!alice@127.0.0.1 JOIN :#Chat",
		":ircsock.localhost 353 alice = #Chat :@alice",
		":ircsock.localhost 366 alice #Chat :End of /NAMES list",
	})
	h.in(2, "JOIN", "#chat,&other")
	expect(t, "alice sees bob", h.take(1), []string{":bob!bob@127.0.0.1 JOIN :#Chat"})
	expect(t, "bob join", h.take(2), []string{
		":bob!bob@127.0.0.1 JOIN :#Chat",
		":ircsock.localhost 353 bob = #Chat :@alice bob",
		":ircsock.localhost 366 bob #Chat :End of /NAMES list",
		":bob!bob@127.0.0.1 JOIN :&other",
		":ircsock.localhost 353 bob = &other :@bob",
		":ircsock.localhost 366 bob &other :End of /NAMES list",
	})

	cases := []struct {
		name      string
		from      ircsock.ConnID
		cmd       string
		params    []string
		to        ircsock.ConnID
		wantTo    []string
		wantSelf  []string
		selfToo   bool
		otherNone bool
	}{
		{name: "privmsg channel", from: 1, cmd: "PRIVMSG", params: []string{"#chat", "hi all"}, to: 2,
			wantTo: []string{":alice!alice@127.0.0.1 PRIVMSG #Chat :hi all"}},
		{name: "notice channel", from: 2, cmd: "NOTICE", params: []string{"#CHAT", "note"}, to: 1,
			wantTo: []string{":bob!bob@127.0.0.1 NOTICE #Chat :note"}},
		{name: "privmsg nick", from: 1, cmd: "PRIVMSG", params: []string{"BOB", "psst"}, to: 2,
			wantTo: []string{":alice!alice@127.0.0.1 PRIVMSG bob :psst"}},
		{name: "notice nick", from: 2, cmd: "NOTICE", params: []string{"alice", "ok"}, to: 1,
			wantTo: []string{":bob!bob@127.0.0.1 NOTICE alice :ok"}},
		{name: "no such nick", from: 1, cmd: "PRIVMSG", params: []string{"nobody", "x"}, to: 2,
			wantSelf: []string{":ircsock.localhost 401 alice nobody :No such nick/channel"}},
		{name: "no such channel", from: 1, cmd: "PRIVMSG", params: []string{"#none", "x"}, to: 2,
			wantSelf: []string{":ircsock.localhost 403 alice #none :No such channel"}},
		{name: "not in channel", from: 1, cmd: "PRIVMSG", params: []string{"&other", "x"}, to: 2,
			wantSelf: []string{":ircsock.localhost 404 alice &other :Cannot send to channel"}},
		{name: "notice errors are silent", from: 1, cmd: "NOTICE", params: []string{"nobody", "x"}, to: 2},
		{name: "no text", from: 1, cmd: "PRIVMSG", params: []string{"bob"}, to: 2,
			wantSelf: []string{":ircsock.localhost 412 alice :No text to send"}},
		{name: "topic set by non-op under +t", from: 2, cmd: "TOPIC", params: []string{"#chat", "news"}, to: 1,
			wantSelf: []string{":ircsock.localhost 482 bob #Chat :You're not channel operator"}},
		{name: "op lifts +t", from: 1, cmd: "MODE", params: []string{"#chat", "-t"}, to: 2,
			wantTo:   []string{":alice!alice@127.0.0.1 MODE #Chat :-t"},
			wantSelf: []string{":alice!alice@127.0.0.1 MODE #Chat :-t"}},
		{name: "topic set", from: 2, cmd: "TOPIC", params: []string{"#chat", "news"}, to: 1,
			wantTo:   []string{":bob!bob@127.0.0.1 TOPIC #Chat :news"},
			wantSelf: []string{":bob!bob@127.0.0.1 TOPIC #Chat :news"}},
		{name: "topic get", from: 1, cmd: "TOPIC", params: []string{"#chat"}, to: 2,
			wantSelf: []string{
				":ircsock.localhost 332 alice #Chat :news",
				":ircsock.localhost 333 alice #Chat bob!bob@127.0.0.1 :1740830400",
			}},
		{name: "topic not on channel", from: 1, cmd: "TOPIC", params: []string{"&other"}, to: 2,
			wantSelf: []string{":ircsock.localhost 442 alice &other :You're not on that channel"}},
		{name: "names", from: 1, cmd: "NAMES", params: []string{"#chat"}, to: 2,
			wantSelf: []string{
				":ircsock.localhost 353 alice = #Chat :@alice bob",
				":ircsock.localhost 366 alice #Chat :End of /NAMES list",
			}},
		{name: "who channel", from: 2, cmd: "WHO", params: []string{"#chat"}, to: 1,
			wantSelf: []string{
				":ircsock.localhost 352 bob #Chat alice 127.0.0.1 ircsock.localhost alice H@ :0 Real alice",
				":ircsock.localhost 352 bob #Chat bob 127.0.0.1 ircsock.localhost bob H :0 Real bob",
				":ircsock.localhost 315 bob #chat :End of WHO list",
			}},
		{name: "who nick", from: 2, cmd: "WHO", params: []string{"alice"}, to: 1,
			wantSelf: []string{
				":ircsock.localhost 352 bob * alice 127.0.0.1 ircsock.localhost alice H :0 Real alice",
				":ircsock.localhost 315 bob alice :End of WHO list",
			}},
		{name: "part not on channel", from: 1, cmd: "PART", params: []string{"&other"}, to: 2,
			wantSelf: []string{":ircsock.localhost 442 alice &other :You're not on that channel"}},
		{name: "part no such channel", from: 1, cmd: "PART", params: []string{"#gone"}, to: 2,
			wantSelf: []string{":ircsock.localhost 403 alice #gone :No such channel"}},
		{name: "join bad name", from: 1, cmd: "JOIN", params: []string{"#a,b"}, to: 2,
			wantSelf: []string{
				":alice!alice@127.0.0.1 JOIN :#a",
				":ircsock.localhost 353 alice = #a :@alice",
				":ircsock.localhost 366 alice #a :End of /NAMES list",
				":ircsock.localhost 403 alice b :No such channel",
			}},
		{name: "unknown command", from: 1, cmd: "FROB", to: 2,
			wantSelf: []string{":ircsock.localhost 421 alice FROB :Unknown command"}},
		{name: "need more params", from: 1, cmd: "JOIN", to: 2,
			wantSelf: []string{":ircsock.localhost 461 alice JOIN :Not enough parameters"}},
		{name: "nick in use", from: 1, cmd: "NICK", params: []string{"BOB"}, to: 2,
			wantSelf: []string{":ircsock.localhost 433 alice BOB :Nickname is already in use"}},
		{name: "erroneous nick", from: 1, cmd: "NICK", params: []string{"9lives"}, to: 2,
			wantSelf: []string{":ircsock.localhost 432 alice 9lives :Erroneous nickname"}},
		{name: "no nick", from: 1, cmd: "NICK", to: 2,
			wantSelf: []string{":ircsock.localhost 431 alice :No nickname given"}},
		{name: "part", from: 2, cmd: "PART", params: []string{"#chat", "bye"}, to: 1,
			wantTo:   []string{":bob!bob@127.0.0.1 PART #Chat :bye"},
			wantSelf: []string{":bob!bob@127.0.0.1 PART #Chat :bye"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.in(tc.from, tc.cmd, tc.params...)
			expect(t, "recipient", h.take(tc.to), tc.wantTo)
			expect(t, "sender", h.take(tc.from), tc.wantSelf)
		})
	}
}

func TestTags(t *testing.T) {
	h := newHarness(t, Config{})
	h.register(1, "alice")
	h.open(2)
	h.in(2, "CAP", "REQ", "message-tags server-time")
	h.in(2, "NICK", "tagger")
	h.in(2, "USER", "t", "0", "*", "T")
	h.in(2, "CAP", "END")
	h.take(2)
	h.open(3)
	h.in(3, "CAP", "REQ", "server-time")
	h.in(3, "NICK", "timer")
	h.in(3, "USER", "t", "0", "*", "T")
	h.in(3, "CAP", "END")
	h.take(3)
	for _, id := range []ircsock.ConnID{1, 2, 3} {
		h.in(id, "JOIN", "#t")
	}
	for _, id := range []ircsock.ConnID{1, 2, 3} {
		h.take(id)
	}
	tags := []ircmsg.Tag{{Key: "+draft/react", Value: "x"}, {Key: "label", Value: "no"}}
	h.inTags(1, tags, "PRIVMSG", "#t", "hello")
	expect(t, "message-tags + server-time", h.take(2),
		[]string{"@time=2025-03-01T12:00:00.000Z;+draft/react=x :alice!alice@127.0.0.1 PRIVMSG #t :hello"})
	expect(t, "server-time only", h.take(3),
		[]string{"@time=2025-03-01T12:00:00.000Z :alice!alice@127.0.0.1 PRIVMSG #t :hello"})
	expect(t, "sender", h.take(1), nil)

	h.inTags(3, tags, "TAGMSG", "#t")
	expect(t, "TAGMSG to message-tags", h.take(2),
		[]string{"@time=2025-03-01T12:00:00.000Z;+draft/react=x :timer!t@127.0.0.1 TAGMSG :#t"})
	expect(t, "TAGMSG to plain client", h.take(1), nil)
}

func TestNickChangeAndQuit(t *testing.T) {
	h := newHarness(t, Config{})
	h.register(1, "alice")
	h.register(2, "bob")
	h.register(3, "carol")
	h.in(1, "JOIN", "#a,#b")
	h.in(2, "JOIN", "#a,#b")
	for _, id := range []ircsock.ConnID{1, 2, 3} {
		h.take(id)
	}
	h.in(1, "NICK", "Alicia")
	want := []string{":alice!alice@127.0.0.1 NICK :Alicia"}
	expect(t, "self sees nick once", h.take(1), want)
	expect(t, "peer sees nick once", h.take(2), want)
	expect(t, "stranger", h.take(3), nil)

	h.in(1, "QUIT", "gone")
	expect(t, "quitter", h.take(1), []string{"ERROR :Closing Link: 127.0.0.1 (Quit: gone)"})
	expect(t, "peer", h.take(2), []string{":Alicia!alice@127.0.0.1 QUIT :Quit: gone"})
	expect(t, "stranger", h.take(3), nil)
	if r := h.r.closed[1]; r != "Quit: gone" {
		t.Errorf("disconnect reason %q, want %q", r, "Quit: gone")
	}
	// The Backend's own Disconnect event follows; it must not repeat QUIT.
	h.s.closed(1, "Quit: gone", h.now)
	expect(t, "after disconnect event", h.take(2), nil)
	h.in(3, "NICK", "alicia")
	expect(t, "taking the freed nick", h.take(3), []string{":carol!carol@127.0.0.1 NICK :alicia"})
	// A connection lost without QUIT is broadcast from the event.
	h.s.closed(2, "Connection reset by peer", h.now)
	if _, ok := h.s.chans["#a"]; ok {
		t.Errorf("channel #a still exists after its last member left")
	}
}

func TestNotRegistered(t *testing.T) {
	cases := []struct {
		cmd    string
		params []string
	}{
		{"JOIN", []string{"#a"}},
		{"PRIVMSG", []string{"x", "y"}},
		{"FROB", nil},
	}
	for _, tc := range cases {
		t.Run(tc.cmd, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.open(1)
			h.in(1, tc.cmd, tc.params...)
			expect(t, "reply", h.take(1), []string{":ircsock.localhost 451 * :You have not registered"})
		})
	}
}

func TestPingTimeout(t *testing.T) {
	h := newHarness(t, Config{PingInterval: 90 * time.Second})
	h.register(1, "alice")
	h.now = h.now.Add(90 * time.Second)
	h.s.idle(1, h.now)
	expect(t, "first idle", h.take(1), []string{"PING :ircsock.localhost"})
	h.in(1, "PONG", "ircsock.localhost")
	h.now = h.now.Add(90 * time.Second)
	h.s.idle(1, h.now)
	expect(t, "idle after PONG", h.take(1), []string{"PING :ircsock.localhost"})
	h.now = h.now.Add(90 * time.Second)
	h.s.idle(1, h.now)
	expect(t, "idle with PING pending", h.take(1), []string{"ERROR :Closing Link: 127.0.0.1 (Ping timeout: 180 seconds)"})
	if r := h.r.closed[1]; r != "Ping timeout: 180 seconds" {
		t.Errorf("disconnect reason %q, want %q", r, "Ping timeout: 180 seconds")
	}
}

func TestRegistrationTimeout(t *testing.T) {
	h := newHarness(t, Config{RegisterTimeout: 10 * time.Second})
	h.open(1)
	h.now = h.now.Add(5 * time.Second)
	h.open(2)
	h.register(3, "quick")
	if d, ok := h.s.nextDeadline(); !ok || !d.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("nextDeadline() = %v, %v; want %v, true", d, ok, t0.Add(10*time.Second))
	}
	h.s.expire(t0.Add(10 * time.Second))
	expect(t, "slow client", h.take(1), []string{"ERROR :Closing Link: 127.0.0.1 (Registration timeout)"})
	expect(t, "younger client", h.take(2), nil)
	h.s.expire(t0.Add(20 * time.Second))
	expect(t, "younger client later", h.take(2), []string{"ERROR :Closing Link: 127.0.0.1 (Registration timeout)"})
	expect(t, "registered client", h.take(3), nil)
	if _, ok := h.r.closed[3]; ok {
		t.Errorf("registered client was disconnected")
	}
	if _, ok := h.s.nextDeadline(); ok {
		t.Errorf("nextDeadline() still set after every deadline passed")
	}
}

func TestInputError(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"line too long", &filter.RecordError{Err: filter.ErrLineTooLong}, ":ircsock.localhost 417 alice :Input line was too long"},
		{"body too long", &ircmsg.ParseError{Line: "PRIVMSG", Err: ircmsg.ErrBodyTooLong}, ":ircsock.localhost 417 alice :Input line was too long"},
		{"tags too long", &ircmsg.ParseError{Line: "@a", Err: ircmsg.ErrTagsTooLong}, ":ircsock.localhost 417 alice :Input line was too long"},
		{"no command", &ircmsg.ParseError{Line: ":src", Err: ircmsg.ErrNoCommand},
			":ircsock.localhost NOTICE alice :Malformed line ignored (ircmsg: no command)"},
	}
	h := newHarness(t, Config{})
	h.register(1, "alice")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.s.inputError(1, tc.err, h.now)
			expect(t, "reply", h.take(1), []string{tc.want})
			h.in(1, "PING", "x")
			expect(t, "still served", h.take(1), []string{":ircsock.localhost PONG ircsock.localhost :x"})
		})
	}
}

func TestShutdownNotice(t *testing.T) {
	h := newHarness(t, Config{})
	h.register(1, "alice")
	h.open(2)
	h.s.shutdown(h.now)
	expect(t, "registered", h.take(1), []string{"ERROR :Server shutting down"})
	expect(t, "unregistered", h.take(2), []string{"ERROR :Server shutting down"})
	h.in(1, "PING", "x")
	expect(t, "input after shutdown", h.take(1), nil)
}

func TestEchoedParamsStayFormattable(t *testing.T) {
	h := newHarness(t, Config{})
	h.register(1, "alice")
	cases := []struct {
		name   string
		cmd    string
		params []string
		want   string
	}{
		{"nick with space", "NICK", []string{"a b"}, ":ircsock.localhost 432 alice a :Erroneous nickname"},
		{"nick with colon", "NICK", []string{":x"}, ":ircsock.localhost 432 alice * :Erroneous nickname"},
		{"channel with space", "JOIN", []string{"#a b"}, ":ircsock.localhost 403 alice #a :No such channel"},
		{"who mask with space", "WHO", []string{"x y"}, ":ircsock.localhost 315 alice x :End of WHO list"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.in(1, tc.cmd, tc.params...)
			expect(t, "reply", h.take(1), []string{tc.want})
		})
	}
}

func TestLongMessageIsCut(t *testing.T) {
	h := newHarness(t, Config{})
	h.register(1, "alice")
	h.register(2, "bob")
	text := strings.Repeat("é", 300) // 600 bytes
	h.in(1, "PRIVMSG", "bob", text)
	got := h.take(2)
	if len(got) != 1 {
		t.Fatalf("got %d lines, want 1", len(got))
	}
	if n := len(got[0]) + 2; n > 512 {
		t.Errorf("relayed line is %d bytes with CR LF, want at most 512", n)
	}
	if !strings.HasSuffix(got[0], "é") {
		t.Errorf("relayed text was cut inside a UTF-8 sequence: %q", got[0][len(got[0])-4:])
	}
}

func TestOperatorAndQueries(t *testing.T) {
	h := newHarness(t, Config{MaxChannels: 2})
	h.register(1, "alice")
	h.register(2, "bob")
	h.in(1, "JOIN", "#op")
	h.in(2, "JOIN", "#op")
	h.take(1)
	h.take(2)
	cases := []struct {
		name     string
		from     ircsock.ConnID
		cmd      string
		params   []string
		wantSelf []string
		other    ircsock.ConnID
		want     []string
		// unordered compares wantSelf as a set: it comes from a map.
		unordered bool
	}{
		{name: "non-op cannot op", from: 2, cmd: "MODE", params: []string{"#op", "+o", "bob"}, other: 1,
			wantSelf: []string{":ircsock.localhost 482 bob #op :You're not channel operator"}},
		{name: "op gives op", from: 1, cmd: "MODE", params: []string{"#op", "+o", "bob"}, other: 2,
			wantSelf: []string{":alice!alice@127.0.0.1 MODE #op +o :bob"},
			want:     []string{":alice!alice@127.0.0.1 MODE #op +o :bob"}},
		{name: "mode query", from: 2, cmd: "MODE", params: []string{"#op"}, other: 1,
			wantSelf: []string{":ircsock.localhost 324 bob #op :+nt", ":ircsock.localhost 329 bob #op :1740830400"}},
		{name: "ban list", from: 2, cmd: "MODE", params: []string{"#op", "b"}, other: 1,
			wantSelf: []string{":ircsock.localhost 368 bob #op :End of channel ban list"}},
		{name: "unknown channel mode", from: 1, cmd: "MODE", params: []string{"#op", "+z"}, other: 2,
			wantSelf: []string{":ircsock.localhost 472 alice z :is unknown mode char to me"}},
		{name: "user mode +i", from: 1, cmd: "MODE", params: []string{"alice", "+i"}, other: 2,
			wantSelf: []string{":alice!alice@127.0.0.1 MODE alice :+i"}},
		{name: "user mode query", from: 1, cmd: "MODE", params: []string{"alice"}, other: 2,
			wantSelf: []string{":ircsock.localhost 221 alice :+i"}},
		{name: "other user's mode", from: 1, cmd: "MODE", params: []string{"bob", "+i"}, other: 2,
			wantSelf: []string{":ircsock.localhost 502 alice :Can't change mode for other users"}},
		{name: "whois", from: 2, cmd: "WHOIS", params: []string{"ALICE"}, other: 1,
			wantSelf: []string{
				":ircsock.localhost 311 bob alice alice 127.0.0.1 * :Real alice",
				":ircsock.localhost 319 bob alice :@#op",
				":ircsock.localhost 312 bob alice ircsock.localhost :ircsock",
				":ircsock.localhost 318 bob alice :End of /WHOIS list",
			}},
		{name: "whois nobody", from: 2, cmd: "WHOIS", params: []string{"nobody"}, other: 1,
			wantSelf: []string{
				":ircsock.localhost 401 bob nobody :No such nick/channel",
				":ircsock.localhost 318 bob nobody :End of /WHOIS list",
			}},
		{name: "ison", from: 2, cmd: "ISON", params: []string{"alice nobody Bob"}, other: 1,
			wantSelf: []string{":ircsock.localhost 303 bob :alice bob"}},
		{name: "too many targets", from: 1, cmd: "PRIVMSG", params: []string{"a,b,c,d,e", "x"}, other: 2,
			wantSelf: []string{":ircsock.localhost 407 alice a,b,c,d,e :Too many targets"}},
		{name: "channel limit", from: 1, cmd: "JOIN", params: []string{"#two,#three"}, other: 2,
			wantSelf: []string{
				":alice!alice@127.0.0.1 JOIN :#two",
				":ircsock.localhost 353 alice = #two :@alice",
				":ircsock.localhost 366 alice #two :End of /NAMES list",
				":ircsock.localhost 405 alice #three :You have joined too many channels",
			}},
		{name: "join 0 parts all", from: 1, cmd: "JOIN", params: []string{"0"}, other: 2, unordered: true,
			wantSelf: []string{":alice!alice@127.0.0.1 PART :#op", ":alice!alice@127.0.0.1 PART :#two"},
			want:     []string{":alice!alice@127.0.0.1 PART :#op"}},
		{name: "kick not on channel", from: 2, cmd: "KICK", params: []string{"#op", "alice"}, other: 1,
			wantSelf: []string{":ircsock.localhost 441 bob alice #op :They aren't on that channel"}},
		{name: "kick", from: 2, cmd: "KICK", params: []string{"#op", "bob", "self-kick"}, other: 1,
			wantSelf: []string{":bob!bob@127.0.0.1 KICK #op bob :self-kick"}},
		{name: "lusers", from: 1, cmd: "LUSERS", other: 2,
			wantSelf: []string{
				":ircsock.localhost 251 alice :There are 1 users and 1 invisible on 1 servers",
				":ircsock.localhost 254 alice 0 :channels formed",
				":ircsock.localhost 255 alice :I have 2 clients and 0 servers",
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.in(tc.from, tc.cmd, tc.params...)
			got := h.take(tc.from)
			if tc.unordered {
				slices.Sort(got)
			}
			expect(t, "sender", got, tc.wantSelf)
			expect(t, "other", h.take(tc.other), tc.want)
		})
	}
}
