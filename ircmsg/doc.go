// Package ircmsg parses and formats IRC messages (RFC 1459 framing with
// IRCv3 message tags). It does no I/O: the filter package frames lines and
// hands them here.
//
// A [Message] holds [Tag]s in a deterministic order, a source, a command
// and parameters. [Parse], [ParseString] and [Message.Parse] read one line
// without its CR LF; [Limits.ParseInto] does the same under chosen
// [Limits] and, with a reused Message, costs one allocation per line, a
// copy of the line that no later parse touches. A [Parser] parses lines
// from a reused buffer with no allocation at all: it copies each line into
// a buffer of its own that it reuses, so the Message's strings are valid
// only until its next parse ([Message.DeepClone] keeps one).
// [Limits.ParseOwnedInto] parses in place a line the caller gives away.
// [Format.Append] and [Message.AppendTo] write a Message into a caller's
// buffer without allocating, refusing anything that would not read back as
// the same message; [Format.Truncate] shortens the last parameter of one
// that is too long. [Message.Tag], [Message.SetTag] and [Message.DeleteTag]
// edit tags in place; [SplitSource] splits "nick!user@host"; [ValidTagKey]
// checks a key against IRCv3 message-tags.
//
// Errors are a *[ParseError] (what and at which byte offset) or a
// *[FormatError] (which field), each wrapping one sentinel such as
// [ErrNoCommand] or [ErrBodyTooLong]. Every error concerns one message
// only: a stream carries on with the next.
//
// Compared with POE::Filter::IRCv3 this package fixes, on purpose: tag
// escaping ("\\" is written for a backslash, "\a" reads as "a", a lone
// trailing backslash is dropped, a value keeps everything after its first
// '='), random tag order, lost empty last parameters, and CR, LF or NUL
// passing through in either direction.
package ircmsg
