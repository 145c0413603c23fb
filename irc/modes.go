package irc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ircsock/ircsock/ircmsg"
)

// Errors of mode parsing and packing. Each concerns one mode change
// (or one call): the changes read before it are still returned.
var (
	// ErrModeUnknown reports a channel mode that is in neither CHANMODES
	// nor PREFIX, so whether it takes a parameter is unknown; parsing
	// stops there, since every parameter after it could be misassigned.
	ErrModeUnknown = errors.New("irc: unknown channel mode")
	// ErrModeMissingParam reports a mode that needs a parameter where
	// none is left.
	ErrModeMissingParam = errors.New("irc: mode parameter missing")
	// ErrModeExtraParams reports parameters that no mode took.
	ErrModeExtraParams = errors.New("irc: mode parameters left over")
	// ErrModeBadParam reports, when packing, a parameter that cannot be a
	// middle parameter of a MODE line: empty, starting with ':' or
	// containing a space, CR, LF or NUL.
	ErrModeBadParam = errors.New("irc: invalid mode parameter")
)

// ModeKind says when a channel mode takes a parameter.
type ModeKind int

const (
	// ModeUnknown is a mode the server did not announce.
	ModeUnknown ModeKind = iota
	// ModeList (CHANMODES group A: b, e, I) adds or removes a list entry
	// and takes a parameter both ways; without one it asks for the list.
	ModeList
	// ModeParam (group B: k) always takes a parameter.
	ModeParam
	// ModeParamWhenSet (group C: l) takes one only when set.
	ModeParamWhenSet
	// ModeFlag (group D: i, m, n, s, t) never takes one.
	ModeFlag
	// ModePrefix (PREFIX: o, v) gives or takes a member's rank; its
	// parameter is a nick.
	ModePrefix
)

// String returns the kind's name ("list", "param", ...).
func (k ModeKind) String() string {
	switch k {
	case ModeList:
		return "list"
	case ModeParam:
		return "param"
	case ModeParamWhenSet:
		return "param-when-set"
	case ModeFlag:
		return "flag"
	case ModePrefix:
		return "prefix"
	}
	return "unknown"
}

// takesParam reports whether a mode of kind k takes a parameter when
// added (add) or removed.
func (k ModeKind) takesParam(add bool) bool {
	switch k {
	case ModeList, ModeParam, ModePrefix:
		return true
	case ModeParamWhenSet:
		return add
	}
	return false
}

// Modes describes a server's channel modes: CHANMODES and PREFIX, as
// [ISupport.ChannelModes] gives them.
type Modes struct {
	ChanModes ChanModes
	Prefix    Prefix
}

// ChannelModes returns the channel modes of the server ([ISupport.ChanModes]
// and [ISupport.Prefix]).
func (s *ISupport) ChannelModes() Modes {
	return Modes{ChanModes: s.ChanModes(), Prefix: s.Prefix()}
}

// Kind returns the kind of channel mode m.
func (ms Modes) Kind(m byte) ModeKind {
	switch {
	case strings.IndexByte(ms.Prefix.Modes, m) >= 0:
		return ModePrefix
	case strings.IndexByte(ms.ChanModes.A, m) >= 0:
		return ModeList
	case strings.IndexByte(ms.ChanModes.B, m) >= 0:
		return ModeParam
	case strings.IndexByte(ms.ChanModes.C, m) >= 0:
		return ModeParamWhenSet
	case strings.IndexByte(ms.ChanModes.D, m) >= 0:
		return ModeFlag
	}
	return ModeUnknown
}

// A ModeChange is one mode set or unset.
type ModeChange struct {
	// Add is true for '+', false for '-'.
	Add bool
	// Mode is the mode letter.
	Mode byte
	// Param is the mode's parameter; "" for a mode that takes none, and
	// for a list mode without one (a request for the list, "MODE #c +b").
	Param string
}

// String returns the change as "+o nick" or "-i".
func (c ModeChange) String() string {
	s := "-" + string(c.Mode)
	if c.Add {
		s = "+" + string(c.Mode)
	}
	if c.Param != "" {
		s += " " + c.Param
	}
	return s
}

// Parse reads the mode part of a MODE message or RPL_CHANNELMODEIS, the
// parameters after the channel: a mode string such as "+ov-k" followed by
// the parameters its modes take, in order ("nick1", "nick2", "key").
// Further mode strings may follow once the parameters of one are used up
// ("+o", "nick", "-v", "nick2"); a mode string without a leading sign
// means '+'.
//
// Modes take parameters by their [ModeKind]. A list mode with no
// parameter left is a list request and gets Param "". Errors wrap
// [ErrModeUnknown], [ErrModeMissingParam] or [ErrModeExtraParams]; the
// changes read before the error are returned with it.
func (ms Modes) Parse(params []string) ([]ModeChange, error) {
	return parseModes(params, func(m byte) ModeKind { return ms.Kind(m) })
}

