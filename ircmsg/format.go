package ircmsg

import (
	"slices"
	"strings"
)

// byteClass sorts bytes for the format checks: 1 for SPACE, 2 for the bytes
// no part of a line may hold (CR, LF, NUL).
var byteClass = [256]uint8{' ': 1, '\r': 2, '\n': 2, 0: 2}

// scan returns the OR of the classes of s's bytes.
func scan(s string) uint8 {
	var f uint8
	for i := 0; i < len(s); i++ {
		f |= byteClass[s[i]]
	}
	return f
}

// Append appends m's wire form (without CR LF) to dst. It validates the
// whole message before writing, so on error dst is returned unchanged and
// nothing was written past its length either. When dst has room it does not
// allocate (a message with more than 16 tags uses a map to find duplicate
// keys).
//
// Tags are written in the order of m.Tags, values escaped per IRCv3
// message-tags ("\\" for a backslash, "\:", "\s", "\r", "\n"), and an empty
// value as the bare key. The last parameter gets a ':' when it is empty,
// holds a space or starts with ':', or always with f.Colonify. The command
// is written as given.
//
// It returns a *[FormatError] for: a CR, LF or NUL in any part, or a NUL in
// a tag value (IRCv3 has no escape for it) ([ErrBadByte]); an invalid or
// repeated tag key ([ErrBadTagKey], [ErrDuplicateTag]); a source with a
// space ([ErrBadSource]); an empty command, one with a space, or one that
// starts with ':' or '@' ([ErrBadCommand]); a parameter other than the last
// that is empty, holds a space or starts with ':' ([ErrBadParam]); and a
// message past f.Limits ([ErrTagsTooLong], [ErrClientTagsTooLong],
// [ErrBodyTooLong]). It never truncates.
func (f Format) Append(dst []byte, m *Message) ([]byte, error) {
	n, colon, err := f.measure(m)
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, n)
	if len(m.Tags) > 0 {
		dst = append(dst, '@')
		for i, t := range m.Tags {
			if i > 0 {
				dst = append(dst, ';')
			}
			dst = append(dst, t.Key...)
			if t.Value != "" {
				dst = append(dst, '=')
				dst = appendEscaped(dst, t.Value)
			}
		}
		dst = append(dst, ' ')
	}
	if m.Source != "" {
		dst = append(dst, ':')
		dst = append(dst, m.Source...)
		dst = append(dst, ' ')
	}
	dst = append(dst, m.Command...)
	for i, p := range m.Params {
		dst = append(dst, ' ')
		if colon && i == len(m.Params)-1 {
			dst = append(dst, ':')
		}
		dst = append(dst, p...)
	}
	return dst, nil
}

// measure validates m and returns its wire length and whether the last
// parameter takes a ':'.
func (f Format) measure(m *Message) (n int, colon bool, err error) {
	if len(m.Tags) > 0 {
		tagLen, clientLen := 1, -1 // the '@'; client-only data as if joined by ';'
		var index map[string]struct{}
		if len(m.Tags) > linearTags {
			index = make(map[string]struct{}, len(m.Tags))
		}
		for i, t := range m.Tags {
			if !ValidTagKey(t.Key) {
				return 0, false, &FormatError{Field: "tag", Index: i, Err: ErrBadTagKey}
			}
			if index != nil {
				if _, dup := index[t.Key]; dup {
					return 0, false, &FormatError{Field: "tag", Index: i, Err: ErrDuplicateTag}
				}
				index[t.Key] = struct{}{}
			} else {
				for _, u := range m.Tags[:i] {
					if u.Key == t.Key {
						return 0, false, &FormatError{Field: "tag", Index: i, Err: ErrDuplicateTag}
					}
				}
			}
			item := len(t.Key)
			if t.Value != "" {
				v := escapedLen(t.Value)
				if v < 0 {
					return 0, false, &FormatError{Field: "tag", Index: i, Err: ErrBadByte}
				}
				item += 1 + v
			}
			tagLen += item + 1 // with the ';' or the final space
			if t.Key[0] == '+' {
				clientLen += item + 1
			}
		}
		if lim := f.Limits.tagBytes(); lim >= 0 && tagLen > lim {
			return 0, false, &FormatError{Field: "tags", Err: ErrTagsTooLong}
		}
		if lim := f.Limits.clientTagBytes(); lim >= 0 && clientLen > lim {
			return 0, false, &FormatError{Field: "tags", Err: ErrClientTagsTooLong}
		}
		n += tagLen
	}

	body := 0
	if m.Source != "" {
		switch scan(m.Source) {
		case 0:
		case 1:
			return 0, false, &FormatError{Field: "source", Err: ErrBadSource}
		default:
			return 0, false, &FormatError{Field: "source", Err: ErrBadByte}
		}
		body += 1 + len(m.Source) + 1
	}

	switch c := m.Command; {
	case c == "" || c[0] == ':' || c[0] == '@' || scan(c) == 1:
		return 0, false, &FormatError{Field: "command", Err: ErrBadCommand}
	case scan(c) != 0:
		return 0, false, &FormatError{Field: "command", Err: ErrBadByte}
	}
	body += len(m.Command)

	last := len(m.Params) - 1
	for i, p := range m.Params {
		cl := scan(p)
		if cl&2 != 0 {
			return 0, false, &FormatError{Field: "param", Index: i, Err: ErrBadByte}
		}
		needColon := p == "" || cl != 0 || p[0] == ':'
		if i < last {
			if needColon {
				return 0, false, &FormatError{Field: "param", Index: i, Err: ErrBadParam}
			}
		} else if needColon || f.Colonify {
			colon = true
			body++
		}
		body += 1 + len(p)
	}
	if lim := f.Limits.bodyMax(); lim >= 0 && body > lim {
		return 0, false, &FormatError{Field: "message", Err: ErrBodyTooLong}
	}
	return n + body, colon, nil
}

// String returns m's wire form (without CR LF) with the zero [Format], or,
// if m cannot be written, a description starting with "!ircmsg(" and the
// error, so that a log line never carries a raw CR or LF.
func (m *Message) String() string {
	b, err := m.AppendTo(nil)
	if err != nil {
		var s strings.Builder
		s.WriteString("!ircmsg(")
		s.WriteString(err.Error())
		s.WriteString(")")
		return s.String()
	}
	return string(b)
}

// Clone returns a copy of m that shares no slice with it. (The strings are
// shared: they are immutable.)
func (m *Message) Clone() *Message {
	c := *m
	c.Tags = slices.Clone(m.Tags)
	c.Params = slices.Clone(m.Params)
	return &c
}
