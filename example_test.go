package ircsock_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// A server and a client Backend on loopback: the client says hello, the
// server answers and hangs up after the answer is written.
func Example() {
	server := ircsock.New(ircsock.Config{Format: ircmsg.Format{Colonify: true}})
	client := ircsock.New(ircsock.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	l, err := server.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	serverDone := make(chan struct{})
	go func() {
		defer close(serverDone)
		for ev := range server.Events() {
			if in, ok := ev.(ircsock.Input); ok && in.Msg().Command == "NICK" {
				server.Send(&ircmsg.Message{Source: "irc.example", Command: "001",
					Params: []string{in.Msg().Params[0], "Welcome"}}, in.Conn().ID())
				server.Disconnect(in.Conn().ID(), "see you")
			}
		}
	}()

	if _, err := client.CreateConnector(ctx, ircsock.ConnectorConfig{Addr: l.AddrPort().String()}); err != nil {
		fmt.Println(err)
		return
	}
	for ev := range client.Events() {
		switch ev := ev.(type) {
		case ircsock.ConnectorOpen:
			client.Send(&ircmsg.Message{Command: "NICK", Params: []string{"alice"}}, ev.Conn.ID())
		case ircsock.Input:
			fmt.Println("client got", ev.Msg().Command, ev.Msg().Params)
		case ircsock.Disconnect:
			fmt.Println("client disconnected:", ev.Reason)
			// Shutdown waits for the controller to read the last events,
			// so it runs beside this loop, which ends when Events closes.
			go client.Shutdown(ctx)
		}
	}
	server.Shutdown(ctx)
	<-serverDone
	// Output:
	// client got 001 [alice Welcome]
	// client disconnected: Remote host closed the connection
}
