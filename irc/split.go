package irc

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ircsock/ircsock/ircmsg"
)

// DefaultSourceLen is the source length a [Splitter] reserves when it is
// not told the sender's source: a 30-byte nick, a 10-byte user name and a
// 63-byte host with the '!' and '@' between them, a source longer than
// most networks allow.
const DefaultSourceLen = 30 + 1 + 10 + 1 + 63

// ErrSplitNoRoom is returned by [Splitter.Split] when the line has no
// room for the text: the command, target and source alone fill the line
// length, or a piece that cannot be broken (one character, one formatting
// code, a CTCP command) does not fit. Per call.
var ErrSplitNoRoom = errors.New("irc: no room for the text in one line")

// A Splitter cuts long PRIVMSG and NOTICE texts into pieces that each fit
// one line as the receiver sees it: the server prepends the sender's full
// source (":nick!user@host "), and the whole line, CR LF included, must fit
// LineLen bytes (512 in RFC 1459; tags have their own budget and do not
// count).
//
// Pieces end at a space where one is in reach (the space stays at the end
// of the piece), and otherwise at a character boundary; a piece never ends
// inside a UTF-8 sequence or a formatting code (\x03 colours with their
// digits, \x04 hex colours), and never splits a CTCP frame: a text that is
// one frame (an ACTION, say) is cut into several frames of the same
// command. Joining the pieces (or, for a frame, the parameters of the
// pieces) gives the text back byte for byte.
//
// The zero value splits for 512-byte lines and a source of
// [DefaultSourceLen] bytes.
type Splitter struct {
	// Source is the sender's full source as the server will prepend it
	// ("nick!user@host"). Empty means unknown: [DefaultSourceLen] bytes
	// are reserved.
	Source string
	// LineLen is the longest line, CR LF included and tags excluded.
	// Zero or negative means 512 (RFC 1459; ISUPPORT LINELEN when a server
	// announces more, see [ISupport.LineLen]).
	LineLen int
}

// room is how many bytes of text fit after "command target :".
func (s Splitter) room(command, target string) int {
	lineLen := s.LineLen
	if lineLen <= 0 {
		lineLen = 512
	}
	src := len(s.Source)
	if s.Source == "" {
		src = DefaultSourceLen
	}
	// ":" source " " command " " target " :" text "\r\n"
	return lineLen - (1 + src + 1) - len(command) - 1 - len(target) - 2 - 2
}

// Split cuts text into pieces that each fit one command (PRIVMSG or
// NOTICE) line to target. An empty text gives no pieces. A text
// containing CR, LF or NUL, which no line can carry, gives an error
// wrapping [ircmsg.ErrBadByte]; one the line has no room for gives
// [ErrSplitNoRoom].
func (s Splitter) Split(command, target, text string) ([]string, error) {
	if i := strings.IndexAny(text, "\r\n\x00"); i >= 0 {
		return nil, fmt.Errorf("irc: split: byte %d of the text: %w", i, ircmsg.ErrBadByte)
	}
	room := s.room(command, target)
	if text == "" {
		return nil, nil
	}
	if c, ok := ParseCTCP(text); ok && text[len(text)-1] == ctcpDelim && len(text) > room {
		// One frame: cut its parameters, wrap every piece in the frame.
		frame := len(c.Command) + 3 // \x01 COMMAND space ... \x01
		if c.Params == "" {
			return nil, fmt.Errorf("%w: CTCP %s alone is longer than %d bytes", ErrSplitNoRoom, c.Command, max(room, 0))
		}
		pieces, err := splitText(c.Params, room-frame)
		if err != nil {
			return nil, err
		}
		for i, p := range pieces {
			pieces[i] = "\x01" + c.Command + " " + p + "\x01"
		}
		return pieces, nil
	}
	return splitText(text, room)
}

// SplitMessage splits a PRIVMSG or NOTICE m (target and text) into
// messages of one piece each, with m's tags and source copied to each; see
// [Splitter.Split]. Any other message is returned as it is, alone.
func (s Splitter) SplitMessage(m *ircmsg.Message) ([]*ircmsg.Message, error) {
	if (m.Command != "PRIVMSG" && m.Command != "NOTICE") || len(m.Params) != 2 {
		return []*ircmsg.Message{m}, nil
	}
	pieces, err := s.Split(m.Command, m.Params[0], m.Params[1])
	if err != nil {
		return nil, err
	}
	out := make([]*ircmsg.Message, len(pieces))
	for i, p := range pieces {
		out[i] = &ircmsg.Message{Tags: m.Tags, Source: m.Source, Command: m.Command, Params: []string{m.Params[0], p}}
	}
	return out, nil
}

// splitText cuts text at atom boundaries into pieces of at most room
// bytes, ending pieces after the last space in reach when there is one.
func splitText(text string, room int) ([]string, error) {
	var pieces []string
	for len(text) > room {
		cut, space := 0, 0
		for i := 0; i < len(text); {
			n := atomLen(text, i)
			if i+n > room {
				break
			}
			i += n
			cut = i
			if text[i-1] == ' ' {
				space = i
			}
		}
		if space > 0 {
			cut = space
		}
		if cut == 0 {
			return nil, fmt.Errorf("%w: %d bytes of room", ErrSplitNoRoom, max(room, 0))
		}
		pieces = append(pieces, text[:cut])
		text = text[cut:]
	}
	if text != "" {
		pieces = append(pieces, text)
	}
	return pieces, nil
}

// atomLen is the length of the unit of text at s[i] that a split must not
// cut: a formatting code with its arguments, or one UTF-8 sequence (one
// byte for an invalid one).
func atomLen(s string, i int) int {
	if n := codeLen(s, i); n > 0 {
		return n
	}
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}
