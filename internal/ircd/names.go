package ircd

import (
	"strings"
	"unicode/utf8"
)

// fold maps a nick or channel name to its comparison key under
// CASEMAPPING=ascii (IRCv3/modern docs: only A-Z fold to a-z), so that every
// lookup and every uniqueness check uses the same rule the server
// advertises.
func fold(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// isSpecial reports RFC 2812's "special" nick characters.
func isSpecial(c byte) bool { return strings.IndexByte("[]\\`_^{|}", c) >= 0 }

// validNick follows RFC 2812 §2.3.1: a letter or special first, then
// letters, digits, specials and '-', at most NickLen bytes.
func validNick(s string) bool {
	if s == "" || len(s) > NickLen {
		return false
	}
	if c := s[0]; !isLetter(c) && !isSpecial(c) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && !isSpecial(c) && c != '-' {
			return false
		}
	}
	return true
}

// isChannel reports whether s names a channel (CHANTYPES=#&).
func isChannel(s string) bool { return s != "" && (s[0] == '#' || s[0] == '&') }

// validChannel follows RFC 2812 §1.3: a channel type, then anything but
// NUL, BEL, CR, LF, space, comma and colon, at most ChanLen bytes, and
// valid UTF-8 so that every client can display it.
func validChannel(s string) bool {
	if !isChannel(s) || len(s) < 2 || len(s) > ChanLen || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsAny(s, "\x00\x07\r\n ,:")
}

// cleanUser keeps the characters of a USER name that are safe in a
// nick!user@host source, at most UserLen of them.
func cleanUser(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < UserLen; i++ {
		if c := s[i]; isLetter(c) || isDigit(c) || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// keep copies a string taken from an input message before the server
// stores it for longer than the message. The Backend parses each line in
// place, so a parameter shares one allocation with the whole line and its
// Message: keeping the bare parameter (a nick, a channel name) would keep
// all of it, several hundred bytes per client for its life. Once the
// core has handled a line, the Server hands its block back (Release) to
// be overwritten by a later line, so whatever outlives the call, a log
// record's attributes included (a handler may keep them), must be kept.
func keep(s string) string { return strings.Clone(s) }

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// splitList splits a comma-separated target list, dropping empty entries.
func splitList(s string) []string {
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
