package irc

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ircsock/ircsock/ircmsg"
)

// ErrISupportToken is wrapped by the error [ISupport.Add] returns for a
// token it could not use: an empty name, or a value that does not have the
// form its parameter requires (NICKLEN=abc, PREFIX=(ov)@). Per token: the
// other tokens of the line are still added.
var ErrISupportToken = errors.New("irc: malformed ISUPPORT token")

// ErrNotISupport is returned by [ISupport.AddMessage] for a message that is
// not a 005 (RPL_ISUPPORT) reply with at least a target and one token.
var ErrNotISupport = errors.New("irc: not an RPL_ISUPPORT message")

// An ISupport is the typed view of the RPL_ISUPPORT (005) lines a server
// sends after registration. Feed it every 005 line with [ISupport.Add] or
// [ISupport.AddMessage]; later tokens replace earlier ones and "-NAME"
// removes NAME again, so the view follows a server that changes its
// parameters after registration.
//
// Accessors return the value the server announced, or, when it announced
// none, the default each accessor documents: the RFC 1459 behaviour a
// server that sends no 005 has. Tokens this type has no accessor for are
// kept as they came and read with [ISupport.Get].
//
// The zero value is an empty view, ready to use. An ISupport is not safe
// for concurrent use when one goroutine adds while others read.
type ISupport struct {
	tokens map[string]string
}

// AddMessage adds the tokens of a 005 message: its parameters without the
// first (the target nick) and the last (the "are supported by this
// server" text). It returns [ErrNotISupport] for any other message, and
// otherwise what [ISupport.Add] returns.
func (s *ISupport) AddMessage(m *ircmsg.Message) error {
	if m == nil || m.Command != RPL_ISUPPORT || len(m.Params) < 3 {
		return ErrNotISupport
	}
	return s.Add(m.Params[1 : len(m.Params)-1])
}

