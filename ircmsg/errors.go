package ircmsg

import (
	"errors"
	"strconv"
)

// Every error of this package is per-record: a line that fails to parse or a
// message that fails to format says nothing about the lines around it, so a
// stream carries on with the next record.
var (
	// ErrEmpty reports an empty line.
	ErrEmpty = errors.New("ircmsg: empty line")
	// ErrNoCommand reports a line without a command: only spaces, a tag
	// section with nothing after it, or a source with nothing after it.
	ErrNoCommand = errors.New("ircmsg: no command")
	// ErrEmptySource reports a ':' that starts a source with no bytes
	// before the next space (": CMD").
	ErrEmptySource = errors.New("ircmsg: empty source")
	// ErrBadCommand reports a command that starts with ':' or '@' (on
	// input, a second source or tag section), or, when formatting, an
	// empty command or one containing a space.
	ErrBadCommand = errors.New("ircmsg: invalid command")
	// ErrBadByte reports a CR, LF or NUL byte. On input it can only come
	// from a framing bug or a hostile peer; on output it would split the
	// line or be cut by the receiver, so it is never written.
	ErrBadByte = errors.New("ircmsg: CR, LF or NUL byte")
	// ErrTagsTooLong reports a tag section longer than [Limits.TagBytes].
	ErrTagsTooLong = errors.New("ircmsg: tag section too long")
	// ErrClientTagsTooLong reports client-only tags longer than
	// [Limits.ClientTagBytes].
	ErrClientTagsTooLong = errors.New("ircmsg: client-only tags too long")
	// ErrBodyTooLong reports a message (without its tags) longer than
	// [Limits.BodyBytes].
	ErrBodyTooLong = errors.New("ircmsg: message too long")
	// ErrBadParam reports, when formatting, a parameter other than the
	// last that is empty, contains a space or starts with ':'.
	ErrBadParam = errors.New("ircmsg: invalid middle parameter")
	// ErrBadSource reports, when formatting, a source containing a space.
	ErrBadSource = errors.New("ircmsg: invalid source")
	// ErrBadTagKey reports, when formatting, a tag key that IRCv3
	// message-tags does not allow (see [ValidTagKey]).
	ErrBadTagKey = errors.New("ircmsg: invalid tag key")
	// ErrDuplicateTag reports, when formatting, a tag key that appears
	// twice in [Message.Tags]: a receiver would keep only the last.
	ErrDuplicateTag = errors.New("ircmsg: duplicate tag key")
)

// maxErrLine bounds the copy of the input kept in a [ParseError], so an
// error about a huge line does not pin a huge string.
const maxErrLine = 1024

// A ParseError says why and where a line failed to parse.
type ParseError struct {
	// Line is the input line, cut to its first 1024 bytes.
	Line string
	// Offset is the byte offset in the input where the problem was found.
	Offset int
	// Err is one of the package's sentinels: ErrEmpty, ErrNoCommand,
	// ErrEmptySource, ErrBadCommand, ErrBadByte, ErrTagsTooLong,
	// ErrClientTagsTooLong or ErrBodyTooLong.
	Err error
}

func (e *ParseError) Error() string {
	line := e.Line
	if len(line) > 64 {
		line = line[:64] + "..."
	}
	return e.Err.Error() + " at offset " + strconv.Itoa(e.Offset) + " of " + strconv.Quote(line)
}

// Unwrap returns the sentinel, for [errors.Is].
func (e *ParseError) Unwrap() error { return e.Err }

func parseErr[T []byte | string](line T, off int, err error) *ParseError {
	if len(line) > maxErrLine {
		line = line[:maxErrLine]
	}
	return &ParseError{Line: string(line), Offset: off, Err: err}
}

// A FormatError says which part of a [Message] could not be written.
type FormatError struct {
	// Field is "tag", "source", "command", "param" or, for a limit that
	// spans several fields, "tags" or "message".
	Field string
	// Index is the position in Message.Tags or Message.Params for the
	// fields "tag" and "param", else 0.
	Index int
	// Err is one of the package's sentinels: ErrBadByte, ErrBadTagKey,
	// ErrDuplicateTag, ErrBadSource, ErrBadCommand, ErrBadParam,
	// ErrTagsTooLong, ErrClientTagsTooLong or ErrBodyTooLong.
	Err error
}

func (e *FormatError) Error() string {
	s := e.Err.Error() + " (" + e.Field
	if e.Field == "tag" || e.Field == "param" {
		s += " " + strconv.Itoa(e.Index)
	}
	return s + ")"
}

// Unwrap returns the sentinel, for [errors.Is].
func (e *FormatError) Unwrap() error { return e.Err }
