package irc

import "strings"

// isNickSpecial reports the RFC 2812 "special" characters: [ ] \ ` _ ^ { | }.
func isNickSpecial(c byte) bool { return strings.IndexByte("[]\\`_^{|}", c) >= 0 }

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// ValidNick reports whether nick is a nickname by RFC 2812's grammar
// (a letter or one of [ ] \ ` _ ^ { | } first, then letters, digits,
// those specials and '-') and no longer than the server's NICKLEN. It is
// the portable rule: a nick that passes is accepted by every server whose
// limit it fits, though many servers accept more (UTF-8 servers, for
// instance).
func (s *ISupport) ValidNick(nick string) bool {
	if nick == "" || (s.NickLen() > 0 && len(nick) > s.NickLen()) {
		return false
	}
	if !isLetter(nick[0]) && !isNickSpecial(nick[0]) {
		return false
	}
	for i := 1; i < len(nick); i++ {
		c := nick[i]
		if !isLetter(c) && !isDigit(c) && !isNickSpecial(c) && c != '-' {
			return false
		}
	}
	return true
}

// ValidChannel reports whether name is a channel name on this server: it
// starts with one of CHANTYPES, is no longer than CHANNELLEN, and holds
// no space, comma, BEL (\x07), NUL, CR or LF, the bytes RFC 2812 keeps
// out of channel names.
func (s *ISupport) ValidChannel(name string) bool {
	if len(name) < 2 || !s.IsChannel(name) || (s.ChannelLen() > 0 && len(name) > s.ChannelLen()) {
		return false
	}
	return !strings.ContainsAny(name, " ,\x07\x00\r\n")
}
