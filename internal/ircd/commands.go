package ircd

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/irc"
	"github.com/ircsock/ircsock/ircmsg"
)

// command is one IRC command's handler and its preconditions.
type command struct {
	// min is the fewest parameters; fewer get 461 ERR_NEEDMOREPARAMS.
	min int
	// preReg allows the command before registration; others get 451.
	preReg bool
	run    func(s *core, c *client, m *ircmsg.Message, now time.Time)
}

var commands = map[string]command{
	"CAP":     {min: 1, preReg: true, run: (*core).cmdCap},
	"PASS":    {min: 1, preReg: true, run: (*core).cmdPass},
	"NICK":    {preReg: true, run: (*core).cmdNick},
	"USER":    {min: 4, preReg: true, run: (*core).cmdUser},
	"PING":    {min: 1, preReg: true, run: (*core).cmdPing},
	"PONG":    {preReg: true, run: func(*core, *client, *ircmsg.Message, time.Time) {}},
	"QUIT":    {preReg: true, run: (*core).cmdQuit},
	"JOIN":    {min: 1, run: (*core).cmdJoin},
	"PART":    {min: 1, run: (*core).cmdPart},
	"PRIVMSG": {run: (*core).cmdMessage},
	"NOTICE":  {run: (*core).cmdMessage},
	"TAGMSG":  {min: 1, run: (*core).cmdMessage},
	"TOPIC":   {min: 1, run: (*core).cmdTopic},
	"NAMES":   {run: (*core).cmdNames},
	"WHO":     {run: (*core).cmdWho},
	"WHOIS":   {min: 1, run: (*core).cmdWhois},
	"MODE":    {min: 1, run: (*core).cmdMode},
	"KICK":    {min: 2, run: (*core).cmdKick},
	"MOTD":    {run: func(s *core, c *client, _ *ircmsg.Message, now time.Time) { s.motd(c, now) }},
	"LUSERS":  {run: func(s *core, c *client, _ *ircmsg.Message, now time.Time) { s.lusers(c, now) }},
	"ISON":    {min: 1, run: (*core).cmdIson},

	"ADMIN":    {run: (*core).cmdAdmin},
	"AWAY":     {run: (*core).cmdAway},
	"HELP":     {run: (*core).cmdHelp},
	"INFO":     {run: (*core).cmdInfo},
	"INVITE":   {min: 2, run: (*core).cmdInvite},
	"LINKS":    {run: (*core).cmdLinks},
	"LIST":     {run: (*core).cmdList},
	"MONITOR":  {min: 1, run: (*core).cmdMonitor},
	"OPER":     {min: 2, run: (*core).cmdOper},
	"SETNAME":  {min: 1, run: (*core).cmdSetname},
	"TIME":     {run: (*core).cmdTime},
	"USERHOST": {min: 1, run: (*core).cmdUserhost},
	"VERSION":  {run: (*core).cmdVersion},
	"WHOWAS":   {min: 1, run: (*core).cmdWhowas},
}

// input handles one message from a client.
func (s *core) input(id ircsock.ConnID, m *ircmsg.Message, now time.Time) {
	c, ok := s.clients[id]
	if !ok || s.closing {
		return
	}
	c.lastInput = now.Sub(s.created)
	c.pingPending = false
	cmd, ok := commands[m.Command]
	switch {
	case !ok && !c.registered:
		s.numeric(c, now, "451", "You have not registered")
	case !ok:
		// Logged: a command a client sends that the server does not
		// know is a gap worth seeing in the log.
		s.log.Info("unknown command", "conn", c.id, "nick", c.nick, "command", keep(truncate(m.Command, 32)), "numeric", "421")
		s.numeric(c, now, "421", m.Command, "Unknown command")
	case !cmd.preReg && !c.registered:
		s.numeric(c, now, "451", "You have not registered")
	case len(m.Params) < cmd.min:
		s.numeric(c, now, "461", m.Command, "Not enough parameters")
	default:
		cmd.run(s, c, m, now)
	}
}

