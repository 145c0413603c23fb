package ircd

import (
	"testing"

	"github.com/ircsock/ircsock"
)

func idOf(i int) ircsock.ConnID { return ircsock.ConnID(i) }

// step is one line from a client and what two clients see after it.
type step struct {
	name     string
	from     int
	cmd      string
	params   []string
	wantSelf []string
	other    int
	want     []string
	// also gets want too.
	also int
}

func runSteps(t *testing.T, h *harness, steps []step) {
	t.Helper()
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			h.in(idOf(st.from), st.cmd, st.params...)
			expect(t, "sender", h.take(idOf(st.from)), st.wantSelf)
			if st.other != 0 {
				expect(t, "other", h.take(idOf(st.other)), st.want)
			}
			if st.also != 0 {
				expect(t, "also", h.take(idOf(st.also)), st.want)
			}
		})
		if !ok {
			t.FailNow() // later steps depend on this one
		}
	}
}

func TestChannelModes(t *testing.T) {
	h := newHarness(t, Config{MaxListEntries: 2})
	h.register(1, "alice")
	h.register(2, "bob")
	h.register(3, "carol")
	h.in(1, "JOIN", "#m")
	h.take(1)
	const (
		alice = "alice!alice@127.0.0.1"
		bob   = "bob!bob@127.0.0.1"
		srv   = ":ircsock.localhost "
	)
	joined := func(nick, kind, names string) []string {
		return []string{":" + nick + "!" + nick + "@127.0.0.1 JOIN :#m",
			srv + "353 " + nick + " " + kind + " #m :" + names,
			srv + "366 " + nick + " #m :End of /NAMES list"}
	}
	runSteps(t, h, []step{
		{name: "non-op cannot ban", from: 2, cmd: "MODE", params: []string{"#m", "+b", "carol"},
			wantSelf: []string{srv + "482 bob #m :You're not channel operator"}},
		{name: "ban", from: 1, cmd: "MODE", params: []string{"#m", "+b", "bob"},
			wantSelf: []string{":" + alice + " MODE #m +b :bob!*@*"}},
		{name: "banned join", from: 2, cmd: "JOIN", params: []string{"#m"}, other: 1,
			wantSelf: []string{srv + "474 bob #m :Cannot join channel (+b)"}},
		{name: "ban list", from: 2, cmd: "MODE", params: []string{"#m", "b"},
			wantSelf: []string{srv + "367 bob #m bob!*@* " + alice + " :1740830400", srv + "368 bob #m :End of channel ban list"}},
		{name: "exception", from: 1, cmd: "MODE", params: []string{"#m", "+e", "*!bob@*"},
			wantSelf: []string{":" + alice + " MODE #m +e :*!bob@*"}},
		{name: "exception list", from: 1, cmd: "MODE", params: []string{"#m", "e"},
			wantSelf: []string{srv + "348 alice #m *!bob@* " + alice + " :1740830400", srv + "349 alice #m :End of channel exception list"}},
		{name: "excepted join", from: 2, cmd: "JOIN", params: []string{"#m"}, other: 1,
			wantSelf: joined("bob", "=", "@alice bob"), want: []string{":" + bob + " JOIN :#m"}},
		{name: "excepted speaks", from: 2, cmd: "PRIVMSG", params: []string{"#m", "hi"}, other: 1,
			want: []string{":" + bob + " PRIVMSG #m :hi"}},
		{name: "unexcept", from: 1, cmd: "MODE", params: []string{"#m", "-e", "*!BOB@*"}, other: 2,
			wantSelf: []string{":" + alice + " MODE #m -e :*!bob@*"}, want: []string{":" + alice + " MODE #m -e :*!bob@*"}},
		{name: "banned member cannot speak", from: 2, cmd: "PRIVMSG", params: []string{"#m", "hi"}, other: 1,
			wantSelf: []string{srv + "404 bob #m :Cannot send to channel"}},
		{name: "voice overrides ban", from: 1, cmd: "MODE", params: []string{"#m", "+v-b", "bob", "bob!*@*"}, other: 2,
			wantSelf: []string{":" + alice + " MODE #m +v-b bob :bob!*@*"}, want: []string{":" + alice + " MODE #m +v-b bob :bob!*@*"}},
		{name: "moderated", from: 1, cmd: "MODE", params: []string{"#m", "+m-v", "bob"}, other: 2,
			wantSelf: []string{":" + alice + " MODE #m +m-v :bob"}, want: []string{":" + alice + " MODE #m +m-v :bob"}},
		{name: "moderated member cannot speak", from: 2, cmd: "PRIVMSG", params: []string{"#m", "hi"}, other: 1,
			wantSelf: []string{srv + "404 bob #m :Cannot send to channel"}},
		{name: "outsider blocked by +n", from: 3, cmd: "PRIVMSG", params: []string{"#m", "hi"}, other: 1,
			wantSelf: []string{srv + "404 carol #m :Cannot send to channel"}},
		{name: "lift m and n", from: 1, cmd: "MODE", params: []string{"#m", "-mn"}, other: 2,
			wantSelf: []string{":" + alice + " MODE #m :-mn"}, want: []string{":" + alice + " MODE #m :-mn"}},
		{name: "outsider speaks without +n", from: 3, cmd: "PRIVMSG", params: []string{"#m", "hi"}, other: 1, also: 2,
			want: []string{":carol!carol@127.0.0.1 PRIVMSG #m :hi"}},
		{name: "key limit invite-only secret", from: 1, cmd: "MODE", params: []string{"#m", "+kl+is", "sesame", "3"}, other: 2,
			wantSelf: []string{":" + alice + " MODE #m +klis sesame :3"}, want: []string{":" + alice + " MODE #m +klis sesame :3"}},
		{name: "member sees key", from: 2, cmd: "MODE", params: []string{"#m"},
			wantSelf: []string{srv + "324 bob #m +istkl sesame :3", srv + "329 bob #m :1740830400"}},
		{name: "outsider sees no key", from: 3, cmd: "MODE", params: []string{"#m"},
			wantSelf: []string{srv + "324 carol #m +istkl * :3", srv + "329 carol #m :1740830400"}},
		{name: "invite-only join", from: 3, cmd: "JOIN", params: []string{"#m", "sesame"},
			wantSelf: []string{srv + "473 carol #m :Cannot join channel (+i)"}},
		{name: "secret hidden from list", from: 3, cmd: "LIST",
			wantSelf: []string{srv + "321 carol Channel :Users  Name", srv + "323 carol :End of /LIST"}},
		{name: "secret hidden from names", from: 3, cmd: "NAMES", params: []string{"#m"},
			wantSelf: []string{srv + "366 carol #m :End of /NAMES list"}},
		{name: "secret hidden from who", from: 3, cmd: "WHO", params: []string{"#m"},
			wantSelf: []string{srv + "315 carol #m :End of WHO list"}},
		{name: "invex", from: 1, cmd: "MODE", params: []string{"#m", "+I", "carol!*@*"}, other: 2,
			wantSelf: []string{":" + alice + " MODE #m +I :carol!*@*"}, want: []string{":" + alice + " MODE #m +I :carol!*@*"}},
		{name: "invex list", from: 1, cmd: "MODE", params: []string{"#m", "I"},
			wantSelf: []string{srv + "346 alice #m carol!*@* " + alice + " :1740830400", srv + "347 alice #m :End of channel invite list"}},
		{name: "invexed without key", from: 3, cmd: "JOIN", params: []string{"#m"},
			wantSelf: []string{srv + "475 carol #m :Cannot join channel (+k)"}},
		{name: "invexed with key", from: 3, cmd: "JOIN", params: []string{"#m", "sesame"}, other: 1, also: 2,
			wantSelf: joined("carol", "@", "@alice bob carol"), want: []string{":carol!carol@127.0.0.1 JOIN :#m"}},
		{name: "limit", from: 1, cmd: "MODE", params: []string{"#m", "-I+l", "carol!*@*", "2"},
			wantSelf: []string{":" + alice + " MODE #m -I+l carol!*@* :2"}},
		{name: "lists are bounded", from: 1, cmd: "MODE", params: []string{"#m", "+bbb", "x1", "x2", "x3"},
			wantSelf: []string{srv + "478 alice #m x3!*@* :Channel list is full (2 entries)",
				":" + alice + " MODE #m +bb x1!*@* :x2!*@*"}},
		{name: "too many modes split", from: 1, cmd: "MODE", params: []string{"#m", "-bbk+vvv", "x1", "x2", "sesame", "bob", "carol", "alice"},
			wantSelf: []string{":" + alice + " MODE #m -bbk+v x1!*@* x2!*@* * :bob", ":" + alice + " MODE #m +vv carol :alice"}},
	})
	// carol parts and the limit goes; the channel is still invite-only
	// with a key: an invitation (and the key) lets her back.
	h.in(3, "PART", "#m")
	h.take(1)
	h.take(2)
	h.take(3)
	h.in(1, "MODE", "#m", "-l")
	h.take(1)
	h.take(2)
	runSteps(t, h, []step{
		{name: "invite", from: 1, cmd: "INVITE", params: []string{"carol", "#m"}, other: 3,
			wantSelf: []string{srv + "341 alice carol :#m"}, want: []string{":" + alice + " INVITE carol :#m"}},
		{name: "invited join", from: 3, cmd: "JOIN", params: []string{"#m", "sesame"}, other: 1, also: 2,
			want:     []string{":carol!carol@127.0.0.1 JOIN :#m"},
			wantSelf: joined("carol", "@", "@alice +bob carol")},
		{name: "invite member", from: 1, cmd: "INVITE", params: []string{"carol", "#m"},
			wantSelf: []string{srv + "443 alice carol #m :is already on channel"}},
		{name: "non-op invite to +i", from: 2, cmd: "INVITE", params: []string{"alice", "#m"},
			wantSelf: []string{srv + "482 bob #m :You're not channel operator"}},
		{name: "invite nobody", from: 1, cmd: "INVITE", params: []string{"nobody", "#m"},
			wantSelf: []string{srv + "401 alice nobody :No such nick/channel"}},
	})
}

func TestUserModeInvisible(t *testing.T) {
	h := newHarness(t, Config{})
	h.register(1, "alice")
	h.register(2, "bob")
	h.in(1, "MODE", "alice", "+i")
	h.take(1)
	h.in(2, "WHO", "*")
	expect(t, "WHO * hides the invisible stranger", h.take(2), []string{
		":ircsock.localhost 352 bob * bob 127.0.0.1 ircsock.localhost bob H :0 Real bob",
		":ircsock.localhost 315 bob * :End of WHO list",
	})
	h.in(1, "JOIN", "#x")
	h.in(2, "JOIN", "#x")
	h.take(1)
	h.take(2)
	h.in(2, "WHO", "a*")
	expect(t, "WHO a* shows a channel peer", h.take(2), []string{
		":ircsock.localhost 352 bob * alice 127.0.0.1 ircsock.localhost alice H :0 Real alice",
		":ircsock.localhost 315 bob a* :End of WHO list",
	})
}
