package irc

import (
	"errors"
	"fmt"
	"sync"
)

// TS6 identifiers, as the TS6 protocol (ircd-ratbox's doc/technical/
// ts6-protocol.txt, used by charybdis, solanum and InspIRCd's server links)
// defines them: a server id (SID) is a digit followed by two characters
// from A-Z and 0-9 ("42X"); a unique user id (UID) is the SID of the
// user's server followed by six characters, a letter A-Z and then five
// from A-Z and 0-9 ("42XAAAAAB").

// ErrTS6Invalid is returned for a string that is not a TS6 SID where one
// is needed. Per call.
var ErrTS6Invalid = errors.New("irc: invalid TS6 server id")

// ErrUIDsExhausted is returned by [UIDGenerator.Next] once all
// 26*36^5 user ids of a server have been handed out; a server must not
// hand one out twice.
var ErrUIDsExhausted = errors.New("irc: TS6 user ids exhausted")

func isUpperAlnum(c byte) bool { return 'A' <= c && c <= 'Z' || isDigit(c) }

// ValidSID reports whether s is a TS6 server id: [0-9][A-Z0-9][A-Z0-9].
func ValidSID(s string) bool {
	return len(s) == 3 && isDigit(s[0]) && isUpperAlnum(s[1]) && isUpperAlnum(s[2])
}

// ValidUID reports whether s is a TS6 unique user id: a SID, then
// [A-Z] and five [A-Z0-9].
func ValidUID(s string) bool {
	if len(s) != 9 || !ValidSID(s[:3]) || !('A' <= s[3] && s[3] <= 'Z') {
		return false
	}
	for i := 4; i < 9; i++ {
		if !isUpperAlnum(s[i]) {
			return false
		}
	}
	return true
}

// UIDServer returns the SID part of a valid UID, and false for anything
// else.
func UIDServer(uid string) (sid string, ok bool) {
	if !ValidUID(uid) {
		return "", false
	}
	return uid[:3], true
}

// A UIDGenerator hands out the UIDs of one server in the order TS6
// servers do: AAAAAA, AAAAAB, ... AAAAAZ, AAAAA0, ... AAAAA9, AAAABA, ...
// It is safe for concurrent use.
type UIDGenerator struct {
	mu   sync.Mutex
	sid  string
	next [6]byte
	done bool
}

// NewUIDGenerator returns a generator for server sid, or an error
// wrapping [ErrTS6Invalid] when sid is not a valid SID.
func NewUIDGenerator(sid string) (*UIDGenerator, error) {
	if !ValidSID(sid) {
		return nil, fmt.Errorf("%w: %q", ErrTS6Invalid, sid)
	}
	return &UIDGenerator{sid: sid, next: [6]byte{'A', 'A', 'A', 'A', 'A', 'A'}}, nil
}

// Next returns the next UID, or [ErrUIDsExhausted] after the last one.
func (g *UIDGenerator) Next() (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done {
		return "", ErrUIDsExhausted
	}
	uid := g.sid + string(g.next[:])
	// Increment from the right: A..Z then 0..9, carrying; the first
	// character stays a letter.
	for i := 5; ; i-- {
		switch c := g.next[i]; {
		case c == 'Z' && i > 0:
			g.next[i] = '0'
			return uid, nil
		case c == '9' || (c == 'Z' && i == 0):
			if i == 0 {
				g.done = true
				return uid, nil
			}
			g.next[i] = 'A'
			continue
		default:
			g.next[i] = c + 1
			return uid, nil
		}
	}
}
