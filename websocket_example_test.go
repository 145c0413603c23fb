package ircsock_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// Example_webSocket serves IRC to browsers: a WebSocket listener on a
// path, open to the pages of one origin. A page would connect with
//
//	new WebSocket("ws://127.0.0.1:8067/webirc", ["text.ircv3.net"])
//
// and send one IRC line per message; a Go client stands in for it here.
// The controller sees the same events as for a TCP client.
func Example_webSocket() {
	b := ircsock.New(ircsock.Config{})
	defer b.Close()
	l, err := b.CreateListener(ircsock.ListenerConfig{
		Addr:      "127.0.0.1:0",
		WebSocket: &ircsock.WebSocketConfig{Path: "/webirc", Origins: []string{"https://chat.example.org"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	browser := make(chan struct{})
	go func() {
		defer close(browser)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws://"+l.AddrPort().String()+"/webirc", &websocket.DialOptions{
			Subprotocols: []string{ircsock.SubprotocolText},
			HTTPHeader:   http.Header{"Origin": {"https://chat.example.org"}},
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		_ = c.Write(ctx, websocket.MessageText, []byte("PING :hello"))
		_, reply, err := c.Read(ctx)
		fmt.Printf("browser got %q %v\n", reply, err)
		_ = c.Close(websocket.StatusNormalClosure, "")
	}()
	for ev := range b.Events() {
		switch ev := ev.(type) {
		case ircsock.ListenerOpen:
			sp, _ := ev.Conn.WebSocket()
			fmt.Println("WebSocket client, subprotocol", sp)
		case ircsock.Input:
			_ = b.Send(&ircmsg.Message{Command: "PONG", Params: ev.Msg().Params}, ev.Conn().ID())
		case ircsock.Disconnect:
			<-browser
			fmt.Println("gone:", ev.Reason)
			return
		}
	}
	// Output:
	// WebSocket client, subprotocol text.ircv3.net
	// browser got "PONG hello" <nil>
	// gone: Remote host closed the connection
}
