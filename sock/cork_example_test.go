package sock_test

import (
	"bufio"
	"fmt"
	"net"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/sock"
)

// turnEcho echoes every line the way an event loop's turn does: the
// wheel is corked at the first line of a read and uncorked once the read
// is decoded, so the echoes of one read leave together, in one write made
// by the reading goroutine.
type turnEcho struct{ corked bool }

func (e *turnEcho) Handle(w *sock.Wheel, ev sock.Event) {
	if ev.Kind != sock.EventRecord {
		return
	}
	if !e.corked {
		w.Cork()
		e.corked = true
	}
	_ = w.Write(ev.Record) // encoded and queued at once: ev.Record may be reused after
}

// HandleReadEnd makes turnEcho a sock.ReadEndHandler.
func (e *turnEcho) HandleReadEnd(w *sock.Wheel) {
	if e.corked {
		e.corked = false
		w.Uncork()
	}
}

// Cork and Uncork around the lines of one read: an echo server whose
// replies to a read go out in one system call.
func ExampleWheel_Cork() {
	l, err := sock.Listen(sock.ListenConfig{Addr: "127.0.0.1:0"}, sock.ListenFuncs{
		Serve: func(c net.Conn, release func()) {
			defer release()
			sock.NewWheel(c, &filter.Line{}, &filter.Line{}, &turnEcho{}, sock.WheelConfig{}).Run()
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	l.Start()
	defer l.Wait()
	defer l.Close()

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Fprint(c, "one\r\ntwo\r\nthree\r\n")
	r := bufio.NewReader(c)
	for range 3 {
		line, _ := r.ReadString('\n')
		fmt.Printf("%q\n", line)
	}
	// Output:
	// "one\r\n"
	// "two\r\n"
	// "three\r\n"
}