// ParseUserModes reads a user MODE change ("+iw-x"). um gives the user
// modes that take parameters, in CHANMODES form (InspIRCd announces them
// as ISUPPORT USERMODES, see [ISupport.UserModes]); a mode um does not
// list takes none, which is what user modes do on most servers.
func ParseUserModes(params []string, um ChanModes) ([]ModeChange, error) {
	ms := Modes{ChanModes: um}
	return parseModes(params, func(m byte) ModeKind {
		if k := ms.Kind(m); k != ModeUnknown {
			return k
		}
		return ModeFlag
	})
}

// UserModes returns the USERMODES token (InspIRCd: user modes grouped as
// in CHANMODES), or the zero ChanModes when the server sent none.
func (s *ISupport) UserModes() ChanModes {
	if v, ok := s.tokens["USERMODES"]; ok {
		if um, err := parseChanModes(v); err == nil {
			return um
		}
	}
	return ChanModes{}
}

func parseModes(params []string, kind func(byte) ModeKind) ([]ModeChange, error) {
	var out []ModeChange
	for len(params) > 0 {
		modes := params[0]
		params = params[1:]
		add := true
		for i := 0; i < len(modes); i++ {
			switch c := modes[i]; c {
			case '+':
				add = true
			case '-':
				add = false
			default:
				k := kind(c)
				if k == ModeUnknown {
					return out, fmt.Errorf("%w: %q in %q", ErrModeUnknown, c, modes)
				}
				ch := ModeChange{Add: add, Mode: c}
				if k.takesParam(add) {
					if len(params) == 0 {
						if k != ModeList {
							return out, fmt.Errorf("%w: %s", ErrModeMissingParam, ch)
						}
					} else {
						ch.Param, params = params[0], params[1:]
					}
				}
				out = append(out, ch)
			}
		}
		if len(params) > 0 && !strings.HasPrefix(params[0], "+") && !strings.HasPrefix(params[0], "-") {
			return out, fmt.Errorf("%w: %q", ErrModeExtraParams, params)
		}
	}
	return out, nil
}

// A ModePacker writes mode changes as MODE lines, as few as the server's
// limits allow: at most Modes parameter-taking changes per line (ISUPPORT
// MODES) and each line within LineLen bytes once the server has prepended
// the sender's source. The zero value packs for 512-byte lines, an unknown
// source and 3 parameter modes per line (RFC 1459).
type ModePacker struct {
	// Modes is the most changes with a parameter in one line. Zero means
	// 3 (RFC 1459); negative means no limit ([ISupport.Modes] is 0 for
	// "no limit": pass -1 then).
	Modes int
	// LineLen is the longest line, CR LF included and tags excluded. Zero
	// means 512.
	LineLen int
	// Source is the sender's full source; empty reserves
	// [DefaultSourceLen] bytes.
	Source string
}

// ModePacker returns a [ModePacker] for this server's MODES and LINELEN
// and the sender's source.
func (s *ISupport) ModePacker(source string) ModePacker {
	n := s.Modes()
	if n == 0 {
		n = -1
	}
	return ModePacker{Modes: n, LineLen: s.LineLen(), Source: source}
}

// Pack returns MODE messages to target carrying changes in order. A list
// request (a list mode with an empty Param) belongs alone in its own
// call: in a packed line the next parameter would be read as its own. It
// returns an error wrapping [ErrModeBadParam] for a parameter no line can
// carry, and [ErrSplitNoRoom] when one change does not fit an empty line.
func (p ModePacker) Pack(target string, changes []ModeChange) ([]*ircmsg.Message, error) {
	maxParams := p.Modes
	if maxParams == 0 {
		maxParams = 3
	}
	// The room of a text after " :" is the room of the mode string and
	// its parameters after " ", less one byte kept for a ':' that a
	// Format with Colonify puts before the last parameter.
	room := Splitter{Source: p.Source, LineLen: p.LineLen}.room("MODE", target)
	var out []*ircmsg.Message
	var modes []byte
	var params []string
	used, sign := 0, byte(0)
	flush := func() {
		if len(modes) > 0 {
			out = append(out, &ircmsg.Message{Command: "MODE", Params: append([]string{target, string(modes)}, params...)})
		}
		modes, params, used, sign = nil, nil, 0, 0
	}
	for _, c := range changes {
		if c.Param != "" && (c.Param[0] == ':' || strings.ContainsAny(c.Param, " \r\n\x00")) {
			return nil, fmt.Errorf("%w: %q", ErrModeBadParam, c.Param)
		}
		s := byte('-')
		if c.Add {
			s = '+'
		}
		cost := func() int {
			n := 1
			if s != sign {
				n++
			}
			if c.Param != "" {
				n += 1 + len(c.Param)
			}
			return n
		}
		full := c.Param != "" && maxParams > 0 && len(params) == maxParams
		if full || used+cost() > room {
			flush()
			if cost() > room {
				return nil, fmt.Errorf("%w: mode %s", ErrSplitNoRoom, c)
			}
		}
		used += cost()
		if s != sign {
			modes = append(modes, s)
			sign = s
		}
		modes = append(modes, c.Mode)
		if c.Param != "" {
			params = append(params, c.Param)
		}
	}
	flush()
	return out, nil
}