func (s *core) cmdCap(c *client, m *ircmsg.Message, now time.Time) {
	reply := func(sub string, args ...string) {
		p := append([]string{c.target(), sub}, args...)
		s.sendTo(c, &ircmsg.Message{Source: s.cfg.ServerName, Command: "CAP", Params: p}, now)
	}
	switch sub := strings.ToUpper(m.Params[0]); sub {
	case "LS":
		if !c.registered {
			c.capNegotiating = true
		}
		if len(m.Params) > 1 {
			if v, err := strconv.Atoi(m.Params[1]); err == nil && v > int(c.capVersion) {
				c.capVersion = uint16(min(v, math.MaxUint16))
			}
		}
		var all capSet
		for _, cn := range capNames {
			all |= cn.bit
		}
		list := all.String()
		// IRCv3 STS is advertised with its value, which only CAP 302
		// clients may be sent; it cannot be requested.
		if s.stsPort != 0 && c.capVersion >= 302 {
			if c.secure {
				list += " sts=duration=" + strconv.FormatInt(int64(s.stsDuration/time.Second), 10)
			} else {
				list += " sts=port=" + strconv.Itoa(s.stsPort)
			}
		}
		reply("LS", list)
	case "LIST":
		reply("LIST", c.caps.String())
	case "REQ":
		if !c.registered {
			c.capNegotiating = true
		}
		if len(m.Params) < 2 {
			s.numeric(c, now, "461", "CAP", "Not enough parameters")
			return
		}
		// IRCv3 capability negotiation: a REQ is applied whole or not
		// at all.
		add, del := c.caps, capSet(0)
		ok := true
		for _, name := range strings.Fields(m.Params[1]) {
			off := strings.HasPrefix(name, "-")
			bit, known := capByName(strings.TrimPrefix(name, "-"))
			switch {
			case !known:
				ok = false
			case off:
				del |= bit
			default:
				add |= bit
			}
		}
		if !ok || strings.TrimSpace(m.Params[1]) == "" {
			reply("NAK", m.Params[1])
			return
		}
		// The ACK itself still goes out under the old set.
		reply("ACK", m.Params[1])
		c.caps = add &^ del
	case "END":
		if c.capNegotiating {
			c.capNegotiating = false
			s.tryRegister(c, now)
		}
	default:
		s.numeric(c, now, "410", m.Params[0], "Invalid CAP command")
	}
}

func (s *core) cmdPass(c *client, m *ircmsg.Message, now time.Time) {
	if c.registered {
		s.numeric(c, now, "462", "You may not reregister")
		return
	}
	c.ext().passGiven = keep(m.Params[0])
}

func (s *core) cmdNick(c *client, m *ircmsg.Message, now time.Time) {
	if len(m.Params) == 0 || m.Params[0] == "" {
		s.numeric(c, now, "431", "No nickname given")
		return
	}
	nick := keep(m.Params[0])
	if !validNick(nick) {
		s.numeric(c, now, "432", nick, "Erroneous nickname")
		return
	}
	key := fold(nick)
	if other, taken := s.nicks[key]; taken && other != c {
		s.numeric(c, now, "433", nick, "Nickname is already in use")
		return
	}
	if nick == c.nick {
		return
	}
	old, oldNick := c.source(), c.nick
	if c.registered {
		s.rememberWhowas(c, now)
	}
	if c.nick != "" {
		delete(s.nicks, fold(c.nick))
	}
	c.nick = nick
	s.nicks[key] = c
	if !c.registered {
		s.tryRegister(c, now)
		return
	}
	peers := s.peers(c, true)
	s.deliver(&ircmsg.Message{Source: old, Command: "NICK", Params: []string{nick}}, peers, nil, now)
	s.donePeers(peers)
	if fold(oldNick) != key {
		s.monitorOffline(c, oldNick, now)
		s.monitorOnline(c, now)
	}
}

func (s *core) cmdUser(c *client, m *ircmsg.Message, now time.Time) {
	if c.registered {
		s.numeric(c, now, "462", "You may not reregister")
		return
	}
	c.user = cleanUser(m.Params[0])
	switch c.user {
	case "":
		c.user = "user"
	case c.nick:
		c.user = c.nick // many clients give their nick: keep one copy
	}
	c.real = keep(truncate(m.Params[3], RealLen))
	s.tryRegister(c, now)
}

