package ircd

import (
	"crypto/subtle"
	"github.com/ircsock/ircsock/irc"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ircsock/ircsock/ircmsg"
)

// cmdVersion answers 351 and, as the Modern IRC documentation asks,
// repeats the 005 lines.
func (s *core) cmdVersion(c *client, _ *ircmsg.Message, now time.Time) {
	s.numeric(c, now, "351", s.cfg.Version, s.cfg.ServerName, "ircsock serve")
	s.sendISupport(c, now)
}

func (s *core) sendISupport(c *client, now time.Time) {
	for _, line := range s.isupport {
		s.numeric(c, now, "005", line...)
	}
}

// cmdTime answers 391 with the server's clock, UTC.
func (s *core) cmdTime(c *client, _ *ircmsg.Message, now time.Time) {
	s.numeric(c, now, "391", s.cfg.ServerName, now.UTC().Format(time.RFC1123))
}

// infoLines is what INFO reports.
var infoLines = []string{
	"ircsock serve: a small IRC server built on the ircsock Backend.",
	"ircsock is a Go toolkit for IRC over sockets.",
}

func (s *core) cmdInfo(c *client, _ *ircmsg.Message, now time.Time) {
	for _, l := range infoLines {
		s.numeric(c, now, "371", l)
	}
	s.numeric(c, now, "371", "Version "+s.cfg.Version+", up since "+s.created.UTC().Format(time.RFC1123))
	s.numeric(c, now, "374", "End of INFO list")
}

func (s *core) cmdAdmin(c *client, _ *ircmsg.Message, now time.Time) {
	orNot := func(v string) string {
		if v == "" {
			return "not configured"
		}
		return v
	}
	s.numeric(c, now, "256", s.cfg.ServerName, "Administrative info")
	s.numeric(c, now, "257", orNot(s.cfg.AdminLocation))
	s.numeric(c, now, "258", s.cfg.Network+" network, ircsock serve")
	s.numeric(c, now, "259", orNot(s.cfg.AdminEmail))
}

// cmdLinks lists the one server there is.
func (s *core) cmdLinks(c *client, m *ircmsg.Message, now time.Time) {
	mask := "*"
	if len(m.Params) > 0 && m.Params[len(m.Params)-1] != "" {
		mask = m.Params[len(m.Params)-1]
	}
	if irc.MatchMask(mask, s.cfg.ServerName, irc.ASCII) {
		s.numeric(c, now, "364", s.cfg.ServerName, s.cfg.ServerName, "0 "+s.cfg.Network)
	}
	s.numeric(c, now, "365", mask, "End of /LINKS list")
}

// helpTopics is HELP's text, one short entry per command.
var helpTopics = map[string]string{
	"ADMIN":    "ADMIN: who runs this server",
	"AWAY":     "AWAY [<message>]: mark yourself away, or back without a message",
	"CAP":      "CAP LS|LIST|REQ|END: IRCv3 capability negotiation",
	"HELP":     "HELP [<command>]: this text",
	"INFO":     "INFO: about this server",
	"INVITE":   "INVITE <nick> <channel>: invite someone into a channel",
	"ISON":     "ISON <nick>...: which of these nicks are online",
	"JOIN":     "JOIN <channel>[,<channel>...] [<key>[,<key>...]]: join channels",
	"KICK":     "KICK <channel> <nick> [<reason>]: remove someone from a channel",
	"LINKS":    "LINKS [<mask>]: the servers of this network",
	"LIST":     "LIST [<channel>[,<channel>...]]: channels, their users and topics",
	"LUSERS":   "LUSERS: how many users and channels there are",
	"MODE":     "MODE <channel> [+-beIklimnstov [<args>]] or MODE <nick> [+-i]: modes",
	"MONITOR":  "MONITOR +|-|C|L|S [<nick>[,<nick>...]]: be told when nicks come and go",
	"MOTD":     "MOTD: the message of the day",
	"NAMES":    "NAMES <channel>: who is in a channel",
	"NICK":     "NICK <nick>: change your nick",
	"NOTICE":   "NOTICE <target> <text>: a message that never draws an automatic reply",
	"OPER":     "OPER <name> <password>: become an IRC operator",
	"PART":     "PART <channel> [<reason>]: leave a channel",
	"PING":     "PING <token>: the server answers PONG",
	"PRIVMSG":  "PRIVMSG <target> <text>: message a channel or a nick",
	"QUIT":     "QUIT [<reason>]: disconnect",
	"SETNAME":  "SETNAME <real name>: change your real name",
	"TIME":     "TIME: the server's clock",
	"TOPIC":    "TOPIC <channel> [<topic>]: show or set a channel's topic",
	"USERHOST": "USERHOST <nick>...: user@host of up to five nicks",
	"VERSION":  "VERSION: the server's version and features",
	"WHO":      "WHO <channel>|<mask>: who is there",
	"WHOIS":    "WHOIS <nick>: about a user",
	"WHOWAS":   "WHOWAS <nick> [<count>]: about a nick that has left",
}

