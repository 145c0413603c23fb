package ircd

import "strings"

// isTooLong reports whether an InputError is about a line, tag section or
// body over its limit, which IRCv3 answers with 417 ERR_INPUTTOOLONG.
func isTooLong(err error) bool {
	return err != nil && strings.Contains(err.Error(), "too long")
}