// tryRegister completes registration once NICK, USER and any CAP
// negotiation are done.
func (s *core) tryRegister(c *client, now time.Time) {
	if c.registered || c.nick == "" || c.user == "" || c.capNegotiating {
		return
	}
	given := ""
	if c.extra != nil {
		given = c.extra.passGiven
		c.extra.passGiven = "" // needed no more, whatever comes next
		c.tidy()
	}
	if s.cfg.Password != "" && given != s.cfg.Password {
		s.numeric(c, now, "464", "Password incorrect")
		s.drop(c, "Bad password", now)
		return
	}
	c.registered = true
	s.trimRegq()
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "registered", slog.Uint64("conn", uint64(c.id)), slog.String("nick", c.nick), slog.String("user", c.user), slog.String("host", c.host), slog.Bool("tls", c.secure))
	s.numeric(c, now, "001", "Welcome to the "+s.cfg.Network+" IRC Network "+c.source())
	s.numeric(c, now, "002", s.welcome.host)
	s.numeric(c, now, "003", s.welcome.created)
	s.numeric(c, now, "004", s.cfg.ServerName, s.cfg.Version, "io", "beIiklmnostv", "beIklov")
	s.sendISupport(c, now)
	s.lusers(c, now)
	s.motd(c, now)
	s.monitorOnline(c, now)
}

func (s *core) lusers(c *client, now time.Time) {
	users, invisible, unknown := 0, 0, 0
	for _, o := range s.clients {
		switch {
		case !o.registered:
			unknown++
		case o.invisible:
			invisible++
		default:
			users++
		}
	}
	s.numeric(c, now, "251", "There are "+strconv.Itoa(users)+" users and "+strconv.Itoa(invisible)+" invisible on 1 servers")
	if unknown > 0 {
		s.numeric(c, now, "253", strconv.Itoa(unknown), "unknown connection(s)")
	}
	s.numeric(c, now, "254", strconv.Itoa(len(s.chans)), "channels formed")
	s.numeric(c, now, "255", "I have "+strconv.Itoa(len(s.clients))+" clients and 0 servers")
}

func (s *core) motd(c *client, now time.Time) {
	if len(s.cfg.MOTD) == 0 {
		s.numeric(c, now, "422", "MOTD File is missing")
		return
	}
	s.numeric(c, now, "375", s.welcome.motdStart)
	for _, line := range s.welcome.motd {
		s.numeric(c, now, "372", line)
	}
	s.numeric(c, now, "376", "End of /MOTD command.")
}

func (s *core) cmdPing(c *client, m *ircmsg.Message, now time.Time) {
	s.sendTo(c, &ircmsg.Message{Source: s.cfg.ServerName, Command: "PONG",
		Params: []string{s.cfg.ServerName, m.Params[0]}}, now)
}

func (s *core) cmdQuit(c *client, m *ircmsg.Message, now time.Time) {
	reason := "Client Quit"
	if len(m.Params) > 0 && m.Params[0] != "" {
		reason = "Quit: " + truncate(m.Params[0], ReasonLen)
	}
	s.drop(c, reason, now)
}

func (s *core) cmdJoin(c *client, m *ircmsg.Message, now time.Time) {
	if m.Params[0] == "0" {
		// RFC 2812 3.2.1: JOIN 0 leaves every channel.
		// A copy: leaving takes each channel off the list.
		for _, ch := range slices.Clone(c.channels) {
			s.leave(c, ch, "PART", []string{ch.name}, now)
		}
		return
	}
	var keys []string
	if len(m.Params) > 1 {
		keys = strings.Split(m.Params[1], ",")
	}
	for i, name := range strings.Split(m.Params[0], ",") {
		key := ""
		if i < len(keys) {
			key = keys[i]
		}
		if name == "" {
			continue
		}
		if !validChannel(name) {
			s.numeric(c, now, "403", name, "No such channel")
			continue
		}
		folded := fold(name)
		if c.channel(folded) != nil {
			continue
		}
		if len(c.channels) >= s.cfg.MaxChannels {
			s.numeric(c, now, "405", name, "You have joined too many channels")
			continue
		}
		ch, ok := s.chans[folded]
		if ok {
			if code, text := s.joinRefusal(c, ch, key); code != "" {
				s.numeric(c, now, code, ch.name, text)
				continue
			}
		} else {
			ch = newChannel(keep(name), now)
			s.chans[ch.folded] = ch
		}
		ch.add(c, len(ch.members) == 0)
		s.deliver(&ircmsg.Message{Source: c.source(), Command: "JOIN", Params: []string{ch.name}}, ch.members, nil, now)
		if c.away() != "" {
			// IRCv3 away-notify: a joining client that is away is
			// followed by its AWAY.
			s.deliver(&ircmsg.Message{Source: c.source(), Command: "AWAY", Params: []string{c.away()}},
				withCap(ch.members, capAwayNotify, c), nil, now)
		}
		if ch.topic != "" {
			s.topicReply(c, ch, now)
		}
		s.names(c, ch, now)
	}
}

