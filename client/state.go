package client

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ircsock/ircsock/irc"
	"github.com/ircsock/ircsock/ircmsg"
)

// A User is what the client knows about someone sharing a channel with
// it (or about itself).
type User struct {
	Nick     string
	Ident    string // user name, from userhost-in-names, JOIN or CHGHOST
	Host     string
	Account  string // "" when not logged in or not known
	RealName string // from extended-join or SETNAME
	Away     bool   // from away-notify
	AwayMsg  string
}

// A Member is a [User] in one channel, with its prefixes ("@+" with
// multi-prefix), highest first as the server's PREFIX orders them.
type Member struct {
	User
	Prefixes string
}

// A Channel is a snapshot of a joined channel.
type Channel struct {
	Name       string
	Topic      string
	TopicSetBy string
	TopicSetAt time.Time
	Members    []Member // sorted by folded nick
}

type userState struct {
	User
	chans int // channels shared with the client
}

type chanState struct {
	name, topic, topicBy string
	topicAt              time.Time
	members              map[string]*memberState
}

type memberState struct {
	u        *userState
	prefixes string
}

type wantChan struct{ name, key string }

// state is the session state kept under Client.mu. Channels and users are
// keyed by their folded names under the server's CASEMAPPING.
type state struct {
	nick, account string
	ident, host   string
	registered    bool
	caps, offered map[string]string
	isupport      *irc.ISupport
	// Cached from isupport after each 005.
	casemap   irc.Casemap
	prefix    irc.Prefix
	chanTypes string
	chanModes irc.ChanModes
	channels  map[string]*chanState
	users     map[string]*userState
	wanted    map[string]wantChan // channels to rejoin, across links
	keys      map[string]string   // keys given to JoinKey
}

func (st *state) reset(nick string) {
	st.wanted = make(map[string]wantChan)
	st.keys = make(map[string]string)
	st.newConnection(nick)
}

// newConnection forgets what belonged to the last link; the channels to
// rejoin stay.
func (st *state) newConnection(nick string) {
	st.nick, st.account, st.ident, st.host = nick, "", "", ""
	st.registered = false
	st.caps = make(map[string]string)
	st.offered = make(map[string]string)
	st.isupport = &irc.ISupport{}
	st.cacheISupport() // RFC 1459 defaults, until 005 says otherwise
	st.channels = make(map[string]*chanState)
	st.users = make(map[string]*userState)
}

// lost forgets the channels and users of a lost link (the channels to
// rejoin stay) and that it was registered.
func (st *state) lost() {
	st.registered = false
	st.channels = make(map[string]*chanState)
	st.users = make(map[string]*userState)
}

func (st *state) fold(s string) string { return st.casemap.Fold(s) }

func (st *state) cacheISupport() {
	st.casemap, _ = st.isupport.Casemap()
	st.prefix = st.isupport.Prefix()
	st.chanTypes = st.isupport.ChanTypes()
	st.chanModes = st.isupport.ChanModes()
}

func (st *state) isMe(nick string) bool { return st.fold(nick) == st.fold(st.nick) }

func (st *state) isChannel(name string) bool {
	return name != "" && strings.IndexByte(st.chanTypes, name[0]) >= 0
}

func (st *state) rejoinList() []*ircmsg.Message {
	var out []*ircmsg.Message
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range st.wanted {
			if !yield(k) {
				return
			}
		}
	}) {
		w := st.wanted[k]
		p := []string{w.name}
		if w.key != "" {
			p = append(p, w.key)
		}
		out = append(out, &ircmsg.Message{Command: "JOIN", Params: p})
	}
	return out
}

func (st *state) user(nick, ident, host string) *userState {
	k := st.fold(nick)
	u := st.users[k]
	if u == nil {
		u = &userState{User: User{Nick: nick}}
		st.users[k] = u
	}
	if ident != "" {
		u.Ident = ident
	}
	if host != "" {
		u.Host = host
	}
	return u
}

