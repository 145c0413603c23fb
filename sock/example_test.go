package sock_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/sock"
)

// A key-value server and its client over sock, with no IRC in sight: one
// command per line (SET key value, GET key, QUIT), one reply per line.
// Both ends run a Wheel over line framing; the server's QUIT reply is
// written before it hangs up, and everything stops cleanly.
func Example() {
	var mu sync.Mutex
	store := map[string]string{}
	reply := func(w *sock.Wheel, s string) { _ = w.Write([]byte(s)) }

	// The server: one Wheel per accepted connection, run on the goroutine
	// the Listener hands the connection over on.
	serve := func(c net.Conn, release func()) {
		defer release()
		w := sock.NewWheel(c, &filter.Line{}, &filter.Line{}, sock.Funcs{
			Record: func(w *sock.Wheel, rec []byte) {
				cmd, arg, _ := strings.Cut(string(rec), " ")
				switch cmd {
				case "SET":
					k, v, _ := strings.Cut(arg, " ")
					mu.Lock()
					store[k] = v
					mu.Unlock()
					reply(w, "OK")
				case "GET":
					mu.Lock()
					v, ok := store[arg]
					mu.Unlock()
					if !ok {
						v = "NOTFOUND"
					}
					reply(w, v)
				case "QUIT":
					reply(w, "BYE")
					w.Disconnect("client quit") // after BYE is written
				default:
					reply(w, "ERR unknown command "+cmd)
				}
			},
		}, sock.WheelConfig{})
		w.Run() // until the connection is closed
	}
	l, err := sock.Listen(sock.ListenConfig{Addr: "127.0.0.1:0"}, sock.ListenFuncs{
		Serve:  serve,
		Failed: func(err error) { fmt.Println("server:", err) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	l.Start()

	// The client: a Wheel too, printing every reply.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sock.Dial(ctx, nil, l.Addr().String(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	closed := make(chan string, 1)
	client := sock.NewWheel(c, &filter.Line{}, &filter.Line{}, sock.Funcs{
		Record: func(w *sock.Wheel, rec []byte) { fmt.Println(string(rec)) },
		Closed: func(w *sock.Wheel, reason string, err error) { closed <- reason },
	}, sock.WheelConfig{})
	done := make(chan struct{})
	go func() {
		client.Run()
		close(done)
	}()
	for _, cmd := range []string{"SET lang Go", "GET lang", "GET color", "QUIT"} {
		if err := client.Write([]byte(cmd)); err != nil {
			fmt.Println(err)
		}
	}
	select {
	case reason := <-closed:
		fmt.Println("closed:", reason)
	case <-ctx.Done():
		client.Close("timeout", ctx.Err())
		fmt.Println(ctx.Err())
	}
	<-done

	// Shutdown: stop accepting, then wait for the server's connections.
	_ = l.Close()
	l.Wait()
	// Output:
	// OK
	// Go
	// NOTFOUND
	// BYE
	// closed: Remote host closed the connection
}