// cmdHelp answers with 704/705/706 (the Modern IRC HELP numerics), or
// 524 for an unknown topic.
func (s *core) cmdHelp(c *client, m *ircmsg.Message, now time.Time) {
	topic := "*"
	if len(m.Params) > 0 && m.Params[0] != "" {
		topic = strings.ToUpper(m.Params[0])
	}
	if topic == "*" || topic == "INDEX" {
		names := make([]string, 0, len(helpTopics))
		for n := range helpTopics {
			names = append(names, n)
		}
		slices.Sort(names)
		s.numeric(c, now, "704", topic, "Commands this server knows (HELP <command> for more):")
		for len(names) > 0 {
			n := min(len(names), 8)
			s.numeric(c, now, "705", topic, strings.Join(names[:n], " "))
			names = names[n:]
		}
		s.numeric(c, now, "706", topic, "End of /HELP")
		return
	}
	text, ok := helpTopics[topic]
	if !ok {
		s.numeric(c, now, "524", topic, "No help available on this topic")
		return
	}
	s.numeric(c, now, "704", topic, text)
	s.numeric(c, now, "706", topic, "End of /HELP")
}

// cmdList answers 321, a 322 per channel c may see (all, or those
// named), then 323.
func (s *core) cmdList(c *client, m *ircmsg.Message, now time.Time) {
	var chans []*channel
	if len(m.Params) > 0 && m.Params[0] != "" {
		for _, name := range splitList(m.Params[0]) {
			if ch, ok := s.chans[fold(name)]; ok {
				chans = append(chans, ch)
			}
		}
	} else {
		for _, ch := range s.chans {
			chans = append(chans, ch)
		}
		slices.SortFunc(chans, func(a, b *channel) int { return strings.Compare(fold(a.name), fold(b.name)) })
	}
	s.numeric(c, now, "321", "Channel", "Users  Name")
	for _, ch := range chans {
		if !ch.visibleTo(c) {
			continue
		}
		modes, _ := ch.modeString(c)
		s.numeric(c, now, "322", ch.name, strconv.Itoa(len(ch.members)), "["+modes+"] "+ch.topic)
	}
	s.numeric(c, now, "323", "End of /LIST")
}

// cmdInvite lets a member invite a nick; in a +i channel only an
// operator may. The invitation lets the nick's next JOIN through +i.
func (s *core) cmdInvite(c *client, m *ircmsg.Message, now time.Time) {
	nick, name := m.Params[0], m.Params[1]
	o, ok := s.nicks[fold(nick)]
	if !ok || !o.registered {
		s.numeric(c, now, "401", nick, "No such nick/channel")
		return
	}
	ch, ok := s.chans[fold(name)]
	switch {
	case !ok:
		s.numeric(c, now, "403", name, "No such channel")
		return
	case !ch.has(c):
		s.numeric(c, now, "442", ch.name, "You're not on that channel")
		return
	case ch.inviteOnly && !ch.ops[c]:
		s.numeric(c, now, "482", ch.name, "You're not channel operator")
		return
	case ch.has(o):
		s.numeric(c, now, "443", o.nick, ch.name, "is already on channel")
		return
	}
	if !ch.invited[o] {
		setFlag(&ch.invited, o, true)
		e := o.ext()
		e.invitedTo = append(e.invitedTo, ch)
	}
	s.numeric(c, now, "341", o.nick, ch.name)
	s.sendTo(o, &ircmsg.Message{Source: c.source(), Command: "INVITE", Params: []string{o.nick, ch.name}}, now)
	if o.away() != "" {
		s.numeric(c, now, "301", o.nick, o.away())
	}
}

// cmdOper makes c an IRC operator if the name and password match an
// entry of Config.Opers (381), else 464. Operators are marked in WHOIS
// (313) and USERHOST, and see client certificate fingerprints.
func (s *core) cmdOper(c *client, m *ircmsg.Message, now time.Time) {
	pass, ok := s.cfg.Opers[m.Params[0]]
	if !ok || subtle.ConstantTimeCompare([]byte(pass), []byte(m.Params[1])) != 1 {
		s.log.Info("failed OPER", "conn", c.id, "nick", c.nick, "name", keep(m.Params[0]))
		s.numeric(c, now, "464", "Password incorrect")
		return
	}
	if !c.oper {
		c.oper = true
		s.sendTo(c, &ircmsg.Message{Source: c.source(), Command: "MODE", Params: []string{c.nick, "+o"}}, now)
	}
	s.log.Info("OPER", "conn", c.id, "nick", c.nick, "name", keep(m.Params[0]))
	s.numeric(c, now, "381", "You are now an IRC operator")
}
