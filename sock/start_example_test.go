package sock_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/sock"
)

// A server whose connections hold no goroutine while they wait: each
// accepted connection's wheel is started with Start, which returns at
// once, and the listener's release runs when the wheel is done. Between
// lines, a plaintext connection's wheel waits parked on the shared poller
// (on Linux); every line is handled in order all the same.
func ExampleWheel_Start() {
	l, err := sock.Listen(sock.ListenConfig{Addr: "127.0.0.1:0"}, sock.ListenFuncs{
		Serve: func(c net.Conn, release func()) {
			w := sock.NewWheel(c, &filter.Line{}, &filter.Line{}, sock.Funcs{
				Record: func(w *sock.Wheel, rec []byte) {
					_ = w.Write([]byte(strings.ToUpper(string(rec))))
				},
			}, sock.WheelConfig{})
			w.Start(release) // returns at once; release runs after EventClosed
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	l.Start()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sock.Dial(ctx, nil, l.Addr().String(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	in := filter.NewReader(c, filter.NewStack(&filter.Line{}))
	for _, line := range []string{"hello", "parked between lines"} {
		fmt.Fprintf(c, "%s\r\n", line)
		rec, err := in.Next()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(string(rec))
	}
	_ = c.Close() // the server's wheel sees the end, closes, and releases

	_ = l.Close()
	l.Wait()
	// Output:
	// HELLO
	// PARKED BETWEEN LINES
}
