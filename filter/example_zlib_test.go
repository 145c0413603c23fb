package filter_test

import (
	"errors"
	"fmt"

	"github.com/ircsock/ircsock/filter"
)

// A compressed link: the writer puts a batch of lines and flushes once;
// the reader gets the wire bytes in two arbitrary pieces and inflates
// them chunk by chunk.
func ExampleZlib() {
	w := filter.NewZlib()
	var wire []byte
	for _, line := range []string{"NICK alice\r\n", "USER alice 0 * :Alice\r\n", "JOIN #go\r\n"} {
		wire, _ = w.Put(wire, []byte(line))
	}
	wire, _ = w.Flush(wire) // ends with the sync flush marker 00 00 ff ff
	fmt.Printf("wire ends % x\n", wire[len(wire)-4:])

	r := filter.NewZlib()
	var text []byte
	for _, piece := range [][]byte{wire[:7], wire[7:]} {
		r.Feed(piece)
		for {
			chunk, ok, err := r.Next()
			if err != nil {
				fmt.Println("error:", err)
				return
			}
			if !ok {
				break
			}
			text = append(text, chunk...)
		}
	}
	fmt.Printf("%q\n", text)
	// Output:
	// wire ends 00 00 ff ff
	// "NICK alice\r\nUSER alice 0 * :Alice\r\nJOIN #go\r\n"
}

// A peer that finishes its zlib stream and carries on in plaintext: Next
// reports ErrZlibStreamEnd once the stream's output is out, and Pending
// holds the plaintext that followed the stream's trailer.
func ExampleZlib_Pending() {
	w := filter.NewZlib()
	wire, _ := w.Put(nil, []byte("PING :compressed\r\n"))
	wire, _ = w.Flush(wire)
	// Finishing a stream is what a live link must never do; the Zlib
	// encoder cannot, so this example appends a final empty fixed block
	// and the Adler-32 of the text by hand.
	wire = append(wire, 0x03, 0x00, 0x38, 0x09, 0x05, 0xd5)
	wire = append(wire, "PING :plain\r\n"...)

	r := filter.NewZlib()
	r.Feed(wire)
	for {
		chunk, ok, err := r.Next()
		if errors.Is(err, filter.ErrZlibStreamEnd) {
			fmt.Printf("stream ended; pending %q\n", r.Pending())
			return
		}
		if err != nil || !ok {
			fmt.Println("unexpected:", ok, err)
			return
		}
		fmt.Printf("chunk %q\n", chunk)
	}
	// Output:
	// chunk "PING :compressed\r\n"
	// stream ended; pending "PING :plain\r\n"
}
