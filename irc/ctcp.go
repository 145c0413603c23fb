package irc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ircsock/ircsock/ircmsg"
)

// ctcpDelim starts and ends a CTCP frame.
const ctcpDelim = '\x01'

// ErrCTCPInvalid is returned when a CTCP cannot be written: an empty
// command, a command containing a space, or a command or parameters
// containing \x01, CR, LF or NUL (bytes the frame or the IRC line cannot
// carry). Per call.
var ErrCTCPInvalid = errors.New("irc: invalid CTCP")

// A CTCP is one Client-to-Client Protocol frame: the body of a PRIVMSG
// (a query, or an extended-formatting message such as ACTION) or of a
// NOTICE (a reply), written "\x01COMMAND params\x01".
type CTCP struct {
	// Command is the CTCP command ("VERSION", "ACTION"), as sent: CTCP
	// commands are case-sensitive, and all defined ones are upper case.
	Command string
	// Params is everything after the first space, "" when there is none.
	Params string
}

// ParseCTCP reads a PRIVMSG or NOTICE body as a CTCP frame, following the
// ircdocs CTCP document: the whole body is the frame, "\x01" command
// [" " params] ["\x01"]. A missing final \x01 is accepted (it is what
// clients that split messages badly send, mostly for ACTION). ok is false
// for a body that is not a frame: one that does not start with \x01, or
// that has no command ("\x01", "\x01\x01", "\x01 text\x01"); such a body is
// plain text. So is a body with bytes after the final \x01, which the
// document's grammar has no place for: reading it as a frame would lose
// them. (The 1994 format, where frames and text interleave, is
// [ParseCTCPOld].)
func ParseCTCP(text string) (c CTCP, ok bool) {
	if len(text) < 2 || text[0] != ctcpDelim {
		return CTCP{}, false
	}
	body := text[1:]
	if i := strings.IndexByte(body, ctcpDelim); i >= 0 {
		if i != len(body)-1 {
			return CTCP{}, false
		}
		body = body[:i]
	}
	cmd, params, _ := strings.Cut(body, " ")
	if cmd == "" {
		return CTCP{}, false
	}
	return CTCP{Command: cmd, Params: params}, true
}

// ExtractCTCP returns the CTCP a PRIVMSG or NOTICE carries. reply is true
// for a NOTICE (a CTCP reply), false for a PRIVMSG (a query or ACTION). ok
// is false for any other message, one without a target and text, or a
// text that is not a CTCP frame (see [ParseCTCP]).
func ExtractCTCP(m *ircmsg.Message) (c CTCP, reply, ok bool) {
	if m == nil || len(m.Params) != 2 || (m.Command != "PRIVMSG" && m.Command != "NOTICE") {
		return CTCP{}, false, false
	}
	c, ok = ParseCTCP(m.Params[1])
	return c, m.Command == "NOTICE", ok
}

// Text returns the frame as a message body: "\x01COMMAND params\x01", or
// "\x01COMMAND\x01" when Params is empty. It returns an error wrapping
// [ErrCTCPInvalid] for a frame that cannot be written.
func (c CTCP) Text() (string, error) {
	if c.Command == "" || strings.ContainsAny(c.Command, " \x01\r\n\x00") {
		return "", fmt.Errorf("%w: command %q", ErrCTCPInvalid, c.Command)
	}
	if strings.ContainsAny(c.Params, "\x01\r\n\x00") {
		return "", fmt.Errorf("%w: parameters %q", ErrCTCPInvalid, c.Params)
	}
	if c.Params == "" {
		return "\x01" + c.Command + "\x01", nil
	}
	return "\x01" + c.Command + " " + c.Params + "\x01", nil
}

func ctcpMessage(command, target string, c CTCP) (*ircmsg.Message, error) {
	text, err := c.Text()
	if err != nil {
		return nil, err
	}
	return &ircmsg.Message{Command: command, Params: []string{target, text}}, nil
}

// CTCPRequest returns the PRIVMSG that sends query c to target.
func CTCPRequest(target string, c CTCP) (*ircmsg.Message, error) {
	return ctcpMessage("PRIVMSG", target, c)
}