func (st *state) addMember(ch *chanState, u *userState, prefixes string) {
	k := st.fold(u.Nick)
	if mb, ok := ch.members[k]; ok {
		mb.prefixes = prefixes
		return
	}
	u.chans++
	ch.members[k] = &memberState{u: u, prefixes: prefixes}
}

func (st *state) removeMember(ch *chanState, nick string) {
	k := st.fold(nick)
	mb, ok := ch.members[k]
	if !ok {
		return
	}
	delete(ch.members, k)
	mb.u.chans--
	if mb.u.chans <= 0 && !st.isMe(mb.u.Nick) {
		delete(st.users, k)
	}
}

func (st *state) dropChannel(name string) {
	k := st.fold(name)
	ch, ok := st.channels[k]
	if !ok {
		return
	}
	for _, mb := range ch.members {
		st.removeMember(ch, mb.u.Nick)
	}
	delete(st.channels, k)
}

// sortPrefixes orders prefix symbols as PREFIX does, highest first.
func (st *state) sortPrefixes(p string) string {
	b := []byte(p)
	slices.SortFunc(b, func(x, y byte) int {
		return strings.IndexByte(st.prefix.Symbols, x) - strings.IndexByte(st.prefix.Symbols, y)
	})
	return string(slices.Compact(b))
}

// track updates the state from one message.
func (c *Client) track(m *ircmsg.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &c.st
	nick, ident, host := ircmsg.SplitSource(m.Source)
	if acct, ok := m.Tag("account"); ok && nick != "" {
		if u := st.users[st.fold(nick)]; u != nil {
			u.Account = acct
		}
	}
	p := m.Params
	switch m.Command {
	case "NICK":
		if len(p) < 1 || nick == "" {
			return
		}
		newNick := p[0]
		if st.isMe(nick) {
			st.nick = newNick
		}
		ok, nk := st.fold(nick), st.fold(newNick)
		u := st.users[ok]
		if u == nil {
			return
		}
		delete(st.users, ok)
		u.Nick = newNick
		st.users[nk] = u
		for _, ch := range st.channels {
			if mb, in := ch.members[ok]; in {
				delete(ch.members, ok)
				ch.members[nk] = mb
			}
		}
	case "JOIN":
		if len(p) < 1 || nick == "" {
			return
		}
		for name := range strings.SplitSeq(p[0], ",") {
			k := st.fold(name)
			if st.isMe(nick) {
				st.dropChannel(name)
				st.channels[k] = &chanState{name: name, members: make(map[string]*memberState)}
				st.wanted[k] = wantChan{name: name, key: st.keys[k]}
				st.ident, st.host = ident, host
			}
			ch := st.channels[k]
			if ch == nil {
				continue
			}
			u := st.user(nick, ident, host)
			if len(p) >= 3 { // extended-join: account and real name
				u.Account = p[1]
				if u.Account == "*" {
					u.Account = ""
				}
				u.RealName = p[2]
			}
			st.addMember(ch, u, "")
		}
	case "PART":
		if len(p) < 1 {
			return
		}
		for name := range strings.SplitSeq(p[0], ",") {
			st.leave(name, nick)
		}
	case "KICK":
		if len(p) >= 2 {
			st.leave(p[0], p[1])
		}
	case "QUIT":
		for _, ch := range st.channels {
			st.removeMember(ch, nick)
		}
	case "353": // RPL_NAMREPLY: me symbol channel :names
		if len(p) < 4 {
			return
		}
		ch := st.channels[st.fold(p[2])]
		if ch == nil {
			return
		}
		for name := range strings.FieldsSeq(p[3]) {
			syms, rest := st.prefix.Split(name)
			n, id, h := ircmsg.SplitSource(rest)
			if n == "" {
				continue
			}
			st.addMember(ch, st.user(n, id, h), st.sortPrefixes(syms))
		}
	case "332": // RPL_TOPIC
		if len(p) >= 3 {
			if ch := st.channels[st.fold(p[1])]; ch != nil {
				ch.topic = p[2]
			}
		}
	case "333": // RPL_TOPICWHOTIME
		if len(p) >= 4 {
			if ch := st.channels[st.fold(p[1])]; ch != nil {
				ch.topicBy = p[2]
				if sec, err := strconv.ParseInt(p[3], 10, 64); err == nil {
					ch.topicAt = time.Unix(sec, 0)
				}
			}
		}
	case "TOPIC":
		if len(p) >= 2 {
			if ch := st.channels[st.fold(p[0])]; ch != nil {
				ch.topic, ch.topicBy = p[1], m.Source
				ch.topicAt = time.Now()
				if t, ok := ServerTime(m); ok {
					ch.topicAt = t
				}
			}
		}
	case "MODE":
		if len(p) >= 2 && st.isChannel(p[0]) {
			st.applyModes(p[0], p[1], p[2:])
		}
	case "ACCOUNT":
		if len(p) >= 1 {
			if u := st.users[st.fold(nick)]; u != nil {
				u.Account = p[0]
				if u.Account == "*" {
					u.Account = ""
				}
			}
		}
	case "AWAY":
		if u := st.users[st.fold(nick)]; u != nil {
			u.Away = len(p) > 0
			u.AwayMsg = last(m)
		}
	case "CHGHOST":
		if len(p) >= 2 {
			if u := st.users[st.fold(nick)]; u != nil {
				u.Ident, u.Host = p[0], p[1]
			}
			if st.isMe(nick) {
				st.ident, st.host = p[0], p[1]
			}
		}
	case "SETNAME":
		if len(p) >= 1 {
			if u := st.users[st.fold(nick)]; u != nil {
				u.RealName = p[0]
			}
		}
	case irc.RPL_ISUPPORT:
		st.applyISupport(m)
	}
}

