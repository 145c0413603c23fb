package ircd

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkStormBystanderPing measures one client's PING round trip (from
// 127.0.0.1) on a quiet server and on one under a storm: connection
// attempts from 127.0.0.2, 16 at a time for as long as the benchmark
// runs, and a client on 127.0.0.3 that floods a channel, is closed with
// Excess Flood and comes back. The limits are stormConfig's, with the
// bystander's 127.0.0.1 exempt: under flood control a client pinging as
// fast as it can is lagged by design (one command per Flood.Interval
// past the burst), and that wait is not what is measured here. It
// reports the round trip's p50 and p99; compare the two sub-benchmarks
// of one run, not across runs.
func BenchmarkStormBystanderPing(b *testing.B) {
	for _, withStorm := range []bool{false, true} {
		name := "quiet"
		if withStorm {
			name = "storm"
		}
		b.Run(name, func(b *testing.B) {
			cfg := stormConfig()
			cfg.Exempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			srv, stop := benchServer(b, cfg)
			defer stop()
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var attempts, floods countInt
			if withStorm {
				for range 16 {
					wg.Go(func() { stormLoop(ctx, srv, &attempts) })
				}
				wg.Go(func() { floodLoop(ctx, srv, &floods) })
			}
			conn, err := net.DialTimeout("tcp", srv.Addr().String(), testTimeout)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			_ = conn.SetDeadline(time.Now().Add(time.Minute))
			fmt.Fprintf(conn, "NICK by\r\nUSER by 0 * :by\r\n")
			if err := readUntil(r, " 422 "); err != nil {
				b.Fatal(err)
			}
			var rtts []time.Duration
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				_ = conn.SetDeadline(time.Now().Add(testTimeout))
				start := time.Now()
				fmt.Fprintf(conn, "PING :p%d\r\n", i)
				if err := readUntil(r, fmt.Sprintf("PONG ircsock.localhost :p%d", i)); err != nil {
					b.Fatal(err)
				}
				rtts = append(rtts, time.Since(start))
			}
			cancel()
			wg.Wait()
			slices.Sort(rtts)
			b.ReportMetric(float64(rtts[len(rtts)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(rtts[len(rtts)*99/100].Microseconds()), "p99-µs")
			if withStorm {
				b.ReportMetric(float64(attempts.get())/float64(b.N), "storm-conns/op")
				b.ReportMetric(float64(floods.get()), "excess-floods")
			}
		})
	}
}

type countInt struct {
	mu sync.Mutex
	n  int
}

func (c *countInt) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *countInt) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// benchServer runs a Server for a benchmark.
func benchServer(b *testing.B, cfg Config) (*Server, func()) {
	b.Helper()
	cfg.Listen = "127.0.0.1:0"
	srv, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	return srv, func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Run: %v", err)
		}
	}
}

func readUntil(r *bufio.Reader, sub string) error {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("waiting for %q: %w", sub, err)
		}
		if strings.Contains(line, sub) {
			return nil
		}
	}
}

// stormLoop opens connections from 127.0.0.2 until ctx is done, each
// reading its first line (a PONG or the refusal) before closing.
func stormLoop(ctx context.Context, srv *Server, n *countInt) {
	for i := 0; ctx.Err() == nil; i++ {
		_, _ = stormOnce(srv, "127.0.0.2", i)
		n.add()
	}
}

// floodLoop connects from 127.0.0.3, registers, joins #storm and floods it
// until it is closed, over and over until ctx is done.
func floodLoop(ctx context.Context, srv *Server, n *countInt) {
	var lines strings.Builder
	for i := range 200 {
		fmt.Fprintf(&lines, "PRIVMSG #storm :flood %d\r\n", i)
	}
	for ctx.Err() == nil {
		c, err := dialSrcAddr(srv, "127.0.0.3")
		if err != nil {
			continue
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(testTimeout))
		fmt.Fprintf(c, "NICK flooder\r\nUSER f 0 * :f\r\nJOIN #storm\r\n%s", lines.String())
		r := bufio.NewReader(c)
		if readUntil(r, "Excess Flood") == nil {
			n.add()
		}
		stop()
		c.Close()
	}
}