// CTCPReply returns the NOTICE that answers a query with c. Replies go to
// the nick that asked, also for queries sent to a channel.
func CTCPReply(target string, c CTCP) (*ircmsg.Message, error) {
	return ctcpMessage("NOTICE", target, c)
}

// Action returns the PRIVMSG of a CTCP ACTION ("/me text") to target.
func Action(target, text string) (*ircmsg.Message, error) {
	return CTCPRequest(target, CTCP{Command: "ACTION", Params: text})
}

// ActionText returns the text of a CTCP ACTION sent as a PRIVMSG, and
// false for any other message.
func ActionText(m *ircmsg.Message) (text string, ok bool) {
	c, reply, ok := ExtractCTCP(m)
	if !ok || reply || c.Command != "ACTION" {
		return "", false
	}
	return c.Params, true
}

// The 1994 CTCP specification's two quoting levels. Modern clients do not
// use them (the ircdocs CTCP document drops them); they are here for
// software that speaks to old clients, and for the old format's
// interleaving of text and several frames ([ParseCTCPOld]).
const (
	lowQuote  = '\x10' // M-QUOTE, DLE
	ctcpQuote = '\\'   // X-QUOTE
)

// LowQuote applies the 1994 specification's low-level quoting to a
// message body: NUL, LF, CR and DLE (\x10) become DLE '0', DLE 'n',
// DLE 'r' and DLE DLE, so any bytes survive an IRC line.
func LowQuote(s string) string {
	if !strings.ContainsAny(s, "\x00\n\r\x10") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0:
			b.WriteString("\x100")
		case '\n':
			b.WriteString("\x10n")
		case '\r':
			b.WriteString("\x10r")
		case lowQuote:
			b.WriteString("\x10\x10")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// LowDequote reverses [LowQuote]. As the specification says, a DLE
// followed by any other byte is dropped and that byte kept, and a DLE at
// the end is dropped.
func LowDequote(s string) string {
	if strings.IndexByte(s, lowQuote) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != lowQuote {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i == len(s) {
			break
		}
		switch s[i] {
		case '0':
			b.WriteByte(0)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// CTCPQuote applies the 1994 specification's CTCP-level quoting to the
// data of one frame: \x01 becomes `\a` and a backslash `\\`.
func CTCPQuote(s string) string {
	if !strings.ContainsAny(s, "\x01\\") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ctcpDelim:
			b.WriteString(`\a`)
		case ctcpQuote:
			b.WriteString(`\\`)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// CTCPDequote reverses [CTCPQuote]; a backslash before any other byte is
// dropped and that byte kept, and a backslash at the end is dropped.
func CTCPDequote(s string) string {
	if strings.IndexByte(s, ctcpQuote) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ctcpQuote {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i == len(s) {
			break
		}
		if s[i] == 'a' {
			b.WriteByte(ctcpDelim)
		} else {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// ErrCTCPUnbalanced is returned by [ParseCTCPOld] for a body with an odd
// number of \x01 markers, which the 1994 specification calls invalid. The
// frames and text before the unpaired marker are still returned.
var ErrCTCPUnbalanced = errors.New("irc: unbalanced CTCP markers")

// ParseCTCPOld reads a message body the 1994 way: low-level dequoting
// first, then the odd \x01 markers open and the even ones close frames,
// which may sit anywhere in the text and be several; each frame is
// CTCP-dequoted. plain is the text outside the frames. Frames with no
// command are skipped. Use [ParseCTCP] for what clients send today.
func ParseCTCPOld(text string) (frames []CTCP, plain string, err error) {
	text = LowDequote(text)
	var b strings.Builder
	for {
		open := strings.IndexByte(text, ctcpDelim)
		if open < 0 {
			b.WriteString(text)
			break
		}
		b.WriteString(text[:open])
		rest := text[open+1:]
		end := strings.IndexByte(rest, ctcpDelim)
		if end < 0 {
			b.WriteString(rest)
			err = ErrCTCPUnbalanced
			break
		}
		cmd, params, _ := strings.Cut(rest[:end], " ")
		if cmd = CTCPDequote(cmd); cmd != "" {
			frames = append(frames, CTCP{Command: cmd, Params: CTCPDequote(params)})
		}
		text = rest[end+1:]
	}
	return frames, b.String(), err
}
