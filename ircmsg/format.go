package ircmsg

import (
	"slices"
	"strings"
)

// scan reports what s holds: 1 if a SPACE, 2 if a CR, LF or NUL (which no
// part of a line may hold), ORed.
//
// Long strings go to strings.IndexByte, whose vector loop wins once its
// set-up is paid. Short ones are read eight bytes at a time: one word test
// answers "any SPACE" and another "any byte below 0x0E", and only words
// with such a low byte (rare: TAB, mIRC formatting) are looked at byte by
// byte.
func scan(s string) uint8 {
	var f uint8
	if len(s) >= vectorMin {
		if strings.IndexByte(s, ' ') >= 0 {
			f = 1
		}
		if strings.IndexByte(s, '\r') >= 0 || strings.IndexByte(s, '\n') >= 0 || strings.IndexByte(s, 0) >= 0 {
			f |= 2
		}
		return f
	}
	for len(s) >= 8 {
		t := s[:8]
		w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		if sp := w ^ (' ' * lsb); (sp-lsb)&^sp&msb != 0 {
			f |= 1
		}
		if (w-0x0E*lsb)&^w&msb != 0 {
			for j := 0; j < len(t); j++ {
				f |= byteClass[t[j]]
			}
		}
		s = s[8:]
	}
	for j := 0; j < len(s); j++ {
		f |= byteClass[s[j]]
	}
	return f
}

// byteClass sorts bytes for scan.
var byteClass = [256]uint8{' ': 1, '\r': 2, '\n': 2, 0: 2}

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
// It returns a *[FormatError] for: a CR, LF or NUL in the source, the
// command or a parameter, or a NUL in a tag value (IRCv3 escapes CR and LF
// in values but has no escape for NUL) ([ErrBadByte]); an invalid or
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

	if c := m.Command; c == "" || c[0] == ':' || c[0] == '@' {
		return 0, false, &FormatError{Field: "command", Err: ErrBadCommand}
	}
	switch scan(m.Command) {
	case 0:
	case 1: // a space alone
		return 0, false, &FormatError{Field: "command", Err: ErrBadCommand}
	default:
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