// joinRefusal checks c's JOIN to an existing channel, in the order
// ircd-hybrid and InspIRCd do: ban (unless excepted), invite-only
// (unless invited or on the +I list), key, then limit. It returns the
// numeric and its text, or "" when c may join.
func (s *core) joinRefusal(c *client, ch *channel, key string) (string, string) {
	invited := ch.invited[c]
	switch {
	case ch.banned(c):
		return "474", "Cannot join channel (+b)"
	case ch.inviteOnly && !invited && (ch.lists == nil || !anyMatch(ch.lists.invex, c)):
		return "473", "Cannot join channel (+i)"
	case ch.key != "" && key != ch.key:
		return "475", "Cannot join channel (+k)"
	case ch.limit > 0 && len(ch.members) >= ch.limit:
		return "471", "Cannot join channel (+l)"
	}
	return "", ""
}

// withCap returns the clients of cs that have the capability bit, c
// excepted.
func withCap(cs []*client, bit capSet, except *client) []*client {
	var out []*client
	for _, o := range cs {
		if o != except && o.caps&bit != 0 {
			out = append(out, o)
		}
	}
	return out
}

// keepCap is withCap for a list of the caller's own, such as peers':
// it filters cs in place, and keeps no exception.
func keepCap(cs []*client, bit capSet) []*client {
	out := cs[:0]
	for _, o := range cs {
		if o.caps&bit != 0 {
			out = append(out, o)
		}
	}
	return out
}

// leave removes c from ch after telling the channel (and c) with a PART
// or KICK message whose params are given.
func (s *core) leave(c *client, ch *channel, cmd string, params []string, now time.Time) {
	s.leaveBy(c, c, ch, cmd, params, now)
}

func (s *core) leaveBy(by, c *client, ch *channel, cmd string, params []string, now time.Time) {
	s.deliver(&ircmsg.Message{Source: by.source(), Command: cmd, Params: params}, ch.members, nil, now)
	ch.remove(c)
	c.dropChannel(ch)
	if len(ch.members) == 0 {
		delete(s.chans, ch.folded)
	}
}

func (s *core) cmdPart(c *client, m *ircmsg.Message, now time.Time) {
	for _, name := range splitList(m.Params[0]) {
		ch, ok := s.chans[fold(name)]
		switch {
		case !ok:
			s.numeric(c, now, "403", name, "No such channel")
		case !ch.has(c):
			s.numeric(c, now, "442", ch.name, "You're not on that channel")
		default:
			params := []string{ch.name}
			if len(m.Params) > 1 && m.Params[1] != "" {
				params = append(params, truncate(m.Params[1], ReasonLen))
			}
			s.leave(c, ch, "PART", params, now)
		}
	}
}

// cmdMessage handles PRIVMSG, NOTICE and TAGMSG. As RFC 2812 3.3.2 asks,
// NOTICE never draws an error reply.
func (s *core) cmdMessage(c *client, m *ircmsg.Message, now time.Time) {
	notice := m.Command == "NOTICE"
	tagmsg := m.Command == "TAGMSG"
	fail := func(code string, params ...string) {
		if !notice {
			s.numeric(c, now, code, params...)
		}
	}
	if len(m.Params) == 0 || m.Params[0] == "" {
		fail("411", "No recipient given ("+m.Command+")")
		return
	}
	if !tagmsg && (len(m.Params) < 2 || m.Params[1] == "") {
		fail("412", "No text to send")
		return
	}
	var ctags []ircmsg.Tag
	for _, t := range m.Tags {
		if strings.HasPrefix(t.Key, "+") {
			ctags = append(ctags, t)
		}
	}
	targets := splitList(m.Params[0])
	if len(targets) > MaxTargets {
		fail("407", m.Params[0], "Too many targets")
		return
	}
	for _, target := range targets {
		var to []*client
		name := target
		if isChannel(target) {
			ch, ok := s.chans[fold(target)]
			if !ok {
				fail("403", target, "No such channel")
				continue
			}
			if !ch.canSpeak(c) {
				fail("404", ch.name, "Cannot send to channel")
				continue
			}
			name = ch.name
			to = s.to[:0]
			for _, mem := range ch.members {
				if mem != c {
					to = append(to, mem)
				}
			}
		} else {
			dst, ok := s.nicks[fold(target)]
			if !ok || !dst.registered {
				fail("401", target, "No such nick/channel")
				continue
			}
			name = dst.nick
			to = []*client{dst}
			if dst.away() != "" && m.Command == "PRIVMSG" {
				s.numeric(c, now, "301", dst.nick, dst.away())
			}
		}
		out := &ircmsg.Message{Source: c.source(), Command: m.Command, Params: []string{name}}
		if tagmsg {
			// IRCv3 message-tags: TAGMSG goes only to clients that
			// negotiated message-tags.
			kept := to[:0]
			for _, r := range to {
				if r.caps&capMessageTags != 0 {
					kept = append(kept, r)
				}
			}
			to = kept
		} else {
			out.Params = append(out.Params, s.fitText(out, m.Params[1]))
		}
		s.deliver(out, to, ctags, now)
		if isChannel(target) {
			// deliver keeps no reference to to; cleared, so that the
			// scratch holds no departed client.
			clear(to)
			s.to = to[:0]
		}
	}
}

