package ircd

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ircsock/ircsock/ircmsg"
)

// whowasEntry is one departed nick for WHOWAS.
type whowasEntry struct {
	nick, user, host, real string
	at                     time.Time
}

// rememberWhowas records c's current nick as departed, forgetting the
// oldest entry past Config.WhowasHistory.
func (s *core) rememberWhowas(c *client, now time.Time) {
	if s.cfg.WhowasHistory <= 0 {
		return
	}
	if len(s.whowas) >= s.cfg.WhowasHistory {
		n := copy(s.whowas, s.whowas[len(s.whowas)-s.cfg.WhowasHistory+1:])
		s.whowas = s.whowas[:n]
	}
	s.whowas = append(s.whowas, whowasEntry{c.nick, c.user, c.host, c.real, now})
}

// cmdWhowas answers newest first, at most count entries when a positive
// count is given (RFC 2812 §3.6.3).
func (s *core) cmdWhowas(c *client, m *ircmsg.Message, now time.Time) {
	count := 0
	if len(m.Params) > 1 {
		if n, err := strconv.Atoi(m.Params[1]); err == nil && n > 0 {
			count = n
		}
	}
	for _, nick := range splitList(m.Params[0]) {
		found := 0
		for i := len(s.whowas) - 1; i >= 0 && (count == 0 || found < count); i-- {
			e := s.whowas[i]
			if fold(e.nick) != fold(nick) {
				continue
			}
			found++
			s.numeric(c, now, "314", e.nick, e.user, e.host, "*", e.real)
			s.numeric(c, now, "312", e.nick, s.cfg.ServerName, e.at.UTC().Format(time.RFC1123))
		}
		if found == 0 {
			s.numeric(c, now, "406", nick, "There was no such nickname")
		}
		s.numeric(c, now, "369", nick, "End of WHOWAS")
	}
}

// cmdAway sets or clears c's away message: 306 or 305 to c, and with
// IRCv3 away-notify an AWAY line to the clients that share a channel
// with it.
func (s *core) cmdAway(c *client, m *ircmsg.Message, now time.Time) {
	msg := ""
	if len(m.Params) > 0 {
		msg = keep(truncate(m.Params[0], AwayLen))
	}
	was := c.away()
	if msg != "" {
		c.ext().away = msg
	} else if c.extra != nil {
		c.extra.away = ""
		c.tidy()
	}
	out := &ircmsg.Message{Source: c.source(), Command: "AWAY"}
	if msg == "" {
		s.numeric(c, now, "305", "You are no longer marked as being away")
		if was == "" {
			return
		}
	} else {
		out.Params = []string{msg}
		s.numeric(c, now, "306", "You have been marked as being away")
	}
	to := keepCap(s.peers(c, false), capAwayNotify)
	s.deliver(out, to, nil, now)
	s.donePeers(to)
}

// cmdUserhost answers 302 for up to five nicks (RFC 2812 §4.8):
// nick[*]=+user@host, '-' instead of '+' when away, '*' for an operator.
func (s *core) cmdUserhost(c *client, m *ircmsg.Message, now time.Time) {
	var out []string
	for _, n := range m.Params[:min(len(m.Params), 5)] {
		o, ok := s.nicks[fold(n)]
		if !ok || !o.registered {
			continue
		}
		item := o.nick
		if o.oper {
			item += "*"
		}
		if o.away() != "" {
			item += "=-"
		} else {
			item += "=+"
		}
		out = append(out, item+o.user+"@"+o.host)
	}
	s.numeric(c, now, "302", strings.Join(out, " "))
}

// cmdSetname changes c's real name (IRCv3 setname): the new name goes
// back to c and to the clients sharing a channel with it that enabled
// the capability.
func (s *core) cmdSetname(c *client, m *ircmsg.Message, now time.Time) {
	real := m.Params[0]
	if real == "" || len(real) > RealLen {
		s.sendTo(c, &ircmsg.Message{Source: s.cfg.ServerName, Command: "FAIL",
			Params: []string{"SETNAME", "INVALID_REALNAME", "Realname is not valid (at most " + strconv.Itoa(RealLen) + " bytes, not empty)"}}, now)
		return
	}
	c.real = keep(real)
	to := keepCap(s.peers(c, true), capSetname)
	if c.caps&capSetname == 0 {
		to = append(to, c) // the echo is how the client learns it worked
	}
	s.deliver(&ircmsg.Message{Source: c.source(), Command: "SETNAME", Params: []string{real}}, to, nil, now)
	s.donePeers(to)
}

