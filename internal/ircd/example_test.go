package ircd_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/ircsock/ircsock/internal/ircd"
)

// A server on an ephemeral loopback port, and one client registering.
func Example() {
	srv, err := ircd.New(ircd.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()

	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(conn, "NICK alice\r\nUSER alice 0 * :Alice\r\n")
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.TrimSpace(line))
	// Output:
	// :ircsock.localhost 001 alice :Welcome to the ircsock IRC Network alice!alice@127.0.0.1
}