// fitText cuts text so that out, with text as its last parameter, fits
// RFC 1459's 512 bytes: a relayed line carries a longer source than the
// line the client sent.
func (s *core) fitText(out *ircmsg.Message, text string) string {
	n := 1 + len(out.Source) + 1 + len(out.Command) + 2 // ":src CMD" + " :"
	for _, p := range out.Params {
		n += 1 + len(p)
	}
	return truncate(text, 510-n)
}

func (s *core) cmdTopic(c *client, m *ircmsg.Message, now time.Time) {
	ch, ok := s.chans[fold(m.Params[0])]
	if !ok {
		s.numeric(c, now, "403", m.Params[0], "No such channel")
		return
	}
	if !ch.has(c) {
		s.numeric(c, now, "442", ch.name, "You're not on that channel")
		return
	}
	if len(m.Params) < 2 {
		if ch.topic == "" {
			s.numeric(c, now, "331", ch.name, "No topic is set")
			return
		}
		s.topicReply(c, ch, now)
		return
	}
	if ch.topicOps && !ch.ops[c] {
		s.numeric(c, now, "482", ch.name, "You're not channel operator")
		return
	}
	ch.topic = keep(truncate(m.Params[1], TopicLen))
	ch.topicBy = c.source()
	ch.topicAt = now.Unix()
	s.deliver(&ircmsg.Message{Source: c.source(), Command: "TOPIC", Params: []string{ch.name, ch.topic}}, ch.members, nil, now)
}

func (s *core) topicReply(c *client, ch *channel, now time.Time) {
	s.numeric(c, now, "332", ch.name, ch.topic)
	s.numeric(c, now, "333", ch.name, ch.topicBy, strconv.FormatInt(ch.topicAt, 10))
}

func (s *core) cmdNames(c *client, m *ircmsg.Message, now time.Time) {
	if len(m.Params) == 0 || m.Params[0] == "" {
		s.numeric(c, now, "366", "*", "End of /NAMES list")
		return
	}
	for _, name := range splitList(m.Params[0]) {
		if ch, ok := s.chans[fold(name)]; ok && ch.visibleTo(c) {
			s.names(c, ch, now)
		} else {
			s.numeric(c, now, "366", name, "End of /NAMES list")
		}
	}
}

// names sends 353 lines and 366.
func (s *core) names(c *client, ch *channel, now time.Time) {
	items := make([]string, 0, len(ch.members))
	member := ch.has(c)
	for _, mem := range ch.members {
		if member || !mem.invisible {
			items = append(items, ch.prefixed(mem))
		}
	}
	kind := "="
	if ch.secret {
		kind = "@"
	}
	s.listNumeric(c, now, "353", []string{kind, ch.name}, items)
	s.numeric(c, now, "366", ch.name, "End of /NAMES list")
}

// listNumeric sends items space-separated as the last parameter of code
// replies, as many as it takes to keep each well under 512 bytes.
func (s *core) listNumeric(c *client, now time.Time, code string, fixed, items []string) {
	var line strings.Builder
	flush := func() {
		if line.Len() > 0 {
			args := append(append(s.args[:0], fixed...), line.String())
			s.numeric(c, now, code, args...)
			clear(args)
			s.args = args[:0]
			line.Reset()
		}
	}
	for _, it := range items {
		if line.Len()+1+len(it) > 400 {
			flush()
		}
		if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(it)
	}
	flush()
}

