package sock

import (
	"net"
	"testing"
	"time"
)

// readEndRecorder is a ReadEndHandler that logs records and read ends in
// the order the wheel hands them over.
type readEndRecorder struct{ log chan string }

func (r readEndRecorder) Handle(w *Wheel, ev Event) {
	switch ev.Kind {
	case EventRecord:
		r.log <- "record " + string(ev.Record)
	case EventClosed:
		r.log <- "closed"
	}
}

func (r readEndRecorder) HandleReadEnd(w *Wheel) { r.log <- "end" }

var _ ReadEndHandler = readEndRecorder{}

// TestReadEndAfterEachRead checks that HandleReadEnd comes after the
// records of a read without the peer sending more, also when the read
// ends inside a record, under Run and under Start.
func TestReadEndAfterEachRead(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(*testing.T, net.Conn, Handler, WheelConfig) (*Wheel, func())
	}{{"Start", startWheel}, {"Run", runWheel}} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := tcpPair(t)
			defer client.Close()
			r := readEndRecorder{log: make(chan string, 100)}
			_, stop := tc.start(t, server, r, WheelConfig{Idle: -1})
			next := func() string {
				t.Helper()
				select {
				case s := <-r.log:
					return s
				case <-time.After(10 * time.Second):
					t.Fatal("no event from the wheel within 10s")
					return ""
				}
			}
			// expect reads the records named, then the end of their read;
			// a read may also end with no new record (a piece of one).
			expect := func(recs ...string) {
				t.Helper()
				for _, want := range recs {
					got := next()
					for got == "end" {
						got = next()
					}
					if got != "record "+want {
						t.Fatalf("got %q, want record %q", got, want)
					}
				}
				if got := next(); got != "end" {
					t.Fatalf("got %q after the records, want end", got)
				}
			}
			write := func(s string) {
				t.Helper()
				if _, err := client.Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			write("a\nb\n")
			expect("a", "b")
			write("c\nd")
			expect("c")
			write("\n")
			expect("d")
			stop()
			for got := next(); got != "closed"; got = next() {
				if got != "end" {
					t.Fatalf("got %q before closed, want nothing but read ends", got)
				}
			}
		})
	}
}
