package ircd

import (
	"github.com/ircsock/ircsock/irc"
	"strconv"
	"strings"
	"time"

	"github.com/ircsock/ircsock/ircmsg"
)

// modeList names one of a channel's mask lists with its numerics.
type modeList struct {
	list      func(*channelLists) *[]listEntry
	item, end string // 367/368, 348/349, 346/347
	endText   string
}

var modeLists = map[byte]modeList{
	'b': {func(l *channelLists) *[]listEntry { return &l.bans }, "367", "368", "End of channel ban list"},
	'e': {func(l *channelLists) *[]listEntry { return &l.excepts }, "348", "349", "End of channel exception list"},
	'I': {func(l *channelLists) *[]listEntry { return &l.invex }, "346", "347", "End of channel invite list"},
}

// modeChange is one applied change, for the MODE line that announces it.
type modeChange struct {
	add  bool
	mode byte
	arg  string // "" for a flag
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
		modes, args := ch.modeString(c)
		s.numeric(c, now, "324", append([]string{ch.name, modes}, args...)...)
		s.numeric(c, now, "329", ch.name, strconv.FormatInt(ch.created, 10))
		return
	}
	modes, args := m.Params[1], m.Params[2:]
	nextArg := func() (string, bool) {
		if len(args) == 0 {
			return "", false
		}
		a := args[0]
		args = args[1:]
		return a, true
	}
	var changes []modeChange
	add := true
	deniedSent := false
	// deny answers a change c may not make, once per MODE command.
	deny := func() {
		if !deniedSent {
			deniedSent = true
			s.numeric(c, now, "482", ch.name, "You're not channel operator")
		}
	}
	isOp := ch.ops[c]
	for i := 0; i < len(modes); i++ {
		mc := modes[i]
		switch mc {
		case '+':
			add = true
		case '-':
			add = false
		case 'b', 'e', 'I':
			ml := modeLists[mc]
			mask, ok := nextArg()
			if !ok {
				// A bare b, e or I asks for the list.
				s.sendList(c, ch, ml, now)
				continue
			}
			if !isOp {
				deny()
				continue
			}
			mask = irc.NormalizeMask(truncate(middle(mask), 100))
			list := ml.list(ch.masks())
			idx := -1
			for j, e := range *list {
				if fold(e.mask) == fold(mask) {
					idx = j
					break
				}
			}
			switch {
			case add && idx >= 0:
			case add && len(*list) >= s.cfg.MaxListEntries:
				s.numeric(c, now, "478", ch.name, mask, "Channel list is full ("+strconv.Itoa(s.cfg.MaxListEntries)+" entries)")
			case add:
				*list = append(*list, listEntry{mask: mask, m: irc.CompileMask(mask, irc.ASCII), setBy: c.source(), setAt: now})
				changes = append(changes, modeChange{true, mc, mask})
			case idx >= 0:
				mask = (*list)[idx].mask
				*list = append((*list)[:idx], (*list)[idx+1:]...)
				changes = append(changes, modeChange{false, mc, mask})
			}
		case 'o', 'v':
			nick, ok := nextArg()
			if !ok {
				s.numeric(c, now, "461", "MODE", "Not enough parameters")
				continue
			}
			if !isOp {
				deny()
				continue
			}
			o, ok := s.nicks[fold(nick)]
			if !ok || !ch.has(o) {
				s.numeric(c, now, "441", nick, ch.name, "They aren't on that channel")
				continue
			}
			set := &ch.ops
			if mc == 'v' {
				set = &ch.voiced
			}
			if (*set)[o] == add {
				continue
			}
			setFlag(set, o, add)
			changes = append(changes, modeChange{add, mc, o.nick})
		case 'k':
			var key string
			if add {
				k, ok := nextArg()
				// RFC 2811 §4.2.11: a key has no spaces, commas or
				// control characters.
				k = strings.Map(func(r rune) rune {
					if r <= ' ' || r == ',' || r == ':' || r == 0x7f {
						return -1
					}
					return r
				}, k)
				if !ok || k == "" {
					s.numeric(c, now, "696", ch.name, "k", "*", "Invalid key")
					continue
				}
				key = truncate(k, 23)
			} else {
				nextArg() // -k takes the key as an argument, unchecked
			}
			if !isOp {
				deny()
				continue
			}
			if ch.key == key {
				continue
			}
			ch.key = keep(key)
			arg := key
			if !add {
				arg = "*"
			}
			changes = append(changes, modeChange{add, 'k', arg})
		case 'l':
			limit := 0
			if add {
				a, ok := nextArg()
				n, err := strconv.Atoi(a)
				if !ok || err != nil || n <= 0 {
					s.numeric(c, now, "696", ch.name, "l", middle(a), "Invalid limit")
					continue
				}
				limit = n
			}
			if !isOp {
				deny()
				continue
			}
			if ch.limit == limit {
				continue
			}
			ch.limit = limit
			arg := ""
			if add {
				arg = strconv.Itoa(limit)
			}
			changes = append(changes, modeChange{add, 'l', arg})
		case 'i', 'm', 'n', 's', 't':
			if !isOp {
				deny()
				continue
			}
			flag := map[byte]*bool{'i': &ch.inviteOnly, 'm': &ch.moderated, 'n': &ch.noExternal, 's': &ch.secret, 't': &ch.topicOps}[mc]
			if *flag == add {
				continue
			}
			*flag = add
			changes = append(changes, modeChange{add, mc, ""})
		default:
			s.numeric(c, now, "472", string(mc), "is unknown mode char to me")
		}
	}
	s.announceModes(c, ch, changes, now)
}

// announceModes tells the channel about changes, in MODE lines of at
// most MaxModeParams parameters each.
func (s *core) announceModes(c *client, ch *channel, changes []modeChange, now time.Time) {
	for len(changes) > 0 {
		var modes strings.Builder
		var args []string
		sign := byte(0)
		n := 0
		for n < len(changes) {
			chg := changes[n]
			if chg.arg != "" && len(args) == MaxModeParams {
				break
			}
			want := byte('-')
			if chg.add {
				want = '+'
			}
			if want != sign {
				modes.WriteByte(want)
				sign = want
			}
			modes.WriteByte(chg.mode)
			if chg.arg != "" {
				args = append(args, chg.arg)
			}
			n++
		}
		changes = changes[n:]
		s.deliver(&ircmsg.Message{Source: c.source(), Command: "MODE",
			Params: append([]string{ch.name, modes.String()}, args...)}, ch.members, nil, now)
	}
}

// sendList answers a list query (MODE #chan b, e or I).
func (s *core) sendList(c *client, ch *channel, ml modeList, now time.Time) {
	if ch.lists != nil {
		for _, e := range *ml.list(ch.lists) {
			s.numeric(c, now, ml.item, ch.name, e.mask, e.setBy, strconv.FormatInt(e.setAt.Unix(), 10))
		}
	}
	s.numeric(c, now, ml.end, ch.name, ml.endText)
}

// userMode supports +i: an invisible client is left out of WHO and NAMES
// replies to clients that share no channel with it, and counted as
// invisible by LUSERS.
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
	unknown := false
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
			unknown = true
		}
	}
	if unknown {
		s.numeric(c, now, "501", "Unknown MODE flag")
	}
	if changed != "" {
		s.sendTo(c, &ircmsg.Message{Source: c.source(), Command: "MODE", Params: []string{c.nick, changed}}, now)
	}
}