func (s *core) cmdWho(c *client, m *ircmsg.Message, now time.Time) {
	mask := "*"
	if len(m.Params) > 0 && m.Params[0] != "" {
		mask = m.Params[0]
	}
	reply := func(chName string, ch *channel, o *client) {
		flags := "H"
		if o.away() != "" {
			flags = "G"
		}
		if ch != nil {
			flags += ch.prefix(o)
		}
		s.numeric(c, now, "352", chName, o.user, o.host, s.cfg.ServerName, o.nick, flags, "0 "+o.real)
	}
	switch {
	case isChannel(mask):
		if ch, ok := s.chans[fold(mask)]; ok && ch.visibleTo(c) {
			member := ch.has(c)
			for _, mem := range ch.members {
				if member || !mem.invisible {
					reply(ch.name, ch, mem)
				}
			}
		}
	case !strings.ContainsAny(mask, "*?"):
		if o, ok := s.nicks[fold(mask)]; ok && o.registered {
			reply("*", nil, o)
		}
	default:
		// A wildcard mask matches nick, user, host, real name or server
		// (RFC 2812 §3.6.1), and skips invisible clients that share no
		// channel with the asker.
		var shared map[*client]bool
		m := irc.CompileMask(mask, irc.ASCII)
		for _, o := range s.clients {
			if !o.registered {
				continue
			}
			if o.invisible && o != c {
				if shared == nil {
					shared = map[*client]bool{}
					peers := s.peers(c, false)
					for _, p := range peers {
						shared[p] = true
					}
					s.donePeers(peers)
				}
				if !shared[o] {
					continue
				}
			}
			if m.Match(o.nick) || m.Match(o.user) || m.Match(o.host) || m.Match(o.real) || m.Match(s.cfg.ServerName) {
				reply("*", nil, o)
			}
		}
	}
	s.numeric(c, now, "315", mask, "End of WHO list")
}

func (s *core) cmdWhois(c *client, m *ircmsg.Message, now time.Time) {
	nick := m.Params[len(m.Params)-1]
	o, ok := s.nicks[fold(nick)]
	if !ok || !o.registered {
		s.numeric(c, now, "401", nick, "No such nick/channel")
		s.numeric(c, now, "318", nick, "End of /WHOIS list")
		return
	}
	s.numeric(c, now, "311", o.nick, o.user, o.host, "*", o.real)
	var chans []string
	for _, ch := range o.channels {
		if ch.visibleTo(c) {
			chans = append(chans, ch.prefix(o)+ch.name)
		}
	}
	slices.Sort(chans)
	s.listNumeric(c, now, "319", []string{o.nick}, chans)
	s.numeric(c, now, "312", o.nick, s.cfg.ServerName, s.cfg.Network)
	if o.away() != "" {
		s.numeric(c, now, "301", o.nick, o.away())
	}
	if o.secure {
		s.numeric(c, now, "671", o.nick, "is using a secure connection")
	}
	// RPL_WHOISCERTFP, as InspIRCd and ergo send it: only to the client
	// itself and to operators, since a fingerprint identifies the client
	// across nicks.
	if o.oper {
		s.numeric(c, now, "313", o.nick, "is an IRC operator")
	}
	if o.certFP() != "" && (o == c || c.oper) {
		s.numeric(c, now, "276", o.nick, "has client certificate fingerprint "+o.certFP())
	}
	s.numeric(c, now, "318", o.nick, "End of /WHOIS list")
}

func (s *core) cmdIson(c *client, m *ircmsg.Message, now time.Time) {
	var on []string
	for _, p := range m.Params {
		for _, n := range strings.Fields(p) {
			if o, ok := s.nicks[fold(n)]; ok && o.registered {
				on = append(on, o.nick)
			}
		}
	}
	s.numeric(c, now, "303", strings.Join(on, " "))
}

func (s *core) cmdKick(c *client, m *ircmsg.Message, now time.Time) {
	ch, ok := s.chans[fold(m.Params[0])]
	if !ok {
		s.numeric(c, now, "403", m.Params[0], "No such channel")
		return
	}
	if !ch.has(c) {
		s.numeric(c, now, "442", ch.name, "You're not on that channel")
		return
	}
	if !ch.ops[c] {
		s.numeric(c, now, "482", ch.name, "You're not channel operator")
		return
	}
	reason := c.nick
	if len(m.Params) > 2 && m.Params[2] != "" {
		reason = truncate(m.Params[2], ReasonLen)
	}
	for _, nick := range splitList(m.Params[1]) {
		o, ok := s.nicks[fold(nick)]
		if !ok || !ch.has(o) {
			s.numeric(c, now, "441", nick, ch.name, "They aren't on that channel")
			continue
		}
		s.leaveBy(c, o, ch, "KICK", []string{ch.name, o.nick, reason}, now)
	}
}
