package ircsock_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
)

// holderEnv makes the test binary a client holder: it dials N plaintext
// connections to an address, prints "ok", and keeps them open until its
// stdin closes. The client ends of the idle-memory benchmark live there,
// so that the benchmark process holds only the server ends (and the file
// descriptor limit is not shared).
const holderEnv = "IRCSOCK_IMPL_HOLDER"

func init() {
	spec := os.Getenv(holderEnv)
	if spec == "" {
		return
	}
	addr, n, _ := strings.Cut(spec, ",")
	count, _ := strconv.Atoi(n)
	conns := make([]net.Conn, 0, count)
	for range count {
		c, err := net.DialTimeout("tcp4", addr, 10*time.Second)
		if err != nil {
			fmt.Println("dial:", err)
			os.Exit(1)
		}
		conns = append(conns, c)
	}
	fmt.Println("ok")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	os.Exit(0)
}

func memInUse() (heap, stack uint64) {
	runtime.GC()
	debug.FreeOSMemory()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse
}

// BenchmarkIdleConnMemory measures the Go heap and stack per idle
// plaintext connection, server ends only, at 10,000 connections
// (IRCSOCK_IDLE_CONNS overrides the count).
func BenchmarkIdleConnMemory(b *testing.B) {
	n := 10000
	if s := os.Getenv("IRCSOCK_IDLE_CONNS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	b.ReportAllocs()
	for b.Loop() {
		heap, stack := idleConnMemory(b, n)
		b.ReportMetric(heap+stack, "B/conn")
		b.ReportMetric(heap, "heapB/conn")
		b.ReportMetric(stack, "stackB/conn")
	}
}

func idleConnMemory(b *testing.B, n int) (heap, stack float64) {
	be := ircsock.New(ircsock.Config{Events: 64})
	opened := make(chan struct{}, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range be.Events() {
			if _, ok := ev.(ircsock.ListenerOpen); ok {
				opened <- struct{}{}
			}
		}
	}()
	l, err := be.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1"})
	if err != nil {
		b.Fatal(err)
	}
	h0, s0 := memInUse()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=127.0.0.1:%d,%d", holderEnv, l.Port(), n))
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ok\n" {
		b.Fatalf("holder: %q", line)
	}
	timeout := time.After(60 * time.Second)
	for i := range n {
		select {
		case <-opened:
		case <-timeout:
			b.Fatalf("only %d of %d connections opened within 60s", i, n)
		}
	}
	h1, s1 := memInUse()
	heap = float64(int64(h1)-int64(h0)) / float64(n)
	stack = float64(int64(s1)-int64(s0)) / float64(n)
	stdin.Close()
	cmd.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	be.Shutdown(ctx)
	<-done
	return heap, stack
}

const echoLine = ":nick!user@host.example.net PRIVMSG #bench :The quick brown fox jumps over the lazy dog 0123456789\r\n"

// echoClients drives a batch of lines per client through an echo server
// at addr and waits for them to come back.
type echoClients struct {
	conns []net.Conn
	rds   []*bufio.Reader
	batch []byte
	per   int
}

func newEchoClients(b *testing.B, addr string, clients, per int) *echoClients {
	e := &echoClients{per: per, batch: bytes.Repeat([]byte(echoLine), per)}
	for range clients {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			b.Fatal(err)
		}
		e.conns = append(e.conns, c)
		e.rds = append(e.rds, bufio.NewReaderSize(c, 64<<10))
	}
	return e
}

func (e *echoClients) round(b *testing.B) {
	var wg sync.WaitGroup
	for i, c := range e.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			go c.Write(e.batch)
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			for range e.per {
				if _, err := e.rds[i].ReadSlice('\n'); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func (e *echoClients) close() {
	for _, c := range e.conns {
		c.Close()
	}
}

// BenchmarkEcho measures messages per second echoed through the Backend
// (client -> Input event -> controller -> Send -> client) beside a plain
// bufio line echo server over TCP; the ratio of the two msgs/s is the
// figure of merit.
func BenchmarkEcho(b *testing.B) {
	const clients, per = 8, 200
	b.Run("backend", func(b *testing.B) {
		be := ircsock.New(ircsock.Config{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ev := range be.Events() {
				if in, ok := ev.(ircsock.Input); ok {
					be.Send(in.Msg, in.Conn.ID())
				}
			}
		}()
		l, err := be.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1"})
		if err != nil {
			b.Fatal(err)
		}
		e := newEchoClients(b, fmt.Sprintf("127.0.0.1:%d", l.Port()), clients, per)
		b.ReportAllocs()
		b.SetBytes(int64(len(echoLine) * clients * per))
		start := time.Now()
		for b.Loop() {
			e.round(b)
		}
		b.ReportMetric(float64(b.N*clients*per)/time.Since(start).Seconds(), "msgs/s")
		e.close()
		be.Close()
		<-done
	})
	b.Run("bufio", func(b *testing.B) {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer c.Close()
					r := bufio.NewReader(c)
					w := bufio.NewWriter(c)
					for {
						line, err := r.ReadSlice('\n')
						if err != nil {
							return
						}
						w.Write(line)
						if r.Buffered() == 0 {
							if w.Flush() != nil {
								return
							}
						}
					}
				}()
			}
		}()
		e := newEchoClients(b, ln.Addr().String(), clients, per)
		b.ReportAllocs()
		b.SetBytes(int64(len(echoLine) * clients * per))
		start := time.Now()
		for b.Loop() {
			e.round(b)
		}
		b.ReportMetric(float64(b.N*clients*per)/time.Since(start).Seconds(), "msgs/s")
		e.close()
		ln.Close()
		wg.Wait()
	})
}
