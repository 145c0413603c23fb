package irc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
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
	// '[' to '{', ']' to '}', '\' to '|' and '~' to '^'. (InspIRCd 3
	// announces rfc1459 but, measured against Debian's 3.15, does not
	// fold '~' and '^': it behaves as [StrictRFC1459]. The difference
	// only shows in channel names, where '~' and '^' can appear.)
	RFC1459 Casemap = iota
	// ASCII ("ascii") folds only A-Z to a-z.
	ASCII
	// StrictRFC1459 ("strict-rfc1459") is RFC1459 without the '~' to
	// '^' rule.
	StrictRFC1459
	// RFC7613 ("rfc7613", also announced as "rfc8265", which obsoletes
	// it and keeps the mapping) is the PRECIS UsernameCaseMapped profile
	// that UTF-8 servers such as Ergo use: Unicode case folding, width
	// mapping and NFC normalisation, from golang.org/x/text/secure/precis
	// (which implements RFC 8265). Printable ASCII folds as in [ASCII]
	// without calling it.
	RFC7613
)

// ErrPRECIS is wrapped by the error [Casemap.FoldStrict] returns for a
// string the PRECIS profile of [RFC7613] does not allow (spaces, control
// characters, unassigned code points and the like). Per call.
var ErrPRECIS = errors.New("irc: not allowed by PRECIS UsernameCaseMapped")

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

// table returns the byte mapping of c; RFC7613 and unknown values use
// ASCII's, which is what RFC7613 does to printable ASCII.
func (c Casemap) table() *[256]byte {
	if c < 0 || int(c) >= len(foldTables) {
		return &foldTables[ASCII]
	}
	return &foldTables[c]
}

// printableASCII reports whether s is all printable ASCII (0x21-0x7E),
// which PRECIS identifiers allow and fold like ASCII.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7E {
			return false
		}
	}
	return true
}

// precisLower is the case mapping of the UsernameCaseMapped profile.
var precisLower = cases.Lower(language.Und, cases.HandleFinalSigma(false))

// precisMap applies the mappings of PRECIS UsernameCaseMapped (width,
// lower case, NFC), repeated until stable as RFC 8264 asks, but none of
// its checks: it folds strings the profile would refuse, such as a mask
// ending in '*' after a non-ASCII letter (the Bidi rule) or a name with a
// space, the same way it folds the ones it accepts.
func precisMap(s string) string {
	for range 4 {
		t := norm.NFC.String(precisLower.String(width.Fold.String(s)))
		if t == s {
			break
		}
		s = t
	}
	return s
}

// FoldStrict is [Casemap.Fold] that reports an error instead of falling
// back: for [RFC7613], an error wrapping [ErrPRECIS] for a string the
// profile does not allow. The byte mappings never fail.
func (c Casemap) FoldStrict(s string) (string, error) {
	if c != RFC7613 || printableASCII(s) {
		return c.Fold(s), nil
	}
	f, err := precis.UsernameCaseMapped.CompareKey(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrPRECIS, s, err)
	}
	return f, nil
}

// Fold returns s in the canonical (lower) case of c. The byte mappings
// keep bytes outside the mapping, including every non-ASCII byte, as they
// are, so Fold never breaks UTF-8.
//
// When s is already folded Fold returns s itself without allocating;
// otherwise it allocates the result once. [RFC7613] keeps that promise for
// printable ASCII; other strings go through the profile's mappings in
// x/text, which allocate. Fold never fails: a string the PRECIS profile
// refuses (servers refuse such names) is still mapped the same way, and
// [Casemap.FoldStrict] reports it instead.
func (c Casemap) Fold(s string) string {
	if c == RFC7613 && !printableASCII(s) {
		return precisMap(s)
	}
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
// allocating (for [RFC7613], when both are printable ASCII).
func (c Casemap) Equal(a, b string) bool {
	if c == RFC7613 && !(printableASCII(a) && printableASCII(b)) {
		return c.Fold(a) == c.Fold(b)
	}
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
	case RFC7613:
		return "rfc7613"
	}
	return "Casemap(" + strconv.Itoa(int(c)) + ")"
}

// CasemapByName returns the Casemap a CASEMAPPING value names: "ascii",
// "rfc1459", "strict-rfc1459" (or "rfc1459-strict"), "rfc7613" (or
// "rfc8265", "precis"). The name is matched without regard to ASCII case.
// ok is false for a name this package does not implement; the Casemap is
// then [ASCII], the part every mapping in use agrees on.
func CasemapByName(name string) (c Casemap, ok bool) {
	switch strings.ToLower(name) {
	case "ascii":
		return ASCII, true
	case "rfc1459":
		return RFC1459, true
	case "strict-rfc1459", "rfc1459-strict":
		return StrictRFC1459, true
	case "rfc7613", "rfc8265", "precis":
		return RFC7613, true
	}
	return ASCII, false
}
