package ircsock

import (
	"testing"
	"unsafe"
)

// TestConnSize guards the Conn's size class (112 bytes): every
// connection has one, and a field more, or one that adds padding, can
// move it up a class (128 bytes) for every connection.
func TestConnSize(t *testing.T) {
	if got := unsafe.Sizeof(Conn{}); got > 112 {
		t.Errorf("a Conn is %d bytes, past the 112-byte size class", got)
	}
}
