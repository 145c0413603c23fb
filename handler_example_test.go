package ircsock_test

import (
	"bufio"
	"fmt"
	"net"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// An InputHandler answers each line on the goroutine that read it, and
// the reply goes out when that read's lines are handled; the controller
// loop sees every other event.
func ExampleConfig_inputHandler() {
	var b *ircsock.Backend
	b = ircsock.New(ircsock.Config{InputHandler: func(in ircsock.Input) {
		defer in.Release() // after Send, which formats at once
		if m := in.Msg(); m.Command == "PING" {
			b.Send(&ircmsg.Message{Command: "PONG", Params: m.Params}, in.Conn().ID())
		}
	}})
	l, err := b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	left := make(chan string)
	go func() {
		for ev := range b.Events() {
			if d, ok := ev.(ircsock.Disconnect); ok {
				left <- d.Reason
			}
		}
		close(left)
	}()

	c, err := net.Dial("tcp", l.AddrPort().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Fprint(c, "PING :one\r\nPING :two\r\n")
	r := bufio.NewReader(c)
	for range 2 {
		line, _ := r.ReadString('\n')
		fmt.Printf("%q\n", line)
	}
	c.Close()
	fmt.Println("left:", <-left)
	b.Close()
	for range left {
	}
	// Output:
	// "PONG one\r\n"
	// "PONG two\r\n"
	// left: Remote host closed the connection
}
