package ircmsg

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Defaults for the zero [Limits].
const (
	// DefaultTagBytes is IRCv3 message-tags' limit on the tag section:
	// "8191 bytes, including the leading '@' and trailing space".
	DefaultTagBytes = 8191
	// DefaultClientTagBytes is IRCv3 message-tags' 4094 bytes of tag data
	// a client may send, applied to client-only tags.
	DefaultClientTagBytes = 4094
	// DefaultBodyBytes is RFC 1459's 512 bytes per message, CR LF included.
	DefaultBodyBytes = 512
)

func limit(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func (l Limits) tagBytes() int       { return limit(l.TagBytes, DefaultTagBytes) }
func (l Limits) clientTagBytes() int { return limit(l.ClientTagBytes, DefaultClientTagBytes) }

// bodyMax is the longest body without CR LF, or -1 for no limit.
func (l Limits) bodyMax() int {
	n := limit(l.BodyBytes, DefaultBodyBytes)
	if n < 0 {
		return -1
	}
	return max(n-2, 0)
}

// linearTags is how many tags a parse or format checks for duplicates by a
// linear scan; past it a map keeps "thousands of tiny tags" linear.
const linearTags = 16

// Parse parses one line (without CR LF) with the default [Limits].
//
// It makes two allocations: the line's bytes and the Message with room for
// 4 parameters and 4 tags. More parameters or tags cost one more each.
func Parse(line []byte) (*Message, error) { return Limits{}.Parse(line) }

// Parse parses one line (without CR LF) into a new Message under the
// limits l. It costs what [Parse] costs.
func (l Limits) Parse(line []byte) (*Message, error) {
	m := newMessage()
	if err := l.ParseInto(m, line); err != nil {
		return nil, err
	}
	return m, nil
}

// ParseString parses one line (without CR LF) with the default [Limits]
// into a new Message, whose strings share line's memory: see
// [Limits.ParseStringInto] for when it copies.
func ParseString(line string) (*Message, error) {
	m := newMessage()
	if err := (Limits{}).ParseStringInto(m, line); err != nil {
		return nil, err
	}
	return m, nil
}

// msgBlock lets a new Message and the backing arrays of its usual Params and
// Tags share one allocation.
type msgBlock struct {
	m      Message
	params [4]string
	tags   [4]Tag
}

func newMessage() *Message {
	b := new(msgBlock)
	b.m.Params = b.params[:0]
	b.m.Tags = b.tags[:0]
	return &b.m
}

// ParseInto parses line into m under the limits l, reusing the capacity of
// m.Params and m.Tags. It does not keep line: it copies it once into a new
// buffer that the strings of m share (unescaped tag values and the
// uppercased command are rewritten in that copy). So a parse into a reused
// Message costs one allocation, and any string taken from m keeps that
// copy, at most one line, alive.
//
// The parse follows POE::Filter::IRCv3 and RFC 1459 where they are lenient:
// leading spaces and runs of spaces between parts are skipped, trailing
// spaces after the last middle parameter are ignored, TAB and other control
// bytes are ordinary, there is no limit on the number of parameters, and
// the command is uppercased (ASCII only) but otherwise not checked.
//
// It is strict where safety needs it, returning a *[ParseError]:
//   - an empty line ([ErrEmpty]);
//   - a CR, LF or NUL byte anywhere ([ErrBadByte]): the line filter has
//     already removed the line end, so such a byte is a framing bug or an
//     injection attempt, and refusing it means it can never be re-emitted;
//   - no command after the tags or the source, or only spaces
//     ([ErrNoCommand]); an empty source ": CMD" ([ErrEmptySource]); a
//     command starting with ':' or '@' ([ErrBadCommand]);
//   - a tag section, client-only tags or body past the limits l
//     ([ErrTagsTooLong], [ErrClientTagsTooLong], [ErrBodyTooLong]).
//
// Tags follow IRCv3 message-tags: values are unescaped, an empty value is
// the same as none, the last of duplicate keys wins (at the place of the
// first), and client-only tags ("+name") are kept. A tag whose key is not
// valid ([ValidTagKey]) is dropped, not an error: the spec forbids
// rejecting a message for an invalid key name, and dropping it keeps every
// parsed Message writable by [Format.Append]. Empty items (";;") are
// skipped.
//
// On error m is left empty (its capacity is kept).
func (l Limits) ParseInto(m *Message, line []byte) error {
	sp, err := l.precheck(line)
	if err != nil {
		m.reset()
		return err
	}
	arena := make([]byte, len(line))
	copy(arena, line)
	if err := l.parse(m, arena, sp, false, false); err != nil {
		m.reset()
		return parseErr(line, err.off, err.err)
	}
	return nil
}

// ParseOwnedInto is [Limits.ParseInto] for a line the caller gives away:
// m's strings share line's memory, and the parse may rewrite it in place
// (it uppercases the command and unescapes tag values there), so the
// caller must neither change nor reuse line afterwards. In exchange it
// makes no copy: a parse into a reused Message allocates nothing unless
// the line has more parameters or tags than m has room for.
//
// Use it for a line that is already the caller's own allocation, such as
// a copy made for several lines at once; a line in a read buffer that will
// be reused needs [Limits.ParseInto].
func (l Limits) ParseOwnedInto(m *Message, line []byte) error {
	sp, err := l.precheck(line)
	if err != nil {
		m.reset()
		return err
	}
	if err := l.parse(m, line, sp, false, false); err != nil {
		m.reset()
		return parseErr(line, err.off, err.err)
	}
	return nil
}

// ParseStringInto is [Limits.ParseInto] for a string line. Strings cannot
// change, so m's strings share line's memory: a line whose tag values
// have no escapes and whose command is uppercase parses into a reused
// Message with no allocation. Otherwise it costs what ParseInto costs (a
// copy of line), or one small allocation for a lowercase command.
func (l Limits) ParseStringInto(m *Message, line string) error {
	// precheck and parse only read the string's bytes unless told they
	// may write: the copy is made when an escape needs rewriting.
	view := unsafe.Slice(unsafe.StringData(line), len(line))
	sp, err := l.precheck(view)
	if err != nil {
		m.reset()
		return err
	}
	b, shared := view, true
	if sp >= 0 && bytes.IndexByte(view[:sp], '\\') >= 0 {
		b, shared = []byte(line), false
	}
	if err := l.parse(m, b, sp, shared, false); err != nil {
		m.reset()
		return parseErr(line, err.off, err.err)
	}
	return nil
}

// ParseString replaces m's contents with the parsed line, as [Message.Parse].
func (m *Message) ParseString(line string) error { return Limits{}.ParseStringInto(m, line) }

func (m *Message) reset() {
	// The whole capacity: a failed parse may have written past len.
	clear(m.Tags[:cap(m.Tags)])
	clear(m.Params[:cap(m.Params)])
	m.Tags = m.Tags[:0]
	m.Params = m.Params[:0]
	m.Source = ""
	m.Command = ""
}

// precheck applies the checks that need no parsing: emptiness, bad bytes,
// and the length limits, before any allocation. It returns the index of the
// space ending the tag section, or -1 when the line has no tags.
func (l Limits) precheck(line []byte) (int, error) {
	if len(line) == 0 {
		return -1, parseErr(line, 0, ErrEmpty)
	}
	if bad := indexBadByte(line); bad >= 0 {
		return -1, parseErr(line, bad, ErrBadByte)
	}
	sp, body := -1, 0
	if line[0] == '@' {
		tmax := l.tagBytes()
		sp = bytes.IndexByte(line, ' ')
		switch {
		case tmax >= 0 && (sp < 0 && len(line) > tmax || sp >= tmax):
			// sp+1 bytes with the space
			return -1, parseErr(line, tmax, ErrTagsTooLong)
		case sp < 0:
			return -1, parseErr(line, len(line), ErrNoCommand)
		}
		body = sp + 1
	}
	if bmax := l.bodyMax(); bmax >= 0 && len(line)-body > bmax {
		return -1, parseErr(line, body+bmax, ErrBodyTooLong)
	}
	return sp, nil
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// indexBadByte returns the index of the first CR, LF or NUL in b, or -1.
//
// One pass asks of every byte whether it is below 0x0E, as all three are:
// four words per step, their answers ORed together with no branch until
// the end. Only a line holding such a byte (TAB, CTCP's \x01 or mIRC
// formatting; most lines hold none) is then searched exactly. On the
// benchmark corpus this costs less than the three bytes.IndexByte passes,
// one per byte sought, that it replaced, and it keeps a word loop's cost on
// short lines.
func indexBadByte(b []byte) int {
	var a0, a1, a2, a3 uint64
	i := 0
	for ; i+32 <= len(b); i += 32 {
		t := b[i : i+32 : i+32]
		a0 |= lowBits(binary.LittleEndian.Uint64(t[0:]))
		a1 |= lowBits(binary.LittleEndian.Uint64(t[8:]))
		a2 |= lowBits(binary.LittleEndian.Uint64(t[16:]))
		a3 |= lowBits(binary.LittleEndian.Uint64(t[24:]))
	}
	for ; i+8 <= len(b); i += 8 {
		a0 |= lowBits(binary.LittleEndian.Uint64(b[i:]))
	}
	switch {
	case i == len(b):
	case len(b) >= 8:
		// The last eight bytes, some tested twice: cheaper than a loop.
		a1 |= lowBits(binary.LittleEndian.Uint64(b[len(b)-8:]))
	default:
		for ; i < len(b); i++ {
			if b[i] < 0x0E {
				a2 = msb
			}
		}
	}
	if (a0|a1|a2|a3)&msb == 0 {
		return -1
	}
	return indexBadByteExact(b)
}

// indexBadByteExact is indexBadByte's search once a low byte is seen: one
// bytes.IndexByte per byte sought, each bounded by the last one found.
// Apart, so that indexBadByte's word loop keeps its registers.
//
//go:noinline
func indexBadByteExact(b []byte) int {
	bad := -1
	for _, c := range [...]byte{'\r', '\n', 0} {
		if i := bytes.IndexByte(b, c); i >= 0 && (bad < 0 || i < bad) {
			bad = i
			b = b[:i]
		}
	}
	return bad
}

// lowBits sets the top bit of each byte of w that is below 0x0E, and
// perhaps of bytes above such a byte (a borrow), but of none when there is
// none. Its other bits are noise: callers OR words together and test the
// top bits once.
func lowBits(w uint64) uint64 { return (w - 0x0E*lsb) &^ w }

// vectorMin is the length from which scans use bytes.IndexByte rather than a
// word-at-a-time loop. On the benchmark corpus the two cost about the same
// on average; the vector loop pulls ahead on lines near 510 bytes.
const vectorMin = 64

type offErr struct {
	off int
	err error
}

// str returns b[i:j] as a string sharing b's memory. The parser never
// writes to a range after making a string of it, and never reuses b.
func str(b []byte, i, j int) string {
	if i >= j {
		return ""
	}
	return unsafe.String(&b[i], j-i)
}

func skipSpaces(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

// indexSpace returns the index of the first space at or after i, or len(b).
//
// It tests eight bytes per step with one word operation: sources and
// middle parameters are mostly 4 to 40 bytes, too short for
// bytes.IndexByte's call and set-up to pay, too long for a byte loop to be
// cheap. The last partial word is read as the line's last eight bytes,
// shifted past what was already tested, so no byte loop remains unless
// the whole line is shorter than a word.
func indexSpace(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if t := spaceBits(binary.LittleEndian.Uint64(b[i:])); t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
	}
	if i >= len(b) {
		return len(b)
	}
	if len(b) >= 8 {
		// The bytes above the line end shift in as zeros, never spaces.
		shift := uint(8-(len(b)-i)) * 8
		if t := spaceBits(binary.LittleEndian.Uint64(b[len(b)-8:]) >> shift); t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
		return len(b)
	}
	for i < len(b) && b[i] != ' ' {
		i++
	}
	return i
}

// spaceBits flags the bytes of w that are spaces, the lowest flag exactly:
// a borrow only spoils the bytes above the first space.
func spaceBits(w uint64) uint64 {
	x := w ^ (' ' * lsb)
	return (x - lsb) &^ x & msb
}

// parse parses b, a line that passed precheck; sp is the end of the tag
// section or -1. b is the parse's own unless shared, in which case b must
// not be written: its tag section has no escapes, and a lowercase command
// is uppercased into a new string.
//
// Entries of m.Tags and m.Params past their new lengths are cleared, so
// that a reused Message does not keep the memory of older lines alive,
// unless keepStale: a [Parser]'s Message points into the Parser's one
// buffer, which it keeps alive anyway, and leaving the stale entries saves
// a clear (and its write barriers) per line and lets appendTag find the
// keys it would store already in place.
func (l Limits) parse(m *Message, b []byte, sp int, shared, keepStale bool) *offErr {
	oldTags, oldParams := len(m.Tags), len(m.Params)
	tags := m.Tags[:0]
	i := 0
	if sp >= 0 {
		var e *offErr
		if tags, e = l.parseTags(tags, b, sp); e != nil {
			m.Tags = tags
			return e
		}
		i = sp + 1
	}
	if oldTags > len(tags) && !keepStale {
		clear(tags[len(tags):oldTags])
	}
	setTags(m, tags)

	i = skipSpaces(b, i)
	source := ""
	if i < len(b) && b[i] == ':' {
		j := indexSpace(b, i)
		if j == len(b) {
			return &offErr{len(b), ErrNoCommand}
		}
		if j == i+1 {
			return &offErr{i, ErrEmptySource}
		}
		source = str(b, i+1, j)
		i = skipSpaces(b, j)
	}
	m.Source = source

	if i == len(b) {
		return &offErr{i, ErrNoCommand}
	}
	if b[i] == ':' || b[i] == '@' {
		return &offErr{i, ErrBadCommand}
	}
	j := indexSpace(b, i)
	if c := command(b, i, j, shared); !sameString(m.Command, c) {
		m.Command = c // see setTags for why not always
	}
	i = j

	params := m.Params[:0]
	for {
		i = skipSpaces(b, i)
		if i == len(b) {
			break
		}
		if b[i] == ':' {
			params = append(params, str(b, i+1, len(b)))
			break
		}
		j := indexSpace(b, i)
		params = append(params, str(b, i, j))
		i = j
	}
	if oldParams > len(params) && !keepStale {
		clear(params[len(params):oldParams])
	}
	if cap(params) == cap(m.Params) {
		m.Params = m.Params[:len(params)] // see setTags
	} else {
		m.Params = params
	}
	return nil
}

// sameString reports whether a and b are the same string in memory, not
// just equal: only then may a be kept in place of b.
func sameString(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// command uppercases the command b[i:j] in place (into a new string if b
// is shared) and returns it: for the commands most lines carry, as a
// constant rather than a string of the line, which a Message parsing a run
// of them then need not store again (see setTags).
func command(b []byte, i, j int, shared bool) string {
	for k := i; k < j; k++ {
		if c := b[k]; 'a' <= c && c <= 'z' {
			if shared {
				own := make([]byte, j-i)
				copy(own, b[i:j])
				return command(own, 0, j-i, false)
			}
			b[k] = c - ('a' - 'A')
		}
	}
	switch string(b[i:j]) {
	case "PRIVMSG":
		return "PRIVMSG"
	case "NOTICE":
		return "NOTICE"
	case "TAGMSG":
		return "TAGMSG"
	case "JOIN":
		return "JOIN"
	case "PART":
		return "PART"
	case "QUIT":
		return "QUIT"
	case "MODE":
		return "MODE"
	case "NICK":
		return "NICK"
	case "PING":
		return "PING"
	case "PONG":
		return "PONG"
	}
	return str(b, i, j)
}

// setTags stores tags, a reslice of m.Tags or a grown copy of it, in m.
//
// The write barrier: while the garbage collector marks, every pointer
// stored into the heap is queued for it, and on the benchmark corpus
// those queues cost more than any step of the parse. Reslicing m.Tags in
// place stores no pointer (the compiler updates the length only), where
// assigning the slice would store its array's pointer again.
func setTags(m *Message, tags []Tag) {
	if cap(tags) == cap(m.Tags) {
		m.Tags = m.Tags[:len(tags)]
	} else {
		m.Tags = tags
	}
}

// valueEnd returns the index of the first ';' in b at or after i, or
// len(b), and whether a backslash may lie before it (it may also report one
// just after, which only costs a needless unescape). Tag values are most of
// a tag section, so it reads eight bytes per step.
func valueEnd(b []byte, i int) (end int, esc bool) {
	for ; i+8 <= len(b); i += 8 {
		t := b[i : i+8]
		w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		if x := w ^ ('\\' * lsb); (x-lsb)&^x&msb != 0 {
			esc = true
		}
		// The lowest flagged byte of this test is exact: a borrow only
		// spoils the bytes above the first match.
		if x := w ^ (';' * lsb); (x-lsb)&^x&msb != 0 {
			return i + bits.TrailingZeros64((x-lsb)&^x&msb)/8, esc
		}
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ';':
			return i, esc
		case '\\':
			esc = true
		}
	}
	return len(b), esc
}

// appendTag appends a tag to tags. Where the slot it reuses already holds
// the same key string (a [knownKey] constant, as the previous message
// parsed into the same Message mostly had), the key is not stored again:
// that saves a write barrier (see setTags).
func appendTag(tags []Tag, key, value string) []Tag {
	if len(tags) == cap(tags) {
		return append(tags, Tag{Key: key, Value: value})
	}
	tags = tags[:len(tags)+1]
	t := &tags[len(tags)-1]
	if !sameString(t.Key, key) {
		t.Key = key
	}
	t.Value = value
	return tags
}

// knownKey returns the key that t, a tag item and what follows it in the
// tag section, begins with if that is one of the keys most lines carry
// (IRCv3 server-time, message-ids, account-tag, batch, labeled-response
// and reply), or "". Such a key needs no scan and no check, and its Key is
// this constant rather than a string of the line.
func knownKey(t []byte) string {
	if len(t) == 0 {
		return ""
	}
	switch t[0] {
	case 't':
		if isKey(t, "time") {
			return "time"
		}
	case 'm':
		if isKey(t, "msgid") {
			return "msgid"
		}
	case 'a':
		if isKey(t, "account") {
			return "account"
		}
	case 'b':
		if isKey(t, "batch") {
			return "batch"
		}
	case 'l':
		if isKey(t, "label") {
			return "label"
		}
	case '+':
		if isKey(t, "+draft/reply") {
			return "+draft/reply"
		}
	}
	return ""
}

// isKey reports whether t begins with the whole key k.
func isKey(t []byte, k string) bool {
	return len(t) >= len(k) && string(t[:len(k)]) == k &&
		(len(t) == len(k) || t[len(k)] == '=' || t[len(k)] == ';')
}

// parseTags parses the tag section b[1:sp] into tags, unescaping values in
// place.
func (l Limits) parseTags(tags []Tag, b []byte, sp int) ([]Tag, *offErr) {
	clientMax := l.clientTagBytes()
	client := -1 // bytes of client-only tag data, as if joined by ';'
	var index map[string]int
	for i := 1; i < sp; {
		// The key runs to '=', ';' or the end; a value to ';' or the end.
		key, keyEnd, validKey := knownKey(b[i:sp]), 0, true
		if key != "" {
			keyEnd = i + len(key)
		} else {
			keyEnd, validKey = scanKey(b[:sp], i)
		}
		end, esc := keyEnd, false
		if keyEnd < sp && b[keyEnd] == '=' {
			end, esc = valueEnd(b[:sp], keyEnd+1)
		}
		next := end + 1
		if end == i {
			i = next // empty item
			continue
		}
		if b[i] == '+' && clientMax >= 0 {
			client += end - i + 1
			if client > clientMax {
				return tags, &offErr{end, ErrClientTagsTooLong}
			}
		}
		if key == "" {
			key = str(b, i, keyEnd)
		}
		i = next
		if !validKey {
			continue
		}
		value := ""
		if keyEnd < end {
			n := end - keyEnd - 1
			if esc {
				n = unescapeInPlace(b[keyEnd+1 : end])
			}
			value = str(b, keyEnd+1, keyEnd+1+n)
		}

		// Last wins, at the place of the first.
		if index == nil {
			dup := false
			for k := range tags {
				if tags[k].Key == key {
					tags[k].Value = value
					dup = true
					break
				}
			}
			if dup {
				continue
			}
			if len(tags) == linearTags {
				// Sized for every item left, so it never grows.
				index = make(map[string]int, linearTags+1+bytes.Count(b[min(i, sp):sp], []byte{';'}))
				for k, t := range tags {
					index[t.Key] = k
				}
			}
		}
		if index != nil {
			if k, ok := index[key]; ok {
				tags[k].Value = value
				continue
			}
			index[key] = len(tags)
		}
		tags = appendTag(tags, key, value)
	}
	return tags, nil
}
