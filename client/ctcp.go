package client

import (
	"strings"
	"time"

	"github.com/ircsock/ircsock/irc"
	"github.com/ircsock/ircsock/ircmsg"
)

// autoCTCP answers CTCP VERSION, PING, TIME and CLIENTINFO requests sent
// in a PRIVMSG, with a NOTICE to the sender, unless turned off in
// [Config.CTCP]. Requests from the client itself (echo-message) are not
// answered, nor any while the send queue is more than half full: a flood
// of CTCP requests must not crowd out the user's own messages.
func (c *Client) autoCTCP(m *ircmsg.Message) {
	q, isReply, ok := irc.ExtractCTCP(m)
	if !ok || isReply {
		return
	}
	cmd, arg := q.Command, q.Params
	nick, _, _ := ircmsg.SplitSource(m.Source)
	if nick == "" {
		return
	}
	c.mu.Lock()
	me := c.st.isMe(nick)
	c.mu.Unlock()
	if me {
		return
	}
	if c.Queued() > orInt(c.cfg.Flood.MaxQueue, DefaultMaxQueue)/2 {
		return
	}
	cfg := c.cfg.CTCP
	var reply string
	switch strings.ToUpper(cmd) {
	case "VERSION":
		if cfg.NoVersion {
			return
		}
		reply = cfg.Version
		if reply == "" {
			reply = DefaultVersion
		}
	case "PING":
		if cfg.NoPing {
			return
		}
		reply = arg
	case "TIME":
		if cfg.NoTime {
			return
		}
		reply = time.Now().Format(time.RFC1123Z)
	case "CLIENTINFO":
		if cfg.NoClientInfo {
			return
		}
		reply = c.clientInfo()
	default:
		return
	}
	r, err := irc.CTCPReply(nick, irc.CTCP{Command: strings.ToUpper(cmd), Params: reply})
	if err != nil {
		return // a PING argument the reply cannot carry
	}
	_ = c.Send(r)
}

func (c *Client) clientInfo() string {
	cfg := c.cfg.CTCP
	list := []string{"ACTION", "CLIENTINFO"}
	if !cfg.NoPing {
		list = append(list, "PING")
	}
	if !cfg.NoTime {
		list = append(list, "TIME")
	}
	if !cfg.NoVersion {
		list = append(list, "VERSION")
	}
	return strings.Join(list, " ")
}
