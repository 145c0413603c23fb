package ircmsg

import (
	"errors"
	"unicode/utf8"
)

// Truncate shortens m's last parameter in place, if needed, so that m fits
// f.Limits.BodyBytes when written with f; it returns nil when m then
// formats. It cuts at a UTF-8 character boundary when the cut falls inside
// one, so a cut message text stays valid UTF-8 if it was. The source,
// command and other parameters are never cut, nor are tags (a tag section
// past its limit stays an error): if the message does not fit even with an
// empty last parameter, or has another fault, m is left unchanged and the
// [Format.Append] error is returned.
//
// Unlike IRC::Message::Object's truncate, the limit counts the bytes
// actually written, escapes included, and leaves room for the CR LF.
func (f Format) Truncate(m *Message) error {
	_, _, err := f.measure(m)
	if err == nil || !errors.Is(err, ErrBodyTooLong) || len(m.Params) == 0 {
		return err
	}
	lim := f.Limits.bodyMax()
	k := len(m.Params) - 1
	orig := m.Params[k]
	over := bodyLen(m, f.Colonify) - lim
	// Cutting can add a ':' (a last parameter that becomes empty, or
	// loses its space), so try the smallest cut, then one byte more.
	for n := len(orig) - over; n >= 0 && n >= len(orig)-over-1; n-- {
		c := n
		for c > 0 && c < len(orig) && !utf8.RuneStart(orig[c]) {
			c--
		}
		m.Params[k] = orig[:c]
		_, _, e := f.measure(m)
		if e == nil {
			return nil
		}
		if !errors.Is(e, ErrBodyTooLong) {
			break
		}
	}
	m.Params[k] = orig
	return err
}

// bodyLen is the length of m's wire form after its tags, without CR LF,
// for a message that measure accepts but for its length.
func bodyLen(m *Message, colonify bool) int {
	n := len(m.Command)
	if m.Source != "" {
		n += len(m.Source) + 2
	}
	for i, p := range m.Params {
		n += 1 + len(p)
		if i == len(m.Params)-1 && (colonify || p == "" || p[0] == ':' || scan(p) != 0) {
			n++
		}
	}
	return n
}
