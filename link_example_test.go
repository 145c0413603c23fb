package ircsock_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// A server link compressed both ways. The leaf speaks first: PASS, SERVER
// and its first zlib bytes leave in one burst, so each side arms its input
// switch in its configuration, before any byte is read, and switches its
// output right after its own SERVER line.
func ExampleListenerConfig_compressInputAfter() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	isServer := func(m *ircmsg.Message) bool { return m.Command == "SERVER" }
	hub, leaf := ircsock.New(ircsock.Config{}), ircsock.New(ircsock.Config{})
	l, err := hub.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0", CompressInputAfter: isServer})
	if err != nil {
		fmt.Println(err)
		return
	}
	leaf.CreateConnector(ctx, ircsock.ConnectorConfig{
		Addr: fmt.Sprintf("127.0.0.1:%d", l.Port()), CompressInputAfter: isServer})

	// introduce sends PASS and SERVER; what follows is compressed.
	introduce := func(b *ircsock.Backend, id ircsock.ConnID, name string) {
		b.Send(&ircmsg.Message{Command: "PASS", Params: []string{"secret", "0210", "IRC|Z"}}, id)
		b.Send(&ircmsg.Message{Command: "SERVER", Params: []string{name, "1", "a link"}}, id)
		b.SetCompressedLink(id)
	}
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		for ev := range hub.Events() {
			if in, ok := ev.(ircsock.Input); ok {
				switch m, id := in.Msg(), in.Conn().ID(); m.Command {
				case "SERVER":
					introduce(hub, id, "hub.example")
				case "PING":
					hub.Send(&ircmsg.Message{Command: "PONG", Params: m.Params}, id)
				}
			}
		}
	}()
	for ev := range leaf.Events() {
		switch ev := ev.(type) {
		case ircsock.ConnectorOpen:
			introduce(leaf, ev.Conn.ID(), "leaf.example")
			leaf.Send(&ircmsg.Message{Command: "PING", Params: []string{"over zlib"}}, ev.Conn.ID())
		case ircsock.Input:
			fmt.Println(ev.Msg().Command, ev.Msg().Params)
			if ev.Msg().Command == "PONG" {
				go leaf.Shutdown(ctx)
			}
		}
	}
	hub.Shutdown(ctx)
	<-hubDone
	// Output:
	// PASS [secret 0210 IRC|Z]
	// SERVER [hub.example 1 a link]
	// PONG [over zlib]
}
