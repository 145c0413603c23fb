package ircmsg

// API skeleton: the ircmsg helper replaces every TODO body. The exported
// names and signatures below are what filter, sock, the backend and
// cmd/ircsock code against; change them only together with their callers.

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
// the IRCv3 defaults; a negative field means no limit.
type Limits struct {
	// TagBytes is the longest tag section, with its '@' and trailing
	// space. Zero means 8191 (IRCv3 message-tags).
	TagBytes int
	// ClientTagBytes is the most bytes of client-only tags ("+name") a
	// message may carry, counted as IRCv3 counts them. Zero means 4094.
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
	Limits   Limits
}

// Parse parses one line (without CR LF) with the default [Limits].
func Parse(line []byte) (*Message, error) {
	m := new(Message)
	if err := m.Parse(line); err != nil {
		return nil, err
	}
	return m, nil
}

// ParseString parses one line (without CR LF) with the default [Limits].
func ParseString(line string) (*Message, error) { panic("TODO") }

// Parse replaces m's contents with the parsed line, reusing m's slices.
func (m *Message) Parse(line []byte) error { return Limits{}.ParseInto(m, line) }

// ParseInto parses line into m under the limits l.
func (l Limits) ParseInto(m *Message, line []byte) error { panic("TODO") }

// AppendTo appends m's wire form (without CR LF) to dst with the zero
// [Format].
func (m *Message) AppendTo(dst []byte) ([]byte, error) { return Format{}.Append(dst, m) }

// Append appends m's wire form (without CR LF) to dst.
func (f Format) Append(dst []byte, m *Message) ([]byte, error) { panic("TODO") }

// Tag returns the value of the tag key and whether it is present.
func (m *Message) Tag(key string) (value string, ok bool) { panic("TODO") }

// SetTag sets the tag key to value, keeping its place if present, else
// adding it at the end.
func (m *Message) SetTag(key, value string) { panic("TODO") }

// DeleteTag removes the tag key, keeping the order of the others.
func (m *Message) DeleteTag(key string) { panic("TODO") }

// SplitSource splits a source "nick!user@host" into its parts; a missing
// part is empty.
func SplitSource(source string) (nick, user, host string) { panic("TODO") }
