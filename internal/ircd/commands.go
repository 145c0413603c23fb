package ircd

import (
	"strconv"
	"strings"
	"time"

	"github.com/ircsock/ircsock"
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
}

// input handles one message from a client.
func (s *core) input(id ircsock.ConnID, m *ircmsg.Message, now time.Time) {
	c, ok := s.clients[id]
	if !ok || s.closing {
		return
	}
	c.lastInput = now
	c.pingPending = false
	cmd, ok := commands[m.Command]
	switch {
	case !ok && !c.registered:
		s.numeric(c, now, "451", "You have not registered")
	case !ok:
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
		var all capSet
		for _, cn := range capNames {
			all |= cn.bit
		}
		reply("LS", all.String())
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
	c.passGiven = m.Params[0]
}

func (s *core) cmdNick(c *client, m *ircmsg.Message, now time.Time) {
	if len(m.Params) == 0 || m.Params[0] == "" {
		s.numeric(c, now, "431", "No nickname given")
		return
	}
	nick := m.Params[0]
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
	old := c.source()
	if c.nick != "" {
		delete(s.nicks, fold(c.nick))
	}
	c.nick = nick
	s.nicks[key] = c
	if !c.registered {
		s.tryRegister(c, now)
		return
	}
	s.deliver(&ircmsg.Message{Source: old, Command: "NICK", Params: []string{nick}}, s.peers(c, true), nil, now)
}

func (s *core) cmdUser(c *client, m *ircmsg.Message, now time.Time) {
	if c.registered {
		s.numeric(c, now, "462", "You may not reregister")
		return
	}
	c.user = cleanUser(m.Params[0])
	if c.user == "" {
		c.user = "user"
	}
	c.real = truncate(m.Params[3], RealLen)
	s.tryRegister(c, now)
}

// tryRegister completes registration once NICK, USER and any CAP
// negotiation are done.
func (s *core) tryRegister(c *client, now time.Time) {
	if c.registered || c.nick == "" || c.user == "" || c.capNegotiating {
		return
	}
	if s.cfg.Password != "" && c.passGiven != s.cfg.Password {
		s.numeric(c, now, "464", "Password incorrect")
		s.drop(c, "Bad password", now)
		return
	}
	c.registered = true
	s.log.Info("registered", "conn", c.id, "nick", c.nick, "user", c.user, "host", c.host, "tls", c.secure)
	s.numeric(c, now, "001", "Welcome to the "+s.cfg.Network+" IRC Network "+c.source())
	s.numeric(c, now, "002", "Your host is "+s.cfg.ServerName+", running version "+s.cfg.Version)
	s.numeric(c, now, "003", "This server was created "+s.created.UTC().Format(time.RFC1123))
	s.numeric(c, now, "004", s.cfg.ServerName, s.cfg.Version, "i", "o")
	for _, line := range s.isupport {
		p := append(append([]string(nil), line...), "are supported by this server")
		s.numeric(c, now, "005", p...)
	}
	s.lusers(c, now)
	s.motd(c, now)
}

func (s *core) lusers(c *client, now time.Time) {
	users, unknown := 0, 0
	for _, o := range s.clients {
		if o.registered {
			users++
		} else {
			unknown++
		}
	}
	s.numeric(c, now, "251", "There are "+strconv.Itoa(users)+" users and 0 invisible on 1 servers")
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
	s.numeric(c, now, "375", "- "+s.cfg.ServerName+" Message of the day - ")
	for _, line := range s.cfg.MOTD {
		s.numeric(c, now, "372", "- "+truncate(line, 400))
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
		for _, ch := range c.channels {
			s.leave(c, ch, "PART", []string{ch.name}, now)
		}
		return
	}
	for _, name := range splitList(m.Params[0]) {
		if !validChannel(name) {
			s.numeric(c, now, "403", name, "No such channel")
			continue
		}
		key := fold(name)
		if _, in := c.channels[key]; in {
			continue
		}
		if len(c.channels) >= s.cfg.MaxChannels {
			s.numeric(c, now, "405", name, "You have joined too many channels")
			continue
		}
		ch, ok := s.chans[key]
		if !ok {
			ch = &channel{name: name, created: now, ops: map[*client]bool{}, isMember: map[*client]bool{}}
			s.chans[key] = ch
		}
		ch.add(c, len(ch.members) == 0)
		c.channels[key] = ch
		s.deliver(&ircmsg.Message{Source: c.source(), Command: "JOIN", Params: []string{ch.name}}, ch.members, nil, now)
		if ch.topic != "" {
			s.topicReply(c, ch, now)
		}
		s.names(c, ch, now)
	}
}

// leave removes c from ch after telling the channel (and c) with a PART
// or KICK message whose params are given.
func (s *core) leave(c *client, ch *channel, cmd string, params []string, now time.Time) {
	s.leaveBy(c, c, ch, cmd, params, now)
}

func (s *core) leaveBy(by, c *client, ch *channel, cmd string, params []string, now time.Time) {
	s.deliver(&ircmsg.Message{Source: by.source(), Command: cmd, Params: params}, ch.members, nil, now)
	ch.remove(c)
	key := fold(ch.name)
	delete(c.channels, key)
	if len(ch.members) == 0 {
		delete(s.chans, key)
	}
}

func (s *core) cmdPart(c *client, m *ircmsg.Message, now time.Time) {
	for _, name := range splitList(m.Params[0]) {
		ch, ok := s.chans[fold(name)]
		switch {
		case !ok:
			s.numeric(c, now, "403", name, "No such channel")
		case !ch.isMember[c]:
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
			if !ch.isMember[c] {
				fail("404", ch.name, "Cannot send to channel")
				continue
			}
			name = ch.name
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
	if !ch.isMember[c] {
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
	ch.topic = truncate(m.Params[1], TopicLen)
	ch.topicBy = c.source()
	ch.topicAt = now
	s.deliver(&ircmsg.Message{Source: c.source(), Command: "TOPIC", Params: []string{ch.name, ch.topic}}, ch.members, nil, now)
}

func (s *core) topicReply(c *client, ch *channel, now time.Time) {
	s.numeric(c, now, "332", ch.name, ch.topic)
	s.numeric(c, now, "333", ch.name, ch.topicBy, strconv.FormatInt(ch.topicAt.Unix(), 10))
}

func (s *core) cmdNames(c *client, m *ircmsg.Message, now time.Time) {
	if len(m.Params) == 0 || m.Params[0] == "" {
		s.numeric(c, now, "366", "*", "End of /NAMES list")
		return
	}
	for _, name := range splitList(m.Params[0]) {
		if ch, ok := s.chans[fold(name)]; ok {
			s.names(c, ch, now)
		} else {
			s.numeric(c, now, "366", name, "End of /NAMES list")
		}
	}
}

// names sends 353 lines and 366.
func (s *core) names(c *client, ch *channel, now time.Time) {
	items := make([]string, len(ch.members))
	for i, mem := range ch.members {
		items[i] = ch.prefixed(mem)
	}
	s.listNumeric(c, now, "353", []string{"=", ch.name}, items)
	s.numeric(c, now, "366", ch.name, "End of /NAMES list")
}

// listNumeric sends items space-separated as the last parameter of code
// replies, as many as it takes to keep each well under 512 bytes.
func (s *core) listNumeric(c *client, now time.Time, code string, fixed, items []string) {
	var line strings.Builder
	flush := func() {
		if line.Len() > 0 {
			s.numeric(c, now, code, append(append([]string(nil), fixed...), line.String())...)
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
		if ch != nil && ch.ops[o] {
			flags += "@"
		}
		s.numeric(c, now, "352", chName, o.user, o.host, s.cfg.ServerName, o.nick, flags, "0 "+o.real)
	}
	if ch, ok := s.chans[fold(mask)]; ok {
		for _, mem := range ch.members {
			reply(ch.name, ch, mem)
		}
	} else if o, ok := s.nicks[fold(mask)]; ok && o.registered {
		reply("*", nil, o)
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
		if ch.ops[o] {
			chans = append(chans, "@"+ch.name)
		} else {
			chans = append(chans, ch.name)
		}
	}
	s.listNumeric(c, now, "319", []string{o.nick}, chans)
	s.numeric(c, now, "312", o.nick, s.cfg.ServerName, s.cfg.Network)
	if o.secure {
		s.numeric(c, now, "671", o.nick, "is using a secure connection")
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

func (s *core) cmdMode(c *client, m *ircmsg.Message, now time.Time) {
	target := m.Params[0]
	if !isChannel(target) {
		s.userMode(c, m, now)
		return
	}
	ch, ok := s.chans[fold(target)]
	if !ok {
		s.numeric(c, now, "403", target, "No such channel")
		return
	}
	if len(m.Params) < 2 {
		s.numeric(c, now, "324", ch.name, "+")
		s.numeric(c, now, "329", ch.name, strconv.FormatInt(ch.created.Unix(), 10))
		return
	}
	modes, args := m.Params[1], m.Params[2:]
	if modes == "b" || modes == "+b" {
		s.numeric(c, now, "368", ch.name, "End of channel ban list")
		return
	}
	add := true
	for i := 0; i < len(modes); i++ {
		switch mc := modes[i]; mc {
		case '+':
			add = true
		case '-':
			add = false
		case 'o':
			if len(args) == 0 {
				s.numeric(c, now, "461", "MODE", "Not enough parameters")
				return
			}
			nick := args[0]
			args = args[1:]
			if !ch.ops[c] {
				s.numeric(c, now, "482", ch.name, "You're not channel operator")
				return
			}
			o, ok := s.nicks[fold(nick)]
			if !ok || !ch.isMember[o] {
				s.numeric(c, now, "441", nick, ch.name, "They aren't on that channel")
				continue
			}
			if ch.ops[o] == add {
				continue
			}
			sign := "-"
			if add {
				sign = "+"
				ch.ops[o] = true
			} else {
				delete(ch.ops, o)
			}
			s.deliver(&ircmsg.Message{Source: c.source(), Command: "MODE",
				Params: []string{ch.name, sign + "o", o.nick}}, ch.members, nil, now)
		default:
			s.numeric(c, now, "472", string(mc), "is unknown mode char to me")
		}
	}
}

// userMode supports only +i, which changes nothing but what is reported:
// clients set it on connect and expect it to be accepted.
func (s *core) userMode(c *client, m *ircmsg.Message, now time.Time) {
	o, ok := s.nicks[fold(m.Params[0])]
	if !ok || !o.registered {
		s.numeric(c, now, "401", m.Params[0], "No such nick/channel")
		return
	}
	if o != c {
		s.numeric(c, now, "502", "Can't change mode for other users")
		return
	}
	if len(m.Params) < 2 {
		modes := "+"
		if c.invisible {
			modes += "i"
		}
		s.numeric(c, now, "221", modes)
		return
	}
	add, changed := true, ""
	for _, mc := range m.Params[1] {
		switch mc {
		case '+':
			add = true
		case '-':
			add = false
		case 'i':
			if c.invisible != add {
				c.invisible = add
				if add {
					changed += "+i"
				} else {
					changed += "-i"
				}
			}
		default:
			s.numeric(c, now, "501", "Unknown MODE flag")
		}
	}
	if changed != "" {
		s.sendTo(c, &ircmsg.Message{Source: c.source(), Command: "MODE", Params: []string{c.nick, changed}}, now)
	}
}

func (s *core) cmdKick(c *client, m *ircmsg.Message, now time.Time) {
	ch, ok := s.chans[fold(m.Params[0])]
	if !ok {
		s.numeric(c, now, "403", m.Params[0], "No such channel")
		return
	}
	if !ch.isMember[c] {
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
		if !ok || !ch.isMember[o] {
			s.numeric(c, now, "441", nick, ch.name, "They aren't on that channel")
			continue
		}
		s.leaveBy(c, o, ch, "KICK", []string{ch.name, o.nick, reason}, now)
	}
}
