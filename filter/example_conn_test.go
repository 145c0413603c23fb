package filter_test

import (
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/ircsock/ircsock/filter"
)

// Line over Zlib over a net.Conn: one end writes lines through a
// compressed stream, the other reads them back. Index 0 of a Stack is
// nearest the wire, so both ends stack Zlib first, then Line.
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	sent := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			sent <- err
			return
		}
		defer c.Close()
		w := filter.NewWriter(c, filter.NewStack(&filter.Zlib{}, &filter.Line{}))
		for _, line := range []string{"PING :hello", "PRIVMSG #go :compressed, framed, delivered"} {
			if err := w.WriteRecord([]byte(line)); err != nil {
				sent <- err
				return
			}
		}
		sent <- w.Close() // flushes, then ends the zlib stream
	}()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	r := filter.NewReader(c, filter.NewStack(&filter.Zlib{}, &filter.Line{}))
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Printf("%s\n", rec)
	}
	fmt.Println("writer:", <-sent)
	// Output:
	// PING :hello
	// PRIVMSG #go :compressed, framed, delivered
	// writer: <nil>
}
