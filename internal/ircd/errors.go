package ircd

import (
	"errors"
	"strings"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
)

// isTooLong reports whether an InputError is about a line, tag section or
// body over its limit, which IRCv3 answers with 417 ERR_INPUTTOOLONG.
func isTooLong(err error) bool {
	return errors.Is(err, filter.ErrLineTooLong) ||
		errors.Is(err, ircmsg.ErrTagsTooLong) ||
		errors.Is(err, ircmsg.ErrClientTagsTooLong) ||
		errors.Is(err, ircmsg.ErrBodyTooLong)
}

// middle makes a client-supplied string safe as a middle parameter of a
// reply (an echoed nick, channel or mask): a space, a leading ':' or an
// empty string would make the reply unformattable, and the reply would be
// lost. The string is cut at its first space; what is left, if empty or
// starting with ':', becomes "*".
func middle(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		s = s[:i]
	}
	if s == "" || s[0] == ':' {
		return "*"
	}
	return truncate(s, 64)
}

// blankLine reports whether an InputError is about a line that is empty
// or only spaces, which a server ignores without a reply.
func blankLine(err error) bool {
	if errors.Is(err, ircmsg.ErrEmpty) {
		return true
	}
	var pe *ircmsg.ParseError
	return errors.As(err, &pe) && errors.Is(err, ircmsg.ErrNoCommand) && strings.Trim(pe.Line, " ") == ""
}
