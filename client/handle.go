package client

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/ircsock/ircsock/irc"
	"github.com/ircsock/ircsock/ircmsg"
)

// maxGeneratedNicks bounds how many generated nicks registration tries
// after Nick and AltNicks before it gives up with ErrNickUnavailable.
const maxGeneratedNicks = 10

func last(m *ircmsg.Message) string {
	if len(m.Params) == 0 {
		return ""
	}
	return m.Params[len(m.Params)-1]
}

// handle runs on the reading goroutine for each message.
func (s *session) handle(m *ircmsg.Message) {
	c := s.c
	switch m.Command {
	case "PING":
		s.sendUrgent(&ircmsg.Message{Command: "PONG", Params: m.Params}, false)
	case "ERROR":
		c.qmu.Lock()
		s.serverErr = last(m)
		c.qmu.Unlock()
	case "CAP":
		s.handleCap(m)
	case "AUTHENTICATE":
		s.handleAuthenticate(m)
	case irc.RPL_LOGGEDIN, irc.RPL_LOGGEDOUT, irc.ERR_NICKLOCKED, irc.RPL_SASLSUCCESS, irc.ERR_SASLFAIL,
		irc.ERR_SASLTOOLONG, irc.ERR_SASLABORTED, irc.ERR_SASLALREADY, irc.RPL_SASLMECHS:
		s.handleSASLNumeric(m)
	case irc.ERR_ERRONEUSNICKNAME, irc.ERR_NICKNAMEINUSE, irc.ERR_NICKCOLLISION, irc.ERR_UNAVAILRESOURCE:
		if !s.isRegistered() {
			s.nextNick()
		}
	case irc.RPL_WELCOME:
		s.welcome(m)
	case "BATCH":
		s.handleBatch(m)
	}
	c.track(m)
	// A message in a batch is still delivered on its own below; the batch
	// handlers get the group when it ends.
	s.collectBatch(m)
	c.matchLabel(m)
	c.dispatch(m)
	if m.Command == "PRIVMSG" {
		c.autoCTCP(m)
	}
}

func (s *session) welcome(m *ircmsg.Message) {
	c := s.c
	nick := c.cfg.Nick
	if len(m.Params) > 0 {
		nick = m.Params[0]
	}
	c.mu.Lock()
	c.st.nick = nick
	c.st.registered = true
	rejoin := c.st.rejoinList()
	c.mu.Unlock()
	c.qmu.Lock()
	s.registered = true
	s.wakeLocked()
	c.qmu.Unlock()
	if c.cfg.SASL.Required && c.Account() == "" {
		// A server without CAP registers us at once: that is no login.
		s.fail(fmt.Errorf("%w: registered without a login", ErrSASLUnavailable), false)
		s.quit("SASL required")
		return
	}
	c.event(Event{Kind: EventRegistered, Attempt: s.attempt, Nick: nick})
	for _, j := range rejoin {
		s.sendCtl(j)
	}
}

// nextNick offers the next alternative nick, then generated ones.
func (s *session) nextNick() {
	cfg := s.c.cfg
	s.nickTries++
	var nick string
	switch {
	case s.nickTries <= len(cfg.AltNicks):
		nick = cfg.AltNicks[s.nickTries-1]
	case s.nickTries <= len(cfg.AltNicks)+maxGeneratedNicks:
		base := cfg.Nick
		if len(base) > 5 {
			base = base[:5]
		}
		nick = base + strconv.Itoa(1000+rand.IntN(9000))
	default:
		s.fail(fmt.Errorf("%w: tried %d", ErrNickUnavailable, s.nickTries), false)
		s.quit("No nickname available")
		return
	}
	s.c.mu.Lock()
	s.c.st.nick = nick
	s.c.mu.Unlock()
	s.sendCtl(&ircmsg.Message{Command: "NICK", Params: []string{nick}})
}

// wantedCaps is every capability the client would enable if offered.
func (s *session) wantedCaps() []string {
	want := append([]string(nil), DefaultCaps...)
	if len(s.c.mechs) > 0 {
		want = append(want, "sasl")
	}
	return append(want, s.c.cfg.Caps...)
}

