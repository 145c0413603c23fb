package filter_test

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"strings"

	"github.com/ircsock/ircsock/filter"
)

// A Writer is an io.WriteCloser: io.Copy frames the bytes at their line
// ends however they arrive, and Close ends the zlib stream, so that
// compress/zlib reads it to io.EOF.
func ExampleWriter() {
	var wire bytes.Buffer
	w := filter.NewWriter(&wire, filter.NewStack(&filter.Zlib{}, &filter.Line{}))
	io.Copy(w, strings.NewReader("NICK gopher\nUSER gopher 0 * :Go\r\nQUIT"))
	if err := w.Close(); err != nil {
		fmt.Println(err)
	}

	zr, _ := zlib.NewReader(&wire)
	plain, err := io.ReadAll(zr)
	fmt.Printf("%q %v\n", plain, err)
	// Output:
	// "NICK gopher\r\nUSER gopher 0 * :Go\r\nQUIT\r\n" <nil>
}

// A Reader is an io.Reader over the decoded stream: with a Line on top,
// each record followed by LF, so bufio.Scanner sees the lines.
func ExampleReader_Read() {
	var wire bytes.Buffer
	zw := zlib.NewWriter(&wire)
	io.WriteString(zw, "PING :a\r\nPRIVMSG #go :hi\r\nlast line, unterminated")
	zw.Close()

	r := filter.NewReader(&wire, filter.NewStack(&filter.Zlib{}, &filter.Line{}))
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fmt.Printf("%q\n", sc.Text())
	}
	fmt.Println("error:", sc.Err())
	// Output:
	// "PING :a"
	// "PRIVMSG #go :hi"
	// "last line, unterminated"
	// error: <nil>
}
