package ircsock

import (
	"reflect"
	"testing"

	"github.com/ircsock/ircsock/filter"
)

// TestWithZlibLeavesSharedLineAlone: every plain connection writes through
// the one shared lineOut, so compressing a connection's output must put a
// Line of its own under the zlib layer; a Stack feeds and drains its
// layers, and sharing that state would mix connections.
func TestWithZlibLeavesSharedLineAlone(t *testing.T) {
	st := withZlib(lineOut)
	if st.Len() != 2 {
		t.Fatalf("stack of %d layers, want zlib over a line", st.Len())
	}
	if st.Layer(1) == filter.Filter(lineOut) {
		t.Fatal("the shared output Line became a layer of a connection's stack")
	}
	out, err := st.Put(nil, []byte("PING :x"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err = st.Flush(out); err != nil || len(out) == 0 {
		t.Fatalf("flush: %d bytes, %v", len(out), err)
	}
	st.Shift()
	if !reflect.DeepEqual(*lineOut, filter.Line{}) {
		t.Fatalf("the shared output Line changed: %+v", *lineOut)
	}
}
