package ircsock_test

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// BenchmarkRoundTrip is one client sending one line and waiting for its
// echo before the next, the latency of a loopback round trip with nothing
// to batch, through each of BenchmarkEcho's servers: the Backend with a
// controller that releases ("channel"), the Backend with an InputHandler
// ("handler"), and the bufio echo. One op is one round trip; "rt/s" is
// their rate.
func BenchmarkRoundTrip(b *testing.B) {
	for _, tc := range []struct {
		name  string
		start func(*testing.B) echoServer
	}{{"channel", startReleasingEcho}, {"handler", startHandlerEcho}, {"bufio", startBufioEcho}} {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.start(b)
			defer s.stop()
			c, err := net.Dial("tcp4", s.addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(time.Minute))
			r := bufio.NewReader(c)
			line := []byte(echoLine)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(line); err != nil {
					b.Fatal(err)
				}
				got, err := r.ReadSlice('\n')
				if err != nil {
					b.Fatal(err)
				}
				if string(got) != echoLine {
					b.Fatalf("echo = %q, want %q", got, echoLine)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rt/s")
		})
	}
}
