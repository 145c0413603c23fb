//go:build linux

package sock

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ownConn hides the socket's descriptor (it has no SyscallConn), so that a
// wheel over it is written by a goroutine of its own, as every wheel was
// before the shared writers.
type ownConn struct{ net.Conn }

// BenchmarkWheelFanout measures a burst queued to many wheels and flushed,
// the way the Backend's Send delivers a channel message while more events
// wait: each op queues one line on each of 200 wheels with Queue, and
// every 10 lines flushes them all. "shared" wheels are written by the
// shared writers, "own" ones (ownConn) by a goroutine each per burst.
// Peers read everything on goroutines of their own. Each mode first runs
// 5,000 untimed ops. Compare the two
// ns/op (and the process CPU per op, reported as cpu-ns/op) inside one
// run: the machine's noise touches both alike.
func BenchmarkWheelFanout(b *testing.B) {
	const wheels, burst, warmup = 200, 10, 5000
	line := []byte("PRIVMSG #bench :a line of chat, neither short nor long")
	for _, mode := range []string{"shared", "own"} {
		b.Run(mode, func(b *testing.B) {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			ws := make([]*Wheel, wheels)
			read := make(chan int64, wheels)
			for i := range ws {
				accepted := make(chan net.Conn, 1)
				go func() {
					c, _ := ln.Accept()
					accepted <- c
				}()
				c, err := net.Dial("tcp4", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				s := <-accepted
				if s == nil {
					b.Fatal("accept failed")
				}
				var conn net.Conn = s
				if mode == "own" {
					conn = ownConn{s}
				}
				ws[i] = NewWheel(conn, &nlFilter{}, &nlFilter{}, HandlerFunc(func(*Wheel, Event) {}), WheelConfig{Idle: -1, MaxSendQ: 64 << 20})
				defer ws[i].Close("bench end", nil)
				go func() {
					_ = c.SetReadDeadline(time.Now().Add(5 * time.Minute))
					n, _ := io.Copy(io.Discard, c)
					read <- n
				}()
			}
			ops := 0
			op := func() {
				for _, w := range ws {
					if err := w.Queue(line); err != nil {
						b.Fatal(err)
					}
				}
				ops++
				if ops%burst == 0 {
					for _, w := range ws {
						w.Flush()
					}
				}
			}
			// A warm-up, so that whichever mode runs first does not
			// alone pay for growing the heap and filling the buffer pool.
			for range warmup {
				op()
			}
			b.SetBytes(int64(len(line)+1) * wheels)
			b.ReportAllocs()
			cpu0, w0, ops0 := processCPU(b), syscw(b), ops
			for b.Loop() {
				op()
			}
			for _, w := range ws {
				w.Flush()
			}
			// Everything queued is written before the wheels close: a
			// graceful close per wheel, then the peers see EOF.
			for _, w := range ws {
				w.Disconnect("bench end")
			}
			var total int64
			for range ws {
				total += <-read
			}
			b.StopTimer()
			if want := int64(ops) * int64(len(line)+1) * wheels; total != want {
				b.Fatalf("peers read %d bytes, want %d", total, want)
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(ops-ops0), "cpu-ns/op")
			b.ReportMetric(float64(syscw(b)-w0)/float64((ops-ops0)*wheels)*1000, "writes/1000lines")
		})
	}
}

// syscw is the process's count of write system calls so far (syscw of
// /proc/self/io).
func syscw(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "syscw: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no syscw in /proc/self/io")
	return 0
}

// processCPU is the process's user and system CPU time so far, in ns.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(fmt.Errorf("getrusage: %w", os.NewSyscallError("getrusage", err)))
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