func (st *state) leave(channel, nick string) {
	if st.isMe(nick) {
		st.dropChannel(channel)
		k := st.fold(channel)
		delete(st.wanted, k)
		delete(st.keys, k)
		return
	}
	if ch := st.channels[st.fold(channel)]; ch != nil {
		st.removeMember(ch, nick)
	}
}

// applyModes follows prefix modes (+o, +v, ...) in a channel MODE; the
// other modes only matter for which of them take a parameter.
func (st *state) applyModes(channel, modes string, args []string) {
	ch := st.channels[st.fold(channel)]
	add := true
	for i := 0; i < len(modes); i++ {
		mc := modes[i]
		switch mc {
		case '+':
			add = true
			continue
		case '-':
			add = false
			continue
		}
		takes := false
		if sym, ok := st.prefix.Symbol(mc); ok {
			if len(args) == 0 {
				return
			}
			target := args[0]
			args = args[1:]
			if ch == nil {
				continue
			}
			if mb := ch.members[st.fold(target)]; mb != nil {
				if add {
					mb.prefixes = st.sortPrefixes(mb.prefixes + string(sym))
				} else {
					mb.prefixes = strings.ReplaceAll(mb.prefixes, string(sym), "")
				}
			}
			continue
		}
		switch {
		case strings.IndexByte(st.chanModes.A, mc) >= 0, strings.IndexByte(st.chanModes.B, mc) >= 0:
			takes = true
		case strings.IndexByte(st.chanModes.C, mc) >= 0:
			takes = add
		}
		if takes && len(args) > 0 {
			args = args[1:]
		}
	}
}

func (st *state) applyISupport(m *ircmsg.Message) {
	old := st.casemap
	// A malformed token is kept raw and its accessor gives the default:
	// nothing to do about it here.
	_ = st.isupport.AddMessage(m)
	st.cacheISupport()
	if st.casemap != old {
		st.refold()
	}
}

