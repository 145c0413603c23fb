package ircsock_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/internal/ircd"
	"github.com/ircsock/ircsock/ircmsg"
)

// serveIRC listens on addr and runs a controller loop: it answers PING,
// pings idle clients and reports who left. When ctx ends it shuts the
// Backend down gracefully; the loop ends when the Backend closes Events.
func serveIRC(ctx context.Context, addr string, listening chan<- netip.AddrPort) error {
	b := ircsock.New(ircsock.Config{Format: ircmsg.Format{Colonify: true}})
	l, err := b.CreateListener(ircsock.ListenerConfig{Addr: addr})
	if err != nil {
		b.Close()
		return err
	}
	listening <- l.AddrPort()
	shutdown := make(chan error, 1)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shutdown <- b.Shutdown(sctx) // writes every queue, then closes Events
	}()
	for ev := range b.Events() {
		switch ev := ev.(type) {
		case ircsock.Input:
			if ev.Msg().Command == "PING" {
				b.Send(&ircmsg.Message{Command: "PONG", Params: ev.Msg().Params}, ev.Conn().ID())
			}
		case ircsock.ConnectionIdle:
			b.Send(&ircmsg.Message{Command: "PING", Params: []string{"idle"}}, ev.Conn.ID())
		case ircsock.Disconnect:
			fmt.Printf("connection %d left: %s\n", ev.Conn.ID(), ev.Reason)
		}
	}
	return <-shutdown
}

// client registers as nick on the IRC server at addr, joins #go, answers
// the server's keepalive PING and quits once it has answered one. It
// returns when the connection is gone, or with ctx's error if ctx ends
// first.
func client(ctx context.Context, addr, nick string) error {
	b := ircsock.New(ircsock.Config{})
	defer b.Close()
	if _, err := b.CreateConnector(ctx, ircsock.ConnectorConfig{Addr: addr}); err != nil {
		return err
	}
	send := func(id ircsock.ConnID, command string, params ...string) {
		b.Send(&ircmsg.Message{Command: command, Params: params}, id)
	}
	for {
		var ev ircsock.Event
		select {
		case e, ok := <-b.Events():
			if !ok {
				return errors.New("backend closed")
			}
			ev = e
		case <-ctx.Done():
			return ctx.Err()
		}
		switch ev := ev.(type) {
		case ircsock.ConnectorOpen:
			send(ev.Conn.ID(), "NICK", nick)
			send(ev.Conn.ID(), "USER", nick, "0", "*", "Go gopher")
		case ircsock.ConnectorFailure:
			return ev.Err
		case ircsock.Input:
			m := ev.Msg()
			switch m.Command {
			case "001": // RPL_WELCOME: registered
				fmt.Println("registered as", m.Params[0])
				send(ev.Conn().ID(), "JOIN", "#go")
			case "JOIN":
				fmt.Println("joined", m.Params[0])
			case "PING": // unanswered, the server would drop us
				send(ev.Conn().ID(), "PONG", m.Params...)
				fmt.Println("answered PING")
				send(ev.Conn().ID(), "QUIT", "done")
			}
		case ircsock.Disconnect:
			fmt.Println("disconnected:", ev.Reason)
			return nil
		}
	}
}

// The README's server: a raw TCP client pings it, then a graceful
// shutdown disconnects the client.
func Example_server() {
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan netip.AddrPort, 1)
	done := make(chan error, 1)
	go func() { done <- serveIRC(ctx, "127.0.0.1:0", listening) }()
	var addr netip.AddrPort
	select {
	case addr = <-listening:
	case err := <-done:
		fmt.Println(err)
		cancel()
		return
	}

	conn, err := net.DialTimeout("tcp", addr.String(), 10*time.Second)
	if err != nil {
		fmt.Println(err)
		cancel()
		<-done
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(conn, "PING :hello\r\n")
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(strings.TrimSpace(line))

	cancel() // shut the server down: it ends its side of the stream,
	_, _ = io.Copy(io.Discard, r)
	_ = conn.Close() // and ours closing lets it finish at once
	if err := <-done; err != nil {
		fmt.Println(err)
	}
	// Output:
	// PONG :hello
	// connection 1 left: Server shutdown
}

// The README's client against the server of "ircsock serve" (package
// internal/ircd), which pings after a second of silence.
func Example_client() {
	srv, err := ircd.New(ircd.Config{Listen: "127.0.0.1:0", PingInterval: time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srvCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(srvCtx) }()

	if err := client(ctx, srv.Addr().String(), "gopher"); err != nil {
		fmt.Println(err)
	}
	stop()
	if err := <-done; err != nil {
		fmt.Println(err)
	}
	// Output:
	// registered as gopher
	// joined #go
	// answered PING
	// disconnected: Remote host closed the connection
}

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
