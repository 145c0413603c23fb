package filter_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
)

func ExampleLine() {
	var l filter.Line
	// A chunk as a read returns it: two lines and the start of a third.
	l.Feed([]byte("PING :a\r\nPRIVMSG #c :hi\npart"))
	for {
		rec, ok, err := l.Next()
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		if !ok {
			break
		}
		fmt.Printf("%q\n", rec)
	}
	fmt.Printf("pending %q\n", l.Pending())

	out, _ := l.Put(nil, []byte("PONG :a"))
	fmt.Printf("%q\n", out)
	_, err := l.Put(nil, []byte("PRIVMSG #c :x\r\nQUIT"))
	fmt.Println(err)
	// Output:
	// "PING :a"
	// "PRIVMSG #c :hi"
	// pending "part"
	// "PONG :a\r\n"
	// filter: CR or LF inside a record (offset 13)
}

func ExampleNewReader() {
	input := "NICK alice\r\nUSER a 0 * :Alice\r\n" + strings.Repeat("x", 40) + "\r\nPING :1\r\n"
	r := filter.NewReader(strings.NewReader(input), filter.NewStack(&filter.Line{Max: 32}))
	for {
		rec, err := r.Next()
		if filter.IsRecordError(err) {
			fmt.Println("skipped:", err)
			continue
		}
		if err == io.EOF {
			break
		}
		fmt.Printf("%s\n", rec)
	}
	// Output:
	// NICK alice
	// USER a 0 * :Alice
	// skipped: filter: layer 0 (*filter.Line): filter: line too long (Line.Max 32)
	// PING :1
}

func ExampleNewMessageReader() {
	input := "@time=2024-05-01T10:00:00.000Z :bob!b@host PRIVMSG #go :hi all\r\n\r\n:srv 001 bob :Welcome\r\n"
	mr := filter.NewMessageReader(strings.NewReader(input), filter.NewStack(&filter.Line{}), filter.IRCv3{})
	for {
		m, err := mr.ReadMessage()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("bad line:", err)
			continue
		}
		if t, ok := m.Tag("time"); ok {
			fmt.Println(m.Command, m.Params, "at", t)
		} else {
			fmt.Println(m.Command, m.Params)
		}
	}

	var out bytes.Buffer
	mw := filter.NewMessageWriter(&out, filter.NewStack(&filter.Line{}), filter.IRCv3{Format: ircmsg.Format{Colonify: true}})
	mw.WriteMessage(&ircmsg.Message{Command: "PRIVMSG", Params: []string{"#go", "hello"}})
	mw.Flush()
	fmt.Printf("%q\n", out.String())
	// Output:
	// PRIVMSG [#go hi all] at 2024-05-01T10:00:00.000Z
	// 001 [bob Welcome]
	// "PRIVMSG #go :hello\r\n"
}

// A server link turns on compression with a line, and the peer's next bytes
// are compressed: here they arrive in the same read as that line. Unshifting
// a Zlib as soon as the line comes out sends every byte after it through the
// decompressor.
func ExampleStack_Unshift() {
	// The peer's side: plaintext, then (after a flush) compressed.
	peer := filter.NewStack(&filter.Line{})
	var wire []byte
	wire, _ = peer.Put(wire, []byte("SERVER hub.example.net 1 :Hub"))
	wire, _ = peer.Put(wire, []byte("ZIP"))
	wire, _ = peer.Flush(wire)
	peer.Unshift(&filter.Zlib{})
	wire, _ = peer.Put(wire, []byte("PING :hub.example.net"))
	wire, _ = peer.Put(wire, []byte(":hub.example.net 372 me :- compressed now"))
	wire, _ = peer.Finish(wire) // a live link would Flush; this one ends

	// Our side reads it all in one read.
	r := filter.NewReader(bytes.NewReader(wire), filter.NewStack(&filter.Line{}))
	for {
		rec, err := r.Next()
		if err != nil {
			fmt.Println("end:", err)
			break
		}
		fmt.Printf("%s\n", rec)
		if string(rec) == "ZIP" {
			r.Stack().Unshift(&filter.Zlib{})
		}
	}
	fmt.Println("layers:", r.Stack().Len())
	// Output:
	// SERVER hub.example.net 1 :Hub
	// ZIP
	// PING :hub.example.net
	// :hub.example.net 372 me :- compressed now
	// end: EOF
	// layers: 2
}