// Add adds ISUPPORT tokens: the parameters of a 005 line without the
// target nick and without the trailing text ("NICKLEN=30",
// "NETWORK=Example\x20Net", "-EXCEPTS"). Values are unescaped ("\x20" is a
// space, "\x5C" a backslash; an escape that is not "\x" and two hex digits
// is kept as it is). A token "-NAME" removes NAME, so its accessor returns
// the default again.
//
// A token with an empty name, or whose value does not fit its parameter's
// grammar, makes Add return an error wrapping [ErrISupportToken] that
// names it; a malformed value is still kept for [ISupport.Get] but the
// typed accessor then returns its default. Every other token is added
// either way. Only the first such error is returned.
func (s *ISupport) Add(params []string) error {
	if s.tokens == nil {
		s.tokens = make(map[string]string, 32)
	}
	var first error
	for _, tok := range params {
		if err := s.addToken(tok); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (s *ISupport) addToken(tok string) error {
	if name, ok := strings.CutPrefix(tok, "-"); ok {
		if name == "" || strings.ContainsAny(name, "= ") {
			return fmt.Errorf("%w: %q: empty name", ErrISupportToken, tok)
		}
		delete(s.tokens, name)
		return nil
	}
	name, value, _ := strings.Cut(tok, "=")
	if name == "" || strings.ContainsRune(name, ' ') {
		return fmt.Errorf("%w: %q: empty name", ErrISupportToken, tok)
	}
	value = unescapeISupport(value)
	s.tokens[name] = value
	if check, ok := isupportChecks[name]; ok {
		if err := check(value); err != nil {
			return fmt.Errorf("%w: %s=%q: %v", ErrISupportToken, name, value, err)
		}
	}
	return nil
}

// unescapeISupport decodes "\xHH" escapes.
func unescapeISupport(v string) string {
	i := strings.Index(v, `\x`)
	if i < 0 {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for i >= 0 {
		b.WriteString(v[:i])
		if h, ok := unhex2(v[i+2:]); ok {
			b.WriteByte(h)
			v = v[i+4:]
		} else {
			b.WriteString(`\x`)
			v = v[i+2:]
		}
		i = strings.Index(v, `\x`)
	}
	b.WriteString(v)
	return b.String()
}

func unhex2(s string) (byte, bool) {
	if len(s) < 2 {
		return 0, false
	}
	hi, ok1 := unhex(s[0])
	lo, ok2 := unhex(s[1])
	return hi<<4 | lo, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Get returns the unescaped value of token name as the server sent it
// ("" for a token without a value), and whether the server announced it.
// Names are case-sensitive, as servers send them (upper case).
func (s *ISupport) Get(name string) (value string, ok bool) {
	value, ok = s.tokens[name]
	return value, ok
}

// Clone returns an independent copy of s, for handing a snapshot to
// other goroutines while s keeps receiving 005 lines.
func (s *ISupport) Clone() *ISupport {
	return &ISupport{tokens: maps.Clone(s.tokens)}
}

// Names returns the names of every announced token, sorted.
func (s *ISupport) Names() []string {
	names := make([]string, 0, len(s.tokens))
	for k := range s.tokens {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// isupportChecks validates the values of the tokens that have typed
// accessors; an accessor falls back to its default when its check fails.
var isupportChecks = map[string]func(string) error{
	"CHANMODES":  func(v string) error { _, err := parseChanModes(v); return err },
	"PREFIX":     func(v string) error { _, err := parsePrefix(v); return err },
	"NICKLEN":    checkLimit,
	"CHANNELLEN": checkLimit,
	"TOPICLEN":   checkLimit,
	"AWAYLEN":    checkLimit,
	"KICKLEN":    checkLimit,
	"MAXTARGETS": checkLimit,
	"MODES":      checkLimit,
	"MONITOR":    checkLimit,
	"LINELEN":    checkLimit,
	"MAXLIST":    func(v string) error { _, err := parseMaxList(v); return err },
	"TARGMAX":    func(v string) error { _, err := parseTargMax(v); return err },
	"EXCEPTS":    checkModeChar,
	"INVEX":      checkModeChar,
	"BOT":        checkModeChar,
}

// checkLimit accepts an empty value (no limit) or a non-negative integer.
func checkLimit(v string) error {
	_, err := parseLimit(v)
	return err
}

func parseLimit(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || v[0] == '+' {
		return 0, errors.New("not a non-negative integer")
	}
	return n, nil
}

func checkModeChar(v string) error {
	if len(v) > 1 {
		return errors.New("not a single mode letter")
	}
	return nil
}

// limit returns the numeric value of token name, 0 for a token announced
// without a value, and def when the token is absent or malformed.
func (s *ISupport) limit(name string, def int) int {
	v, ok := s.tokens[name]
	if !ok {
		return def
	}
	n, err := parseLimit(v)
	if err != nil {
		return def
	}
	return n
}

// Casemap returns the mapping named by CASEMAPPING, [RFC1459] when the
// server sent none. A server that announces CASEMAPPING=ascii (or none)
// with UTF8MAPPING=rfc8265 maps non-ASCII names with PRECIS: that is
// [RFC7613]. ok is false when the server named a mapping this package
// does not implement; the result is then [ASCII], the part every mapping
// agrees on, and [ISupport.Get]("CASEMAPPING") has the name.
func (s *ISupport) Casemap() (c Casemap, ok bool) {
	v, present := s.tokens["CASEMAPPING"]
	if u, ok := s.tokens["UTF8MAPPING"]; ok && (!present || strings.EqualFold(v, "ascii")) {
		if cm, ok := CasemapByName(u); ok && cm == RFC7613 {
			return RFC7613, true
		}
	}
	if !present {
		return RFC1459, true
	}
	return CasemapByName(v)
}

// ChanTypes returns CHANTYPES, the characters that start a channel name.
// Default "#&" (RFC 1459); a CHANTYPES without a value means the server
// has no channels and gives "".
func (s *ISupport) ChanTypes() string {
	if v, ok := s.tokens["CHANTYPES"]; ok {
		return v
	}
	return "#&"
}

// IsChannel reports whether name starts with one of [ISupport.ChanTypes].
func (s *ISupport) IsChannel(name string) bool {
	return name != "" && strings.IndexByte(s.ChanTypes(), name[0]) >= 0
}

// ChanModes is the CHANMODES token: channel modes by the parameter they
// take. Prefix modes (op, voice) are not here but in [Prefix].
type ChanModes struct {
	// A are list modes (b, e, I): a parameter when set, when unset, and
	// none when asked for the list.
	A string
	// B always take a parameter (k).
	B string
	// C take a parameter when set and none when unset (l).
	C string
	// D never take a parameter (i, m, n, p, s, t).
	D string
}

// ChanModes returns CHANMODES; default "b,k,l,imnpst", the modes RFC 1459
// defines. Groups after the fourth, which the spec reserves, are ignored.
func (s *ISupport) ChanModes() ChanModes {
	if v, ok := s.tokens["CHANMODES"]; ok {
		if cm, err := parseChanModes(v); err == nil {
			return cm
		}
	}
	return ChanModes{A: "b", B: "k", C: "l", D: "imnpst"}
}

func parseChanModes(v string) (ChanModes, error) {
	var g [4]string
	for i := range g {
		var ok bool
		g[i], v, ok = strings.Cut(v, ",")
		if !ok && i < 3 {
			return ChanModes{}, errors.New("fewer than four groups")
		}
	}
	return ChanModes{A: g[0], B: g[1], C: g[2], D: g[3]}, nil
}

// Prefix is the PREFIX token: the channel membership modes, highest rank
// first, and the symbols that show them in NAMES and WHO replies, in the
// same order: Modes[i] is shown as Symbols[i].
type Prefix struct {
	Modes   string // "ov"
	Symbols string // "@+"
}

// Symbol returns the symbol of membership mode m, and false when m is not
// a prefix mode.
func (p Prefix) Symbol(m byte) (byte, bool) {
	if i := strings.IndexByte(p.Modes, m); i >= 0 {
		return p.Symbols[i], true
	}
	return 0, false
}

// Mode returns the membership mode shown by symbol sym, and false when
// sym is not a prefix symbol.
func (p Prefix) Mode(sym byte) (byte, bool) {
	if i := strings.IndexByte(p.Symbols, sym); i >= 0 {
		return p.Modes[i], true
	}
	return 0, false
}

// Split splits a NAMES entry into its leading prefix symbols (several
// with the multi-prefix capability) and the rest ("@+nick" -> "@+",
// "nick").
func (p Prefix) Split(name string) (symbols, rest string) {
	i := 0
	for i < len(name) && strings.IndexByte(p.Symbols, name[i]) >= 0 {
		i++
	}
	return name[:i], name[i:]
}

// Prefix returns PREFIX; default "(ov)@+" (RFC 1459). A PREFIX without a
// value means the server has no membership prefixes.
func (s *ISupport) Prefix() Prefix {
	if v, ok := s.tokens["PREFIX"]; ok {
		if p, err := parsePrefix(v); err == nil {
			return p
		}
	}
	return Prefix{Modes: "ov", Symbols: "@+"}
}

func parsePrefix(v string) (Prefix, error) {
	if v == "" {
		return Prefix{}, nil
	}
	rest, ok := strings.CutPrefix(v, "(")
	modes, symbols, ok2 := strings.Cut(rest, ")")
	if !ok || !ok2 || len(modes) != len(symbols) {
		return Prefix{}, errors.New(`not "(modes)symbols" of equal length`)
	}
	return Prefix{Modes: modes, Symbols: symbols}, nil
}

// StatusMsg returns STATUSMSG, the prefix symbols a client may put before
// a channel name to message only members of that rank ("@#chan"). Default
// "" (none).
func (s *ISupport) StatusMsg() string { return s.tokens["STATUSMSG"] }

// Network returns NETWORK, the network's name; "" when not announced.
func (s *ISupport) Network() string { return s.tokens["NETWORK"] }

// NickLen returns NICKLEN, the longest nick in bytes; default 9 (RFC 1459).
// 0 means the server announced no limit.
func (s *ISupport) NickLen() int { return s.limit("NICKLEN", 9) }

// ChannelLen returns CHANNELLEN, the longest channel name in bytes;
// default 200 (RFC 1459). 0 means no limit.
func (s *ISupport) ChannelLen() int { return s.limit("CHANNELLEN", 200) }

// TopicLen returns TOPICLEN, the longest topic in bytes; 0 (the default)
// means no limit beyond the line length.
func (s *ISupport) TopicLen() int { return s.limit("TOPICLEN", 0) }

// AwayLen returns AWAYLEN, the longest away message in bytes; 0 (the
// default) means no limit beyond the line length.
func (s *ISupport) AwayLen() int { return s.limit("AWAYLEN", 0) }

// KickLen returns KICKLEN, the longest kick reason in bytes; 0 (the
// default) means no limit beyond the line length.
func (s *ISupport) KickLen() int { return s.limit("KICKLEN", 0) }

// MaxTargets returns MAXTARGETS, the most targets one PRIVMSG or NOTICE may
// name; default 1, what every server takes, and 0 when the server
// announced MAXTARGETS without a limit. Newer servers announce TARGMAX
// instead, per command: see [ISupport.TargMax].
func (s *ISupport) MaxTargets() int { return s.limit("MAXTARGETS", 1) }

// Modes returns MODES, the most parameter-taking modes one MODE command
// may carry; default 3 (RFC 1459). 0 means no limit.
func (s *ISupport) Modes() int { return s.limit("MODES", 3) }

// LineLen returns LINELEN, the longest line in bytes with its CR LF and
// without tags; default 512 (RFC 1459).
func (s *ISupport) LineLen() int {
	if n := s.limit("LINELEN", 512); n > 0 {
		return n
	}
	return 512
}

// Monitor returns the MONITOR list limit. ok is false when the server does
// not support MONITOR; n is 0 when it supports it without a limit.
func (s *ISupport) Monitor() (n int, ok bool) {
	if _, ok := s.tokens["MONITOR"]; !ok {
		return 0, false
	}
	return s.limit("MONITOR", 0), true
}

// modeToken returns the mode letter of a token such as EXCEPTS, whose
// value defaults to def when empty.
func (s *ISupport) modeToken(name string, def byte) (byte, bool) {
	v, ok := s.tokens[name]
	if !ok || len(v) > 1 {
		return 0, false
	}
	if v == "" {
		return def, true
	}
	return v[0], true
}

// Excepts returns the ban-exception mode of EXCEPTS ('e' when announced
// without a value) and whether the server has ban exceptions.
func (s *ISupport) Excepts() (mode byte, ok bool) { return s.modeToken("EXCEPTS", 'e') }

// Invex returns the invite-exception mode of INVEX ('I' when announced
// without a value) and whether the server has invite exceptions.
func (s *ISupport) Invex() (mode byte, ok bool) { return s.modeToken("INVEX", 'I') }

// Bot returns the user mode of BOT that marks bots, and whether the server
// announced one.
func (s *ISupport) Bot() (mode byte, ok bool) {
	v, ok := s.tokens["BOT"]
	if !ok || len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

// UTF8Only reports whether the server announced UTF8ONLY: it refuses
// messages that are not valid UTF-8.
func (s *ISupport) UTF8Only() bool {
	_, ok := s.tokens["UTF8ONLY"]
	return ok
}

// ListLimit is one entry of MAXLIST: at most Limit entries in total over
// the list modes Modes.
type ListLimit struct {
	Modes string
	Limit int
}

// MaxList returns MAXLIST ("beI:100" -> {Modes: "beI", Limit: 100}); nil
// when the server sent none or a malformed one.
func (s *ISupport) MaxList() []ListLimit {
	l, _ := parseMaxList(s.tokens["MAXLIST"])
	return l
}

func parseMaxList(v string) ([]ListLimit, error) {
	if v == "" {
		return nil, nil
	}
	var out []ListLimit
	for part := range strings.SplitSeq(v, ",") {
		modes, n, ok := strings.Cut(part, ":")
		lim, err := parseLimit(n)
		if !ok || modes == "" || n == "" || err != nil {
			return nil, fmt.Errorf("entry %q is not modes:limit", part)
		}
		out = append(out, ListLimit{Modes: modes, Limit: lim})
	}
	return out, nil
}

// TargMax returns the TARGMAX limit for command (upper case, "PRIVMSG"):
// ok is false when TARGMAX does not list the command; n is 0 when it lists
// it without a limit.
func (s *ISupport) TargMax(command string) (n int, ok bool) {
	m, _ := parseTargMax(s.tokens["TARGMAX"])
	n, ok = m[command]
	return n, ok
}

func parseTargMax(v string) (map[string]int, error) {
	if v == "" {
		return nil, nil
	}
	m := make(map[string]int)
	for part := range strings.SplitSeq(v, ",") {
		cmd, n, ok := strings.Cut(part, ":")
		lim, err := parseLimit(n)
		if !ok || cmd == "" || err != nil {
			return nil, fmt.Errorf("entry %q is not COMMAND:[limit]", part)
		}
		m[strings.ToUpper(cmd)] = lim
	}
	return m, nil
}
