package ircsock

import (
	"errors"
	"net/netip"
	"time"

	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
)

// refusalLine is what a listener sends a connection its limits refuse,
// before closing it: one ERROR line naming the limit, so that the person
// behind the client learns why (on a TLS listener after a handshake; see
// sock.ListenConfig.Refusal).
func refusalLine(err error) []byte {
	var le *sock.LimitError
	ip, why := "", err.Error()
	if errors.As(err, &le) {
		ip = le.Addr.String()
		switch {
		case errors.Is(err, sock.ErrThrottled):
			why = "Connecting too fast: " + le.Limit + "; try again in " + time.Until(le.Until).Round(time.Second).String()
		case errors.Is(err, sock.ErrMaxConnsPerIP):
			why = "Too many connections from your address: " + le.Limit
		case errors.Is(err, sock.ErrMaxConns):
			why = "Server full: " + le.Limit
		}
	}
	line, ferr := (ircmsg.Format{}).Append(nil, &ircmsg.Message{Command: "ERROR",
		Params: []string{"Closing Link: " + ip + " (" + why + ")"}})
	if ferr != nil {
		return []byte("ERROR :Closing Link (connection refused)\r\n")
	}
	return append(line, '\r', '\n')
}

// exempt reports whether ip is in the listener's Exempt networks.
func (l *Listener) exempt(ip netip.Addr) bool {
	for _, p := range l.cfg.Exempt {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
