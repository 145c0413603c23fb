package ircmsg

// A Parser parses lines from a buffer the caller reuses, such as a read
// buffer, without allocating: it copies each line into a buffer of its own,
// which it reuses for the next line, and parses the copy in place.
//
// The price is plain: the strings of a Message filled by [Parser.Parse]
// share the Parser's buffer, so they are valid only until the next call to
// Parse on the same Parser, which overwrites them. A caller that keeps a
// Message, or any string of it, past that point keeps a copy made with
// [Message.DeepClone] (or [strings.Clone] for one string). Where messages
// are kept, [Limits.ParseInto] is the right call: it copies each line into
// memory of its own that no later parse touches, for one allocation a line.
//
// The zero value parses with the default [Limits]. The buffer grows to the
// longest line parsed so far, which the Limits bound (8,701 bytes by
// default) unless a limit is negative. A Parser is used by one goroutine
// at a time, and not copied once used: a copy would share its buffer.
type Parser struct {
	// Limits bounds what Parse accepts, as for [Limits.ParseInto].
	Limits Limits

	buf []byte
}

// Parse parses line (without CR LF) into m, reusing the capacity of
// m.Params and m.Tags, with the rules and errors of [Limits.ParseInto].
// It does not keep line and never writes to it: the caller may reuse line
// as soon as Parse returns. m's strings are valid until the next call to
// Parse on p (see [Parser]).
//
// Once p's buffer has grown to the line's length and m has room for the
// line's parameters and tags, Parse allocates nothing. On error m is left
// empty (its capacity is kept).
func (p *Parser) Parse(m *Message, line []byte) error {
	l := p.Limits
	sp, err := l.precheck(line)
	if err != nil {
		m.reset()
		return err
	}
	// m may hold strings of the buffer from the last parse; they are
	// overwritten here, as the documentation says.
	p.buf = append(p.buf[:0], line...)
	if err := l.parse(m, p.buf, sp, false, true); err != nil {
		m.reset()
		return parseErr(line, err.off, err.err)
	}
	return nil
}

// DeepClone returns a copy of m that shares no memory with it, strings
// included: they are copied into one new buffer. It is how a Message
// filled by [Parser.Parse] outlives the next parse. ([Message.Clone]
// shares the strings, which is enough for a Message whose strings are its
// own.)
func (m *Message) DeepClone() *Message {
	n := len(m.Source) + len(m.Command)
	for _, t := range m.Tags {
		n += len(t.Key) + len(t.Value)
	}
	for _, s := range m.Params {
		n += len(s)
	}
	buf := make([]byte, 0, n)
	take := func(s string) string {
		if s == "" {
			return ""
		}
		i := len(buf)
		buf = append(buf, s...)
		return str(buf, i, len(buf))
	}
	c := &Message{Source: take(m.Source), Command: take(m.Command)}
	if m.Tags != nil {
		c.Tags = make([]Tag, len(m.Tags))
		for i, t := range m.Tags {
			c.Tags[i] = Tag{Key: take(t.Key), Value: take(t.Value)}
		}
	}
	if m.Params != nil {
		c.Params = make([]string, len(m.Params))
		for i, s := range m.Params {
			c.Params[i] = take(s)
		}
	}
	return c
}
