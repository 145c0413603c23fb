package irc

import (
	"strconv"
	"strings"
)

// A Casemap is one of the rules IRC servers use to decide when two nicks or
// channel names are the same. A server names its rule in the ISUPPORT token
// CASEMAPPING; [ISupport.Casemap] reads it and [CasemapByName] maps a name
// to its value.
//
// The zero value is [RFC1459], the mapping a server that sends no
// CASEMAPPING uses. A value that is none of the constants folds like
// [ASCII].
type Casemap int

const (
	// RFC1459 ("rfc1459") folds A-Z to a-z and, because RFC 1459 calls
	// "{}|^" the lower case of "[]\~" (Scandinavian ISO 646), also
	// '[' to '{', ']' to '}', '\' to '|' and '~' to '^'.
	RFC1459 Casemap = iota
	// ASCII ("ascii") folds only A-Z to a-z.
	ASCII
	// StrictRFC1459 ("strict-rfc1459") is RFC1459 without the '~' to
	// '^' rule.
	StrictRFC1459
)

// Fold tables, one per mapping: fold[c][b] is b folded under c.
var foldTables = func() (t [3][256]byte) {
	for c := range t {
		for b := range 256 {
			t[c][b] = byte(b)
		}
		for b := 'A'; b <= 'Z'; b++ {
			t[c][b] = byte(b) + 'a' - 'A'
		}
	}
	for _, c := range []Casemap{RFC1459, StrictRFC1459} {
		t[c]['['] = '{'
		t[c][']'] = '}'
		t[c]['\\'] = '|'
	}
	t[RFC1459]['~'] = '^'
	return t
}()

func (c Casemap) table() *[256]byte {
	if c < 0 || int(c) >= len(foldTables) {
		return &foldTables[ASCII]
	}
	return &foldTables[c]
}

// Fold returns s in the canonical (lower) case of c. Bytes outside the
// mapping, including every non-ASCII byte, are kept as they are, so Fold
// never breaks UTF-8.
//
// When s is already folded Fold returns s itself without allocating;
// otherwise it allocates the result once.
func (c Casemap) Fold(s string) string {
	t := c.table()
	for i := 0; i < len(s); i++ {
		if t[s[i]] != s[i] {
			var b strings.Builder
			b.Grow(len(s))
			b.WriteString(s[:i])
			for j := i; j < len(s); j++ {
				b.WriteByte(t[s[j]])
			}
			return b.String()
		}
	}
	return s
}

// Equal reports whether a and b are the same name under c, without
// allocating.
func (c Casemap) Equal(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	t := c.table()
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && t[a[i]] != t[b[i]] {
			return false
		}
	}
	return true
}

// String returns the name servers use for c in CASEMAPPING ("ascii",
// "rfc1459", "strict-rfc1459"), or "Casemap(N)" for any other value.
func (c Casemap) String() string {
	switch c {
	case ASCII:
		return "ascii"
	case RFC1459:
		return "rfc1459"
	case StrictRFC1459:
		return "strict-rfc1459"
	}
	return "Casemap(" + strconv.Itoa(int(c)) + ")"
}

// CasemapByName returns the Casemap a CASEMAPPING value names. The name is
// matched without regard to ASCII case. ok is false for a name this package
// does not implement (such as "rfc7613" or "rfc8265"); the Casemap is then
// [ASCII], the part every mapping in use agrees on.
func CasemapByName(name string) (c Casemap, ok bool) {
	for _, c := range []Casemap{ASCII, RFC1459, StrictRFC1459} {
		if strings.EqualFold(name, c.String()) {
			return c, true
		}
	}
	return ASCII, false
}
