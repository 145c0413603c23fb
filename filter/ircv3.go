package filter

import "github.com/ircsock/ircsock/ircmsg"

// IRCv3 converts between lines and [*ircmsg.Message] values: the job of
// POE::Filter::IRCv3. It is not a [Filter] layer but the codec on top of a
// byte [Stack] (see the package documentation for why): a [MessageReader]
// decodes each record of the Stack with it, and a [MessageWriter] encodes
// each message into a record.
//
// The zero value parses and formats with the default [ircmsg.Limits] and
// without colonify. An IRCv3 value holds no state, so one may be shared by
// any number of goroutines.
type IRCv3 struct {
	// Format sets the limits for both directions and whether the last
	// parameter always gets a ':' on output (Colonify, which the original
	// server-side backend turns on).
	Format ircmsg.Format
}

// Decode parses one line (without its terminator) into a new message. A
// malformed line is a per-record error: a [*RecordError] wrapping the
// [ircmsg] parse error; the stream goes on with the next line.
func (c IRCv3) Decode(line []byte) (*ircmsg.Message, error) {
	// Limits.Parse allocates the Message with room for its usual
	// parameters and tags; growing them from nil would cost more.
	m, err := c.Format.Limits.Parse(line)
	if err != nil {
		return nil, &RecordError{Err: err}
	}
	return m, nil
}

// DecodeInto parses line into m, reusing m's slices, so that a reader that
// handles one message at a time allocates little. Errors are as for
// [IRCv3.Decode]; on error m's contents are unspecified.
func (c IRCv3) DecodeInto(m *ircmsg.Message, line []byte) error {
	if err := c.Format.Limits.ParseInto(m, line); err != nil {
		return &RecordError{Err: err}
	}
	return nil
}

// Encode appends m's wire form (without CR LF: the [Line] below adds it) to
// dst. A message that cannot be written safely (CR, LF or NUL inside, a
// space in a middle parameter, a limit exceeded) is refused with a
// [*RecordError] wrapping the [ircmsg] error, and dst is returned
// unchanged.
func (c IRCv3) Encode(dst []byte, m *ircmsg.Message) ([]byte, error) {
	out, err := c.Format.Append(dst, m)
	if err != nil {
		return dst, &RecordError{Err: err}
	}
	return out, nil
}
