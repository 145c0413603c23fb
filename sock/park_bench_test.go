package sock

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// BenchmarkWheelRoundTrip measures one line to a wheel and its echo back,
// the client waiting for each echo before the next line, so that every
// line finds the server's wheel waiting for input: under Start (parked
// on Linux) each line costs an epoll arm and a fresh goroutine, under Run
// a wake-up of the blocked reader. Compare the two ns/op inside one run.
func BenchmarkWheelRoundTrip(b *testing.B) {
	for _, mode := range []string{"run", "start"} {
		b.Run(mode, func(b *testing.B) {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
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
			echo := HandlerFunc(func(w *Wheel, ev Event) {
				if ev.Kind == EventRecord {
					_ = w.Write(ev.Record)
				}
			})
			w := NewWheel(s, &nlFilter{}, &nlFilter{}, echo, WheelConfig{Idle: -1})
			done := make(chan struct{})
			if mode == "run" {
				go func() { w.Run(); close(done) }()
			} else {
				w.Start(func() { close(done) })
			}
			line := []byte("PRIVMSG #bench :a line of chat, neither short nor long\n")
			r := bufio.NewReader(c)
			_ = c.SetDeadline(time.Now().Add(time.Minute))
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(line); err != nil {
					b.Fatal(err)
				}
				if _, err := r.ReadSlice('\n'); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			w.Close("bench end", nil)
			<-done
		})
	}
}