// refold rebuilds every map under a new casemap.
func (st *state) refold() {
	users := make(map[string]*userState, len(st.users))
	for _, u := range st.users {
		users[st.fold(u.Nick)] = u
	}
	st.users = users
	chans := make(map[string]*chanState, len(st.channels))
	for _, ch := range st.channels {
		members := make(map[string]*memberState, len(ch.members))
		for _, mb := range ch.members {
			members[st.fold(mb.u.Nick)] = mb
		}
		ch.members = members
		chans[st.fold(ch.name)] = ch
	}
	st.channels = chans
	wanted := make(map[string]wantChan, len(st.wanted))
	for _, w := range st.wanted {
		wanted[st.fold(w.name)] = w
	}
	st.wanted = wanted
	keys := make(map[string]string, len(st.keys))
	for k, v := range st.keys {
		keys[st.fold(k)] = v
	}
	st.keys = keys
}

// Nick returns the client's current nick (the one being tried, before
// registration).
func (c *Client) Nick() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.nick
}

// Account returns the account the client is logged into, or "".
func (c *Client) Account() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.account
}

// Registered reports whether the current link has passed 001.
func (c *Client) Registered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.registered
}

// HasCap reports whether capability name is enabled on the current link.
func (c *Client) HasCap(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.st.caps[name]
	return ok
}

// Caps returns the enabled capabilities with their values
// ("sasl": "PLAIN,EXTERNAL").
func (c *Client) Caps() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return copyMap(c.st.caps)
}

// OfferedCaps returns the capabilities the server offers (CAP LS, NEW and
// DEL applied) with their values.
func (c *Client) OfferedCaps() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return copyMap(c.st.offered)
}

// Fold returns s folded under the server's CASEMAPPING (RFC 1459 until
// 005 says otherwise), so two names are the same when their folds are.
func (c *Client) Fold(s string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.fold(s)
}

// Channels returns the names of the channels the client is in, sorted.
func (c *Client) Channels() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.st.channels))
	for _, ch := range c.st.channels {
		out = append(out, ch.name)
	}
	slices.Sort(out)
	return out
}

// Channel returns a snapshot of a joined channel; ok is false when the
// client is not in it.
func (c *Client) Channel(name string) (ch Channel, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := c.st.channels[c.st.fold(name)]
	if cs == nil {
		return Channel{}, false
	}
	ch = Channel{Name: cs.name, Topic: cs.topic, TopicSetBy: cs.topicBy, TopicSetAt: cs.topicAt}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range cs.members {
			if !yield(k) {
				return
			}
		}
	}) {
		mb := cs.members[k]
		ch.Members = append(ch.Members, Member{User: mb.u.User, Prefixes: mb.prefixes})
	}
	return ch, true
}

// User returns what the client knows about nick (someone sharing a
// channel with it); ok is false for a stranger.
func (c *Client) User(nick string) (u User, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	us := c.st.users[c.st.fold(nick)]
	if us == nil {
		return User{}, false
	}
	return us.User, true
}

// ISupport returns a copy of the server's RPL_ISUPPORT (005) parameters
// on the current link; before 005 its accessors give the RFC 1459
// defaults.
func (c *Client) ISupport() *irc.ISupport {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := &irc.ISupport{}
	var toks []string
	for _, name := range c.st.isupport.Names() {
		v, _ := c.st.isupport.Get(name)
		if v == "" {
			toks = append(toks, name)
		} else {
			toks = append(toks, name+"="+escapeISupport(v))
		}
	}
	_ = cp.Add(toks)
	return cp
}

// escapeISupport undoes the unescaping ISupport.Add does, for a copy.
func escapeISupport(v string) string {
	r := strings.NewReplacer("\\", "\\x5C", " ", "\\x20", "=", "\\x3D")
	return r.Replace(v)
}

// Casemap returns the server's CASEMAPPING on the current link (RFC 1459
// until 005 says otherwise).
func (c *Client) Casemap() irc.Casemap {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.casemap
}

// ServerTime returns the time of the IRCv3 server-time tag of m; ok is
// false when m has none or it does not parse.
func ServerTime(m *ircmsg.Message) (t time.Time, ok bool) {
	v, ok := m.Tag("time")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
