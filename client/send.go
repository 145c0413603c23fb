package client

import (
	"strings"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/irc"
	"github.com/ircsock/ircsock/ircmsg"
)

func badText(field string, index int, s string) error {
	if strings.ContainsAny(s, "\r\n\x00") {
		return &filter.RecordError{Err: &ircmsg.FormatError{Field: field, Index: index, Err: ircmsg.ErrBadByte}}
	}
	return nil
}

// splitter splits for the client's own source once it is known (from
// the echo of its JOIN or a CHGHOST), else for the toolkit's worst case.
func (c *Client) splitter() irc.Splitter {
	c.mu.Lock()
	defer c.mu.Unlock()
	sp := irc.Splitter{LineLen: c.st.isupport.LineLen()}
	if c.st.ident != "" && c.st.host != "" {
		sp.Source = c.st.nick + "!" + c.st.ident + "@" + c.st.host
	}
	return sp
}

func (c *Client) sendText(cmd, target, text string) error {
	if err := badText("param", 0, target); err != nil {
		return err
	}
	if err := badText("param", 1, text); err != nil {
		return err
	}
	parts, err := c.splitter().Split(cmd, target, text)
	if err != nil {
		return err
	}
	var recs [][]byte
	for _, part := range parts {
		rec, err := encode(&ircmsg.Message{Command: cmd, Params: []string{target, part}})
		if err != nil {
			return err
		}
		recs = append(recs, rec)
	}
	return c.enqueue(recs...)
}

// Privmsg sends text to target (a nick or channel), split into as many
// PRIVMSGs as it takes for each to fit the server's 512-byte line once
// it adds our source; the pieces join back into text. Text with CR, LF
// or NUL is refused with [ircmsg.ErrBadByte] (wrapped) and nothing is
// sent. Like every send it is queued behind earlier ones (see
// [Client.Send]).
func (c *Client) Privmsg(target, text string) error { return c.sendText("PRIVMSG", target, text) }

// Notice is [Client.Privmsg] for NOTICE.
func (c *Client) Notice(target, text string) error { return c.sendText("NOTICE", target, text) }

func (c *Client) sendParams(cmd string, params ...string) error {
	for i, p := range params {
		if err := badText("param", i, p); err != nil {
			return err
		}
	}
	return c.Send(&ircmsg.Message{Command: cmd, Params: params})
}

// Join joins channel. The client rejoins it after a reconnect until it
// parts or is kicked.
func (c *Client) Join(channel string) error { return c.JoinKey(channel, "") }

// JoinKey joins channel with key; the key is kept for rejoins.
func (c *Client) JoinKey(channel, key string) error {
	if key == "" {
		return c.sendParams("JOIN", channel)
	}
	if err := c.sendParams("JOIN", channel, key); err != nil {
		return err
	}
	c.mu.Lock()
	c.st.keys[c.st.fold(channel)] = key
	c.mu.Unlock()
	return nil
}

// Part leaves channel with an optional reason.
func (c *Client) Part(channel, reason string) error {
	if reason == "" {
		return c.sendParams("PART", channel)
	}
	return c.sendParams("PART", channel, reason)
}

// Kick removes nick from channel with an optional reason.
func (c *Client) Kick(channel, nick, reason string) error {
	if reason == "" {
		return c.sendParams("KICK", channel, nick)
	}
	return c.sendParams("KICK", channel, nick, reason)
}

// Mode sends MODE target with args ("+o", "nick"); without args it asks
// for the current modes.
func (c *Client) Mode(target string, args ...string) error {
	return c.sendParams("MODE", append([]string{target}, args...)...)
}

// Topic sets channel's topic; an empty topic clears it.
func (c *Client) Topic(channel, topic string) error {
	return c.sendParams("TOPIC", channel, topic)
}

// SetNick asks the server for a new nick.
func (c *Client) SetNick(nick string) error { return c.sendParams("NICK", nick) }
