package filter

import (
	"bytes"
	"compress/zlib"
	"runtime"
	"testing"
	"time"
)

// TestDecoderDrainedHoldsNoInput checks the Decoder contract's other half:
// once Next has said "feed more" (ok == false, nil error), the decoder keeps
// no reference to the chunks it was fed. A wheel feeds a pooled read buffer
// and hands it back right after; a decoder that kept even an empty slice of
// it would pin the whole buffer for as long as its connection stays idle,
// and an idle server would hold one read buffer per quiet connection.
func TestDecoderDrainedHoldsNoInput(t *testing.T) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte("PING :a\r\nPING :b\r\n"))
	zw.Flush() // a sync point: the stream is drained with nothing partial
	cases := []struct {
		name  string
		dec   func() Decoder
		input []byte
	}{
		{"Line ends on LF", func() Decoder { return &Line{} }, []byte("PING :a\r\nPING :b\r\n")},
		{"Line with a partial line", func() Decoder { return &Line{} }, []byte("PING :a\r\nPING :b")},
		{"Stack of Line", func() Decoder { return NewStack(&Line{}) }, []byte("PING :a\r\nPING :b\r\n")},
		{"Zlib", func() Decoder { return NewZlib() }, z.Bytes()},
		{"Stack of Zlib and Line", func() Decoder { return NewStack(NewZlib(), &Line{}) }, z.Bytes()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.dec()
			freed := make(chan struct{})
			func() {
				// A chunk of its own allocation, like a pooled read buffer.
				buf := new([4096]byte)
				runtime.AddCleanup(buf, func(ch chan struct{}) { close(ch) }, freed)
				p := buf[:copy(buf[:], tc.input)]
				d.Feed(p)
				recs := 0
				for {
					_, ok, err := d.Next()
					if err != nil {
						t.Fatalf("Next: %v", err)
					}
					if !ok {
						break
					}
					recs++
				}
				if recs == 0 {
					t.Fatal("no record decoded")
				}
			}()
			deadline := time.Now().Add(5 * time.Second)
			for {
				runtime.GC()
				select {
				case <-freed:
					runtime.KeepAlive(d)
					return
				case <-time.After(10 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatal("the drained decoder still holds the chunk it was fed")
				}
			}
		})
	}
}