// parseCaps splits a CAP LS/NEW/ACK/DEL list into names and values
// ("sasl=PLAIN,EXTERNAL" -> "sasl": "PLAIN,EXTERNAL").
func parseCaps(list string) map[string]string {
	caps := make(map[string]string)
	for f := range strings.FieldsSeq(list) {
		name, val, _ := strings.Cut(f, "=")
		if name != "" {
			caps[name] = val
		}
	}
	return caps
}

func (s *session) handleCap(m *ircmsg.Message) {
	if len(m.Params) < 3 {
		return
	}
	sub := strings.ToUpper(m.Params[1])
	list := last(m)
	more := len(m.Params) >= 4 && m.Params[2] == "*"
	c := s.c
	switch sub {
	case "LS":
		for k, v := range parseCaps(list) {
			s.offered[k] = v
		}
		c.mu.Lock()
		c.st.offered = copyMap(s.offered)
		c.mu.Unlock()
		if more || s.lsDone {
			return
		}
		s.lsDone = true
		if !s.request(keys(s.offered)) {
			s.capsDone()
		}
	case "NEW":
		added := parseCaps(list)
		for k, v := range added {
			s.offered[k] = v
		}
		c.mu.Lock()
		c.st.offered = copyMap(s.offered)
		c.mu.Unlock()
		s.request(keys(added))
	case "DEL":
		gone := parseCaps(list)
		c.mu.Lock()
		for k := range gone {
			delete(s.offered, k)
			delete(c.st.caps, k)
		}
		c.st.offered = copyMap(s.offered)
		c.mu.Unlock()
		c.event(Event{Kind: EventCapsChanged, Attempt: s.attempt})
	case "ACK":
		c.mu.Lock()
		var gotSASL bool
		for f := range strings.FieldsSeq(list) {
			if name, ok := strings.CutPrefix(f, "-"); ok {
				delete(c.st.caps, name)
				continue
			}
			c.st.caps[f] = s.offered[f]
			gotSASL = gotSASL || f == "sasl"
		}
		loggedIn := c.st.account != ""
		c.mu.Unlock()
		c.event(Event{Kind: EventCapsChanged, Attempt: s.attempt})
		if !more {
			s.reqPending--
		}
		if gotSASL && s.capEnded && !loggedIn && s.sasl == nil {
			s.startSASL() // services linked after registration: CAP NEW sasl
		}
		if s.reqPending == 0 && !s.capEnded {
			s.capsDone()
		}
	case "NAK":
		if !more {
			s.reqPending--
		}
		if s.reqPending == 0 && !s.capEnded {
			s.capsDone()
		}
	}
}

// request sends CAP REQ for the wanted capabilities among offered that
// are not enabled yet, in lines that fit; it reports whether it sent any.
func (s *session) request(offered []string) bool {
	c := s.c
	c.mu.Lock()
	var names []string
	for _, w := range s.wantedCaps() {
		if _, ok := c.st.caps[w]; ok || !slices.Contains(offered, w) || slices.Contains(names, w) {
			continue
		}
		names = append(names, w)
	}
	c.mu.Unlock()
	if len(names) == 0 {
		return false
	}
	line := ""
	flush := func() {
		s.reqPending++
		s.sendCtl(&ircmsg.Message{Command: "CAP", Params: []string{"REQ", line}})
		line = ""
	}
	for _, n := range names {
		if len(line)+len(n)+1 > 400 {
			flush()
		}
		if line != "" {
			line += " "
		}
		line += n
	}
	flush()
	return true
}

// capsDone runs once the capabilities asked for before registration are
// settled: SASL next if wanted, else CAP END.
func (s *session) capsDone() {
	if s.capEnded || s.sasl != nil {
		return
	}
	if len(s.c.mechs) > 0 && s.c.HasCap("sasl") && s.c.Account() == "" {
		s.startSASL()
		return
	}
	if s.c.cfg.SASL.Required {
		s.fail(fmt.Errorf("%w: the server offers no sasl capability", ErrSASLUnavailable), false)
		s.quit("SASL required")
		return
	}
	s.capEnd()
}

func (s *session) capEnd() {
	if s.capEnded {
		return
	}
	s.capEnded = true
	s.sendCtl(&ircmsg.Message{Command: "CAP", Params: []string{"END"}})
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
