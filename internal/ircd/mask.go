package ircd

import "strings"

// matchMask reports whether s matches the IRC wildcard mask: '*' matches
// any run of bytes (none included), '?' exactly one, everything else
// itself under the server's CASEMAPPING=ascii. It is the one matcher the
// server uses for bans, exceptions, invite exceptions and WHO masks.
//
// The loop backtracks only to the last '*', so it runs in
// O(len(mask)·len(s)) at worst: a hostile mask such as "*a*a*a*a*b"
// cannot make it exponential.
func matchMask(mask, s string) bool {
	mask, s = fold(mask), fold(s)
	mi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case mi < len(mask) && mask[mi] == '*':
			star, mark = mi, si
			mi++
		case mi < len(mask) && (mask[mi] == '?' || mask[mi] == s[si]):
			mi++
			si++
		case star >= 0:
			mi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for mi < len(mask) && mask[mi] == '*' {
		mi++
	}
	return mi == len(mask)
}

// canonMask completes a ban-style mask to nick!user@host form, the way
// ircd-hybrid, InspIRCd and ergo do, so that "bob" bans the nick bob
// ("bob!*@*"), "*@host" bans a host ("*!*@host") and "nick!user" gets
// "@*". A mask made only of a host is read as a nick: the same ambiguity
// every server resolves that way.
func canonMask(m string) string {
	bang := strings.IndexByte(m, '!')
	at := strings.LastIndexByte(m, '@')
	switch {
	case bang >= 0 && at > bang:
		return orStar(m[:bang]) + "!" + orStar(m[bang+1:at]) + "@" + orStar(m[at+1:])
	case bang >= 0:
		return orStar(m[:bang]) + "!" + orStar(m[bang+1:]) + "@*"
	case at >= 0:
		return "*!" + orStar(m[:at]) + "@" + orStar(m[at+1:])
	default:
		return orStar(m) + "!*@*"
	}
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}
