package ircmsg

import "strings"

// The exported names and signatures below are what filter, sock, the
// backend and cmd/ircsock code against; change them only together with
// their callers.

// A Tag is one IRCv3 message tag. An empty Value and no value are the same
// (IRCv3 message-tags).
type Tag struct {
	Key   string
	Value string
}

// A Message is one IRC message: tags, source, command and parameters.
// The zero value is an empty message (not valid to format: no command).
type Message struct {
	// Tags in deterministic order: as parsed, or as set. Keys are unique.
	Tags []Tag
	// Source is the prefix without its ':' ("nick!user@host" or a server
	// name); empty when absent.
	Source string
	// Command is the command or three-digit numeric, uppercased on parse.
	Command string
	// Params are the parameters; only the last may contain a space or start
	// with ':' or be empty.
	Params []string
}

// Limits bounds what Parse accepts and Format writes. The zero value means
// the IRCv3 defaults; a negative field means no limit. Exceeding a limit is
// an error ([ErrTagsTooLong], [ErrClientTagsTooLong], [ErrBodyTooLong]),
// never a silent truncation.
type Limits struct {
	// TagBytes is the longest tag section, with its '@' and trailing
	// space. Zero means 8191 (IRCv3 message-tags).
	TagBytes int
	// ClientTagBytes is the most bytes of client-only tags ("+name") a
	// message may carry, counted as IRCv3 counts them. Zero means 4094.
	// The count is of tag data: the client-only items in wire form
	// ("+key=escaped value") and the ';' between them, without '@' and
	// the trailing space.
	ClientTagBytes int
	// BodyBytes is the longest message without its tags, CRLF included.
	// Zero means 512 (RFC 1459).
	BodyBytes int
}

// Format controls how a Message is written.
type Format struct {
	// Colonify puts ':' before the last parameter even when it is not
	// needed (POE::Filter::IRCv3's colonify, which servers usually want).
	Colonify bool
	// Limits bounds what Append writes; the zero value means the IRCv3
	// defaults.
	Limits Limits
}

// Parse replaces m's contents with the parsed line, reusing m's slices, with
// the default [Limits]; see [Limits.ParseInto].
func (m *Message) Parse(line []byte) error { return Limits{}.ParseInto(m, line) }

// AppendTo appends m's wire form (without CR LF) to dst with the zero
// [Format].
func (m *Message) AppendTo(dst []byte) ([]byte, error) { return Format{}.Append(dst, m) }

// SplitSource splits a source "nick!user@host" into its parts; a missing
// part is empty.
//
// The host is everything after the first '@', the user what lies between
// the first '!' before it and the '@' (ircdocs parser-tests
// userhost-split): "nick@host" has no user and "nick!user" no host.
func SplitSource(source string) (nick, user, host string) {
	nick = source
	if at := strings.IndexByte(source, '@'); at >= 0 {
		nick, host = source[:at], source[at+1:]
	}
	if bang := strings.IndexByte(nick, '!'); bang >= 0 {
		nick, user = nick[:bang], nick[bang+1:]
	}
	return nick, user, host
}