// cmdMonitor implements IRCv3 MONITOR: + adds nicks (730/731 for each
// at once), - removes, C clears, L lists (732/733), S gives the status
// of every monitored nick.
func (s *core) cmdMonitor(c *client, m *ircmsg.Message, now time.Time) {
	sub := strings.ToUpper(m.Params[0])
	var targets []string
	if len(m.Params) > 1 {
		targets = splitList(m.Params[1])
	}
	switch sub {
	case "+":
		if len(targets) == 0 {
			s.numeric(c, now, "461", "MONITOR", "Not enough parameters")
			return
		}
		var on, off []string
		for i, n := range targets {
			key := fold(n)
			if _, dup := c.monitor()[key]; dup {
				continue
			}
			if len(c.monitor()) >= s.cfg.MaxMonitor {
				s.numeric(c, now, "734", strconv.Itoa(s.cfg.MaxMonitor), strings.Join(targets[i:], ","), "Monitor list is full")
				break
			}
			if !validNick(n) {
				continue
			}
			e := c.ext()
			if e.monitor == nil {
				e.monitor = map[string]string{}
			}
			n = keep(n)
			key = fold(n)
			e.monitor[key] = n
			w := s.watchers[key]
			if w == nil {
				w = map[*client]bool{}
				s.watchers[key] = w
			}
			w[c] = true
			if o, ok := s.nicks[key]; ok && o.registered {
				on = append(on, o.source())
			} else {
				off = append(off, n)
			}
		}
		s.monitorReply(c, "730", on, now)
		s.monitorReply(c, "731", off, now)
	case "-":
		for _, n := range targets {
			key := fold(n)
			if _, ok := c.monitor()[key]; ok {
				delete(c.extra.monitor, key)
				s.unwatch(c, key)
			}
		}
		c.tidy()
	case "C":
		s.monitorClear(c)
	case "L":
		var all []string
		for _, n := range c.monitor() {
			all = append(all, n)
		}
		slices.Sort(all)
		s.monitorReply(c, "732", all, now)
		s.numeric(c, now, "733", "End of MONITOR list")
	case "S":
		var on, off []string
		for key, n := range c.monitor() {
			if o, ok := s.nicks[key]; ok && o.registered {
				on = append(on, o.source())
			} else {
				off = append(off, n)
			}
		}
		slices.Sort(on)
		slices.Sort(off)
		s.monitorReply(c, "730", on, now)
		s.monitorReply(c, "731", off, now)
	default:
		s.numeric(c, now, "421", "MONITOR "+middle(m.Params[0]), "Unknown MONITOR subcommand")
	}
}

// monitorReply sends items comma-separated in as many code lines as it
// takes, and nothing for no items.
func (s *core) monitorReply(c *client, code string, items []string, now time.Time) {
	var line strings.Builder
	flush := func() {
		if line.Len() > 0 {
			s.numeric(c, now, code, line.String())
			line.Reset()
		}
	}
	for _, it := range items {
		if line.Len()+1+len(it) > 400 {
			flush()
		}
		if line.Len() > 0 {
			line.WriteByte(',')
		}
		line.WriteString(it)
	}
	flush()
}

func (s *core) unwatch(c *client, key string) {
	if w := s.watchers[key]; w != nil {
		delete(w, c)
		if len(w) == 0 {
			delete(s.watchers, key)
		}
	}
}

// monitorClear empties c's MONITOR list.
func (s *core) monitorClear(c *client) {
	if c.extra == nil {
		return
	}
	for key := range c.extra.monitor {
		s.unwatch(c, key)
	}
	c.extra.monitor = nil
	c.tidy()
}

// monitorOnline tells the clients monitoring c's nick that it is online.
func (s *core) monitorOnline(c *client, now time.Time) {
	for w := range s.watchers[fold(c.nick)] {
		if w != c {
			s.numeric(w, now, "730", c.source())
		}
	}
}

// monitorOffline tells the clients monitoring nick that it went away.
func (s *core) monitorOffline(c *client, nick string, now time.Time) {
	for w := range s.watchers[fold(nick)] {
		if w != c {
			s.numeric(w, now, "731", nick)
		}
	}
}
