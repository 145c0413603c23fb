package sock

import (
	"testing"
	"unsafe"
)

// TestWheelSize guards the Wheel's size class: every connection has one,
// and one field more can move it up a class of the Go allocator (320 to
// 352 bytes) for every connection. A change that needs the room should
// move rarely used state out of the struct, or raise this bound knowing
// what it costs (BENCHMARKS.md, "Memory per idle connection").
func TestWheelSize(t *testing.T) {
	if got := unsafe.Sizeof(Wheel{}); got > 320 {
		t.Errorf("a Wheel is %d bytes, past the 320-byte size class", got)
	}
}
