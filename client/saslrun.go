package client

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ircsock/ircsock/irc"
	"github.com/ircsock/ircsock/ircmsg"
)

// saslRun is one SASL negotiation: the mechanisms left to try and the
// exchange in progress.
type saslRun struct {
	left    []string
	mech    mechanism
	started bool // the initial response was sent
	buf     authBuffer
	err     error // why the current mechanism failed (ours, before 904/906)
	lastErr error
}

// startSASL begins with the first configured mechanism the server lists
// (all of them when its sasl capability has no value).
func (s *session) startSASL() {
	c := s.c
	c.mu.Lock()
	list := c.st.caps["sasl"]
	if v, ok := s.offered["sasl"]; ok && list == "" {
		list = v
	}
	c.mu.Unlock()
	run := &saslRun{buf: authBuffer{max: DefaultMaxSASLResponse}}
	for _, m := range c.mechs {
		if list == "" || slices.Contains(strings.Split(list, ","), m) {
			run.left = append(run.left, m)
		}
	}
	s.sasl = run
	if len(run.left) == 0 {
		s.saslDone(fmt.Errorf("%w: the server offers %q, none of %v", ErrSASLUnavailable, list, c.mechs))
		return
	}
	s.nextMech()
}

func (s *session) nextMech() {
	run := s.sasl
	if len(run.left) == 0 {
		err := run.lastErr
		if err == nil {
			err = ErrSASLFailed
		}
		s.saslDone(err)
		return
	}
	name := run.left[0]
	run.left = run.left[1:]
	m, err := newMechanism(name, s.c.cfg.SASL, s.c.cfg.Nick)
	if err != nil {
		s.saslDone(err)
		return
	}
	run.mech, run.started, run.err = m, false, nil
	s.sendCtl(&ircmsg.Message{Command: "AUTHENTICATE", Params: []string{name}})
}

func (s *session) handleAuthenticate(m *ircmsg.Message) {
	run := s.sasl
	if run == nil || run.mech == nil || len(m.Params) == 0 {
		return
	}
	challenge, done, err := run.buf.feed(m.Params[0])
	if err == nil && !done {
		return
	}
	var resp []byte
	if err == nil {
		if !run.started {
			run.started = true
			resp, err = run.mech.start()
		} else {
			resp, err = run.mech.next(challenge)
		}
	}
	if err != nil {
		// Abort; the server answers 906 and the next mechanism is tried.
		run.err = err
		s.sendCtl(&ircmsg.Message{Command: "AUTHENTICATE", Params: []string{"*"}})
		return
	}
	for _, p := range authenticateLines(resp) {
		s.sendCtl(&ircmsg.Message{Command: "AUTHENTICATE", Params: []string{p}})
	}
}

func (s *session) handleSASLNumeric(m *ircmsg.Message) {
	c := s.c
	switch m.Command {
	case irc.RPL_LOGGEDIN:
		if len(m.Params) >= 3 {
			c.mu.Lock()
			c.st.account = m.Params[2]
			c.mu.Unlock()
		}
		return
	case irc.RPL_LOGGEDOUT:
		c.mu.Lock()
		c.st.account = ""
		c.mu.Unlock()
		return
	case irc.RPL_SASLMECHS:
		if len(m.Params) >= 2 {
			s.serverMechs = strings.Split(m.Params[1], ",")
			if s.sasl != nil {
				s.sasl.left = slices.DeleteFunc(s.sasl.left, func(n string) bool {
					return !slices.Contains(s.serverMechs, n)
				})
			}
		}
		return
	}
	run := s.sasl
	if run == nil {
		return
	}
	name := ""
	if run.mech != nil {
		name = run.mech.name()
	}
	switch m.Command {
	case irc.RPL_SASLSUCCESS, irc.ERR_SASLALREADY:
		if sc, ok := run.mech.(*scramMech); ok && m.Command == irc.RPL_SASLSUCCESS && !sc.verified() {
			err := fmt.Errorf("%w: server reported success without proving it knows the password", ErrSCRAM)
			c.event(Event{Kind: EventSASLFailed, Attempt: s.attempt, Mechanism: name, Err: err})
			s.saslDone(err)
			return
		}
		c.event(Event{Kind: EventLoggedIn, Attempt: s.attempt, Mechanism: name, Account: c.Account()})
		s.saslDone(nil)
	case irc.ERR_SASLFAIL, irc.ERR_SASLTOOLONG, irc.ERR_SASLABORTED, irc.ERR_NICKLOCKED:
		err := run.err
		if err == nil {
			err = &NumericError{Numeric: m.Command, Text: last(m), Err: ErrSASLFailed}
		}
		run.lastErr = err
		run.mech = nil
		c.event(Event{Kind: EventSASLFailed, Attempt: s.attempt, Mechanism: name, Err: err})
		if m.Command == irc.ERR_NICKLOCKED {
			s.saslDone(err)
			return
		}
		s.nextMech()
	}
}

// saslDone ends the negotiation: registration goes on (CAP END) unless
// SASL.Required and it failed, in which case the client quits.
func (s *session) saslDone(err error) {
	if s.sasl != nil {
		s.sasl.mech = nil
	}
	if err != nil && s.c.cfg.SASL.Required && !s.capEnded {
		final := !errors.Is(err, ErrSASLUnavailable)
		s.fail(err, final)
		s.quit("SASL authentication failed")
		return
	}
	if s.capEnded {
		s.sasl = nil // a later CAP NEW sasl may try again
		return
	}
	s.capEnd()
}
