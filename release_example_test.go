package ircsock_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// A controller that hands every Input back with Release once it is done
// with it: the Backend reuses the memory for later lines, so reading
// allocates nothing. What it keeps past Release it copies first.
func ExampleInput_Release() {
	b := ircsock.New(ircsock.Config{})
	defer b.Close()
	l, err := b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", l.Port()), 5*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(c, "NICK gopher\r\nPING :abc\r\n")

	var nick string
	for done := false; !done; {
		ev, ok := <-b.Events()
		if !ok {
			return
		}
		in, isInput := ev.(ircsock.Input)
		if !isInput {
			continue
		}
		m := in.Msg()
		switch m.Command {
		case "NICK":
			nick = strings.Clone(m.Params[0]) // kept: copied before Release
		case "PING":
			// Send formats the line before it returns, so the Message
			// may be released right after it.
			b.Send(&ircmsg.Message{Command: "PONG", Params: m.Params}, in.Conn().ID())
			done = true
		}
		in.Release() // m is the Backend's again: no use of it after this
	}
	reply, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Printf("%s got %q\n", nick, reply)
	// Output: gopher got "PONG abc\r\n"
}
