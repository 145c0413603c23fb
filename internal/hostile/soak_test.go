package hostile

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// soakDuration is how long BenchmarkSoak drives traffic: HOSTILE_SOAK (a
// time.Duration) or 20 s.
func soakDuration(b *testing.B) time.Duration {
	if v := os.Getenv("HOSTILE_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("HOSTILE_SOAK=%q: %v", v, err)
		}
		return d
	}
	return 20 * time.Second
}

// BenchmarkSoak runs 1,000 loopback clients against one Backend for
// soakDuration: 900 well-behaved clients each send a numbered line every
// 100 ms and read the echoes, while 100 hostile ones cycle through the
// faults of the matrix (endless lines, decompression bombs, garbage after
// the switch, readers that never read, resets, slowloris), reconnecting
// after each. Then every well-behaved client must have got every line back,
// in order. b.N is ignored: run it with -benchtime 1x.
func BenchmarkSoak(b *testing.B) {
	for b.Loop() {
		soak(b, soakDuration(b))
	}
}

func soak(b *testing.B, dur time.Duration) {
	const (
		nGood  = 900
		nBad   = 100
		period = 100 * time.Millisecond
	)
	checkLeaks(b)
	s := newServer(b, ircsock.Config{MaxSendQ: 256 << 10, HandshakeTimeout: time.Second}, ircsock.ListenerConfig{Idle: time.Second})
	// newServer bounds waits by rowTimeout; the soak needs its own.
	ctx, cancel := context.WithTimeout(context.Background(), dur+60*time.Second)
	defer cancel()
	s.ctx = ctx
	s.hook(func(h *hooks) {
		h.onOpen = func(c *ircsock.Conn) {
			_ = s.b.CompressInputAfter(c.ID(), func(m *ircmsg.Message) bool { return m.Command == "ZIP" })
		}
		// Idle connections (slowloris) are dropped at their second idle.
		h.onIdle = func(c *ircsock.Conn) {
			s.mu.Lock()
			n := s.byID[c.ID()].idles
			s.mu.Unlock()
			if n >= 2 {
				_ = s.b.DisconnectNow(c.ID(), "Idle timeout")
			}
		}
	})

	var peakHeap, peakStack, peakG atomic.Uint64
	sampDone := make(chan struct{})
	stopSamp := make(chan struct{})
	go func() {
		defer close(sampDone)
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			if ms.StackInuse > peakStack.Load() {
				peakStack.Store(ms.StackInuse)
			}
			if g := uint64(runtime.NumGoroutine()); g > peakG.Load() {
				peakG.Store(g)
			}
			select {
			case <-stopSamp:
				return
			case <-tk.C:
			}
		}
	}()

	head, unit, _ := bomb(b)
	end := time.Now().Add(dur)
	var (
		wg                 sync.WaitGroup
		sent, recv, faults atomic.Int64
		errMu              sync.Mutex
		errs               []string
	)
	fail := func(format string, args ...any) {
		errMu.Lock()
		if len(errs) < 20 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
		errMu.Unlock()
	}
	start := time.Now()
	for i := range nGood {
		wg.Go(func() {
			c, err := dialErr(ctx, fmt.Sprint("good ", i), s.addr())
			if err != nil {
				fail("good %d: dial: %v", i, err)
				return
			}
			defer c.c.Close()
			// The reader checks every echo against the next number, up to
			// the final "end" line the writer sends last.
			var n atomic.Int64
			readDone := make(chan struct{})
			go func() {
				defer close(readDone)
				last := msgLine(fmt.Sprintf("%d end", i))
				for seq := 0; ; seq++ {
					l, err := c.readLine()
					if err != nil {
						fail("good %d: after %d echoes: %v", i, seq, err)
						return
					}
					if l == last {
						if int64(seq) != n.Load() {
							fail("good %d: %d echoes before the end, want %d", i, seq, n.Load())
						}
						return
					}
					if want := msgLine(fmt.Sprintf("%d %d", i, seq)); l != want {
						fail("good %d: echo %d = %q, want %q", i, seq, l, want)
						return
					}
					recv.Add(1)
				}
			}()
			tk := time.NewTicker(period)
			defer tk.Stop()
			for seq := 0; time.Now().Before(end); seq++ {
				if err := c.write([]byte(msgLine(fmt.Sprintf("%d %d", i, seq)) + "\r\n")); err != nil {
					fail("good %d: write %d: %v", i, seq, err)
					break
				}
				n.Add(1)
				sent.Add(1)
				select {
				case <-tk.C:
				case <-ctx.Done():
				}
			}
			_ = c.write([]byte(msgLine(fmt.Sprintf("%d end", i)) + "\r\n"))
			<-readDone
		})
	}
	faultsList := []func(c *client){
		func(c *client) { // endless line
			chunk := bytes.Repeat([]byte("a"), 64<<10)
			for range 32 {
				if c.write(chunk) != nil {
					return
				}
			}
			_ = c.write([]byte("\r\n"))
		},
		func(c *client) { // bomb
			if c.write([]byte("ZIP\r\n")) != nil || c.write(head) != nil {
				return
			}
			for range 1024 {
				if c.write(unit) != nil {
					return
				}
			}
		},
		func(c *client) { _ = c.write([]byte("ZIP\r\nNICK garbage\r\n")) },
		func(c *client) { // never reads: its echoes overflow the send queue
			line := []byte(msgLine(strings.Repeat("n", 400)) + "\r\n")
			for range 4096 {
				if c.write(line) != nil {
					return
				}
			}
		},
		func(c *client) { // reset mid-write
			_ = c.write([]byte(msgLine("about to reset") + "\r\n"))
			_, _ = c.readLine()
			_ = c.c.(*net.TCPConn).SetLinger(0)
		},
		func(c *client) { // slowloris: a byte every 700 ms, dropped on idle
			for _, ch := range []byte("NICK slowloris") {
				if c.write([]byte{ch}) != nil {
					return
				}
				select {
				case <-time.After(700 * time.Millisecond):
				case <-ctx.Done():
					return
				}
			}
		},
	}
	for i := range nBad {
		wg.Go(func() {
			for k := i; time.Now().Before(end); k++ {
				c, err := dialErr(ctx, fmt.Sprint("bad ", i), s.addr())
				if err != nil {
					fail("bad %d: dial: %v", i, err)
					return
				}
				dl, cancel := context.WithDeadline(ctx, end)
				c.ctx = dl
				faultsList[k%len(faultsList)](c)
				faults.Add(1)
				_ = c.c.Close()
				cancel()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopSamp)
	<-sampDone

	for _, e := range errs {
		b.Error(e)
	}
	if sent.Load() != recv.Load() {
		b.Errorf("well-behaved clients sent %d lines and got %d back", sent.Load(), recv.Load())
	}
	b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peakStack.Load())/(1<<20), "peak-stack-MiB")
	b.ReportMetric(float64(peakG.Load()), "peak-goroutines")
	b.ReportMetric(float64(recv.Load())/elapsed.Seconds(), "echoes/s")
	b.ReportMetric(float64(recv.Load()), "echoes")
	b.ReportMetric(float64(faults.Load()), "faults")
}
