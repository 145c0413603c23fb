package sock

import (
	"errors"
	"strings"
	"testing"
)

// flushFails encodes lines as nlFilter does but fails every Flush, as a
// broken compressor would.
type flushFails struct{ nlFilter }

var errFlushBroken = errors.New("test: output filter broken")

func (f *flushFails) Flush(dst []byte) ([]byte, error) { return dst, errFlushBroken }

// TestWheelOutputErrorCloses: an output filter's fatal error closes the
// wheel and its connection, so a reader blocked on a silent peer ends and
// EventClosed comes, whichever writer met the error and however the wheel
// reads.
func TestWheelOutputErrorCloses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start bool // Start (parks on Linux) rather than Run (a blocked reader)
		queue bool // Queue and Flush: the shared writers
	}{
		{"Run Write", false, false},
		{"Run Queue Flush", false, true},
		{"Start Write", true, false},
		{"Start Queue Flush", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := tcpPair(t)
			defer c.Close() // the peer stays silent and never closes
			r := newRecorder()
			w := NewWheel(s, &nlFilter{max: 1000}, &flushFails{}, r, WheelConfig{})
			wait := goWheel(w, tc.start)
			var err error
			if tc.queue {
				err = w.Queue([]byte("hello"))
				w.Flush()
			} else {
				err = w.Write([]byte("hello"))
			}
			if err != nil {
				t.Fatalf("queueing: %v", err)
			}
			ci := waitClosed(t, r)
			if !errors.Is(ci.err, errFlushBroken) || !strings.HasPrefix(ci.reason, "Output error") {
				t.Errorf("closed with %q, %v; want an output error wrapping the filter's", ci.reason, ci.err)
			}
			wait()
		})
	}
}
