package irc

import (
	"net/netip"
	"strings"

	"github.com/ircsock/ircsock/ircmsg"
)

// SplitMask splits "nick!user@host" into its parts; a missing part is
// empty. It splits as [ircmsg.SplitSource] does: the host is everything
// after the first '@', the user what lies between the first '!' before it
// and the '@'.
func SplitMask(mask string) (nick, user, host string) { return ircmsg.SplitSource(mask) }

// NormalizeMask completes a partial ban-style mask the way servers do
// before they store it:
//
//	""               -> "*!*@*"
//	"nick"           -> "nick!*@*"
//	"host.name"      -> "*!*@host.name" (a '.' or ':' makes it a host)
//	"user@host"      -> "*!user@host"
//	"nick!user"      -> "nick!user@*"
//	"nick!@host"     -> "nick!*@host"  (an empty part becomes '*')
//
// A complete mask comes back unchanged.
func NormalizeMask(mask string) string {
	hasBang := strings.IndexByte(mask, '!') >= 0
	hasAt := strings.IndexByte(mask, '@') >= 0
	if !hasBang && !hasAt && strings.ContainsAny(mask, ".:") {
		return "*!*@" + mask
	}
	nick, user, host := SplitMask(mask)
	if !hasBang && hasAt {
		// "user@host": what SplitMask calls the nick is the user.
		nick, user = "", nick
	}
	star := func(s string) string {
		if s == "" {
			return "*"
		}
		return s
	}
	return star(nick) + "!" + star(user) + "@" + star(host)
}

// MatchMask reports whether name matches the glob mask under casemap cm:
// '*' matches any run of bytes (also none), '?' exactly one byte, and a
// backslash makes the '*', '?' or backslash after it literal (before any
// other byte it is a literal backslash itself, so nicks with '\' need no
// escaping). '[' and ']' are ordinary bytes, not character classes.
//
// When mask is "nick!user@host" whose host is a CIDR block
// ("*!*@192.0.2.0/24", "*!*@2001:db8::/32"), a name whose host is an IP
// address in that block matches too, if its nick and user match.
//
// Under [RFC7613] the mask and the name are folded with PRECIS first, so
// "*!*@*" matches as usual and "éva*" matches "ÉVA!u@h"; a name that is
// not printable ASCII then costs an allocation.
//
// Matching takes time linear in len(name) times len(mask)/64, without
// backtracking, whatever the mask: see [Mask]. To match one mask against
// many names, compile it once with [CompileMask].
func MatchMask(mask, name string, cm Casemap) bool {
	return CompileMask(mask, cm).Match(name)
}

// A Mask is a compiled glob mask (see [MatchMask]), safe for concurrent
// use.
//
// It matches with a bit-parallel simulation of the mask's automaton (the
// Shift-And method): one bit per mask position, every possible position
// followed at once, so a hostile mask such as "*?*?*?…" costs no more than
// any other of its length.
type Mask struct {
	src  string
	cm   Casemap
	n    int      // positions: tokens + 1
	any  []uint64 // bit i: token i is '?'
	star []uint64 // bit i: token i is '*'
	// accept[byteIndex[c]-1]: bit i when token i is the literal c (folded).
	byteIndex [256]uint16
	accept    [][]uint64
	// cidr is set when the mask is nick!user@prefix.
	cidr   netip.Prefix
	nuMask *Mask // the nick!user part, for CIDR matching
}

// CompileMask compiles mask for matching under casemap cm; see
// [MatchMask]. Every string is a valid mask.
func CompileMask(mask string, cm Casemap) *Mask {
	src := mask
	if cm == RFC7613 {
		// Fold the whole mask first, so non-ASCII letters compare the
		// way PRECIS folds them; Match folds the name the same way.
		mask = cm.Fold(mask)
	}
	m := compileGlob(mask, cm)
	m.src = src
	if at := strings.IndexByte(mask, '@'); at >= 0 {
		if p, err := netip.ParsePrefix(mask[at+1:]); err == nil {
			m.cidr = p.Masked()
			m.nuMask = compileGlob(mask[:at], cm)
		}
	}
	return m
}

const (
	tokLiteral = iota
	tokAny
	tokStar
)

