package client

import (
	"strings"
	"time"

	"github.com/ircsock/ircsock/ircmsg"
)

// autoCTCP answers CTCP VERSION, PING, TIME and CLIENTINFO requests sent
// in a PRIVMSG, with a NOTICE to the sender, unless turned off in
// [Config.CTCP]. Requests from the client itself (echo-message) are not
// answered.
func (c *Client) autoCTCP(m *ircmsg.Message) {
	text := last(m)
	if len(m.Params) < 2 || len(text) < 2 || text[0] != '\x01' {
		return
	}
	body := strings.TrimSuffix(text[1:], "\x01")
	cmd, arg, _ := strings.Cut(body, " ")
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
	out := "\x01" + strings.ToUpper(cmd)
	if reply != "" {
		out += " " + reply
	}
	out += "\x01"
	if badText("param", 1, out) != nil {
		return // a PING argument the reply cannot carry
	}
	_ = c.Send(&ircmsg.Message{Command: "NOTICE", Params: []string{nick, out}})
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
