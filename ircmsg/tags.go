package ircmsg

import "slices"

// ValidTagKey reports whether key is a tag key as IRCv3 message-tags defines
// it: an optional client-only prefix '+', an optional vendor (a host name:
// ASCII letters, digits, '-' and '.') followed by '/', and a non-empty name
// of ASCII letters, digits and '-'.
func ValidTagKey(key string) bool {
	end, ok := scanKey(key, 0)
	return ok && end == len(key)
}

// scanKey reads a tag key from s[i:], up to the first '=' or ';' or the end
// of s, and returns where it ends and whether it is valid ([ValidTagKey]).
// The parser calls it on the tag section, so one pass both finds and checks
// each key.
func scanKey[T string | []byte](s T, i int) (end int, ok bool) {
	if i < len(s) && s[i] == '+' {
		i++
	}
	start, slash, dot, bad := i, -1, false, false
	for ; i < len(s); i++ {
		switch keyClass[s[i]] {
		case keyName:
		case keyDot:
			bad = bad || slash >= 0 // only the vendor may hold dots
			dot = true
		case keySlash:
			bad = bad || slash >= 0 || i == start // a second '/', or an empty vendor
			slash = i
		default:
			if c := s[i]; c == '=' || c == ';' {
				return i, !bad && i > start && slash != i-1 && (slash >= 0 || !dot)
			}
			bad = true
		}
	}
	return i, !bad && i > start && slash != i-1 && (slash >= 0 || !dot)
}

const (
	keyOther = iota
	keyName  // ASCII letter, digit or '-'
	keyDot
	keySlash
)

var keyClass = func() (t [256]uint8) {
	for c := range t {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' {
			t[c] = keyName
		}
	}
	t['.'] = keyDot
	t['/'] = keySlash
	return t
}()

// escapeClass marks the bytes a tag value cannot carry raw. IRCv3
// message-tags escapes ';', SPACE, '\', CR and LF; it has no escape for NUL,
// which is therefore an error when formatting.
var escapeClass = [256]uint8{';': 1, ' ': 1, '\\': 1, '\r': 1, '\n': 1, 0: 2}

// escapedLen returns the length of value once escaped, or -1 if value holds
// a NUL byte.
func escapedLen(value string) int {
	n := len(value)
	for i := 0; i < len(value); i++ {
		switch escapeClass[value[i]] {
		case 1:
			n++
		case 2:
			return -1
		}
	}
	return n
}

// appendEscaped appends value escaped per IRCv3 message-tags. The caller has
// checked it holds no NUL. Runs without escapes are copied whole.
func appendEscaped(dst []byte, value string) []byte {
	start := 0
	for i := 0; i < len(value); i++ {
		if escapeClass[value[i]] == 0 {
			continue
		}
		dst = append(dst, value[start:i]...)
		start = i + 1
		switch value[i] {
		case ';':
			dst = append(dst, '\\', ':')
		case ' ':
			dst = append(dst, '\\', 's')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\n':
			dst = append(dst, '\\', 'n')
		}
	}
	return append(dst, value[start:]...)
}

// unescapeInPlace unescapes the tag value b per IRCv3 message-tags and
// returns the length of the result, which is at most len(b): every escape
// shrinks, so the result is written over the input.
//
// An escape of any other byte stands for that byte (the backslash is
// dropped: "\a" is "a", unlike POE::Filter::IRCv3's BEL), and a lone
// backslash at the end is dropped.
func unescapeInPlace(b []byte) int {
	w := 0
	for r := 0; r < len(b); r++ {
		c := b[r]
		if c == '\\' {
			r++
			if r == len(b) {
				break
			}
			switch c = b[r]; c {
			case ':':
				c = ';'
			case 's':
				c = ' '
			case 'r':
				c = '\r'
			case 'n':
				c = '\n'
			}
		}
		b[w] = c
		w++
	}
	return w
}

// Tag returns the value of the tag key and whether it is present.
func (m *Message) Tag(key string) (value string, ok bool) {
	for _, t := range m.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// SetTag sets the tag key to value, keeping its place if present, else
// adding it at the end. The key is not checked here; [Format.Append]
// refuses a message whose keys [ValidTagKey] rejects.
func (m *Message) SetTag(key, value string) {
	for i := range m.Tags {
		if m.Tags[i].Key == key {
			m.Tags[i].Value = value
			return
		}
	}
	m.Tags = append(m.Tags, Tag{Key: key, Value: value})
}

// DeleteTag removes the tag key, keeping the order of the others.
func (m *Message) DeleteTag(key string) {
	for i := range m.Tags {
		if m.Tags[i].Key == key {
			m.Tags = slices.Delete(m.Tags, i, i+1)
			return
		}
	}
}