func compileGlob(mask string, cm Casemap) *Mask {
	type token struct {
		kind int
		c    byte
	}
	fold := cm.table()
	toks := make([]token, 0, len(mask))
	for i := 0; i < len(mask); i++ {
		c := mask[i]
		switch {
		case c == '\\' && i+1 < len(mask) && strings.IndexByte(`*?\`, mask[i+1]) >= 0:
			i++
			toks = append(toks, token{tokLiteral, fold[mask[i]]})
		case c == '*':
			if len(toks) > 0 && toks[len(toks)-1].kind == tokStar {
				continue // "**" is "*"
			}
			toks = append(toks, token{kind: tokStar})
		case c == '?':
			toks = append(toks, token{kind: tokAny})
		default:
			toks = append(toks, token{tokLiteral, fold[c]})
		}
	}
	m := &Mask{src: mask, cm: cm, n: len(toks) + 1}
	words := (m.n + 63) / 64
	distinct := 0
	for _, t := range toks {
		if t.kind == tokLiteral && m.byteIndex[t.c] == 0 {
			distinct++
			m.byteIndex[t.c] = uint16(distinct)
		}
	}
	// One allocation for every bit vector: any, star, then one per byte.
	bitsets := make([]uint64, (2+distinct)*words)
	m.any, m.star = bitsets[:words:words], bitsets[words:2*words:2*words]
	m.accept = make([][]uint64, distinct)
	for k := range m.accept {
		m.accept[k] = bitsets[(2+k)*words : (3+k)*words : (3+k)*words]
	}
	for i, t := range toks {
		w, b := i/64, uint64(1)<<(i%64)
		switch t.kind {
		case tokAny:
			m.any[w] |= b
		case tokStar:
			m.star[w] |= b
		case tokLiteral:
			m.accept[m.byteIndex[t.c]-1][w] |= b
		}
	}
	return m
}

// String returns the mask as it was given.
func (m *Mask) String() string { return m.src }

// Match reports whether name matches m.
func (m *Mask) Match(name string) bool {
	if m.cm == RFC7613 {
		name = m.cm.Fold(name)
	}
	if m.globMatch(name) {
		return true
	}
	if !m.cidr.IsValid() {
		return false
	}
	at := strings.IndexByte(name, '@')
	if at < 0 {
		return false
	}
	addr, err := netip.ParseAddr(name[at+1:])
	if err != nil {
		return false
	}
	return m.cidr.Contains(addr.Unmap()) && m.nuMask.globMatch(name[:at])
}

// stackWords is how many words of state live on the stack: masks of up to
// 511 positions match without allocating.
const stackWords = 8

func (m *Mask) globMatch(name string) bool {
	words := len(m.any)
	if words == 1 {
		return m.globMatch1(name)
	}
	var buf [2 * stackWords]uint64
	var d, e []uint64
	if words <= stackWords {
		d, e = buf[:words], buf[stackWords:stackWords+words]
	} else {
		d, e = make([]uint64, words), make([]uint64, words)
	}
	d[0] = 1
	m.closure(d)
	fold := m.cm.table()
	for i := 0; i < len(name); i++ {
		var acc []uint64
		if k := m.byteIndex[fold[name[i]]]; k > 0 {
			acc = m.accept[k-1]
		}
		var carry, live uint64
		for w := range words {
			step := d[w] & m.any[w]
			if len(acc) > 0 {
				step |= d[w] & acc[w]
			}
			e[w] = step<<1 | carry | d[w]&m.star[w]
			carry = step >> 63
			live |= e[w]
		}
		if live == 0 {
			return false
		}
		d, e = e, d
		m.closure(d)
	}
	last := m.n - 1
	return d[last/64]&(1<<(last%64)) != 0
}

// globMatch1 is globMatch for masks of up to 63 positions, the usual
// case, with the state in one register.
func (m *Mask) globMatch1(name string) bool {
	fold := m.cm.table()
	anyBits, star := m.any[0], m.star[0]
	d := uint64(1)
	d |= (d & star) << 1
	for i := 0; i < len(name); i++ {
		step := anyBits
		if k := m.byteIndex[fold[name[i]]]; k > 0 {
			step |= m.accept[k-1][0]
		}
		d = (d&step)<<1 | d&star
		if d == 0 {
			return false
		}
		d |= (d & star) << 1
	}
	return d&(1<<(m.n-1)) != 0
}

// closure adds, for every reached '*', the position after it: a '*' may
// match nothing. Consecutive stars were merged at compile time, so one
// pass suffices.
func (m *Mask) closure(d []uint64) {
	var carry uint64
	for w := range d {
		s := d[w] & m.star[w]
		d[w] |= s<<1 | carry
		carry = s >> 63
	}
}

// ValidHostname reports whether host is acceptable as an IRC server or
// client host name, as the ircdocs validate-hostname tests define it: two
// or more dot-separated labels (a single trailing dot is allowed, so
// "services." is valid but "irc" is not), each 1 to 63 letters, digits and
// hyphens, not starting or ending with a hyphen, 253 bytes at most. It
// is meant for servers; a client should accept whatever host a server
// shows.
func ValidHostname(host string) bool {
	if len(host) > 254 || !strings.Contains(host, ".") {
		return false
	}
	host = strings.TrimSuffix(host, ".")
	if len(host) > 253 || host == "" {
		return false
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '-') {
				return false
			}
		}
	}
	return true
}
