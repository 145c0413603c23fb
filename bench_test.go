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
	"runtime/metrics"
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
	n, upgrade, _ := strings.Cut(n, ",")
	count, _ := strconv.Atoi(n)
	conns := make([]net.Conn, 0, count)
	for range count {
		c, err := net.DialTimeout("tcp4", addr, 10*time.Second)
		if err != nil {
			fmt.Println("dial:", err)
			os.Exit(1)
		}
		if upgrade == "ws" {
			// A WebSocket upgrade request; the 101 answer waits unread
			// in the socket, as the holder reads nothing.
			if _, err := io.WriteString(c, wsUpgradeRequest); err != nil {
				fmt.Println("upgrade:", err)
				os.Exit(1)
			}
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

// memClasses collects twice, returns memory to the OS and reads the heap
// and stack in use, and the runtime's own memory outside the heap
// (/memory/classes/other, metadata/other and metadata/mspan/inuse): what
// each socket costs the runtime itself (its poll descriptor, the netFD's
// finalizer record) and the collector's metadata, which a server pays for
// in RSS as much as for its heap.
func memClasses() (heap, stack, rt uint64) {
	runtime.GC()
	debug.FreeOSMemory()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	ss := []metrics.Sample{
		{Name: "/memory/classes/other:bytes"},
		{Name: "/memory/classes/metadata/other:bytes"},
		{Name: "/memory/classes/metadata/mspan/inuse:bytes"},
	}
	metrics.Read(ss)
	for _, x := range ss {
		rt += x.Value.Uint64()
	}
	return ms.HeapInuse, ms.StackInuse, rt
}

// BenchmarkIdleConnMemory measures the Go heap and stack per idle
// plaintext connection, server ends only, at 10,000 connections
// (IRCSOCK_IDLE_CONNS overrides the count), and the runtime's own memory
// outside the heap (runtimeB/conn). The runtime keeps the poll
// descriptors of closed sockets for reuse, so runtimeB/conn means
// something only in the first idle-memory benchmark a process runs: run
// each alone (-bench '^BenchmarkIdleConnMemory$').
func BenchmarkIdleConnMemory(b *testing.B) { benchIdleMemory(b, 10000, serverBackend) }

// BenchmarkBareConnMemory is the floor under BenchmarkIdleConnMemory: the
// same idle connections accepted by a bare net.Listener and held as
// net.Conns, with nothing of ours around them.
func BenchmarkBareConnMemory(b *testing.B) { benchIdleMemory(b, 10000, serverBare) }

// benchIdleMemory runs an idle-memory benchmark at n connections, or at
// IRCSOCK_IDLE_CONNS when that is set.
func benchIdleMemory(b *testing.B, n, server int) {
	if s := os.Getenv("IRCSOCK_IDLE_CONNS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	b.ReportAllocs()
	for b.Loop() {
		idleMemoryOf(b, n, server).report(b)
	}
}

// connMemory is the memory per connection of an idle-memory benchmark.
type connMemory struct{ heap, stack, rt float64 }

func (m connMemory) report(b *testing.B) {
	b.ReportMetric(m.heap+m.stack, "B/conn")
	b.ReportMetric(m.heap, "heapB/conn")
	b.ReportMetric(m.stack, "stackB/conn")
	b.ReportMetric(m.rt, "runtimeB/conn")
}

// wsUpgradeRequest is a WebSocket client's handshake (RFC 6455's sample
// key) with the IRCv3 text subprotocol.
const wsUpgradeRequest = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: text.ircv3.net\r\n\r\n"

// BenchmarkIdleWebSocketMemory is BenchmarkIdleConnMemory for idle
// WebSocket connections (upgraded, text subprotocol), at 2,000
// connections (IRCSOCK_IDLE_CONNS overrides the count).
func BenchmarkIdleWebSocketMemory(b *testing.B) { benchIdleMemory(b, 2000, serverWebSocket) }

// The servers an idle-memory benchmark measures.
const (
	serverBackend   = iota // a Backend's plaintext listener
	serverWebSocket        // a Backend's WebSocket listener
	serverBare             // a net.Listener whose connections are only held
)

func idleMemoryOf(b *testing.B, n, server int) connMemory {
	opened := make(chan struct{}, n)
	done := make(chan struct{})
	var (
		port int
		stop func()
	)
	if server == serverBare {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		var held []net.Conn
		go func() {
			defer close(done)
			for {
				c, err := ln.Accept()
				if err != nil {
					break
				}
				held = append(held, c)
				opened <- struct{}{}
			}
			for _, c := range held {
				c.Close()
			}
		}()
		stop = func() { ln.Close() }
	} else {
		be := ircsock.New(ircsock.Config{Events: 64})
		go func() {
			defer close(done)
			for ev := range be.Events() {
				if _, ok := ev.(ircsock.ListenerOpen); ok {
					opened <- struct{}{}
				}
			}
		}()
		lc := ircsock.ListenerConfig{Addr: "127.0.0.1:0"}
		if server == serverWebSocket {
			lc.WebSocket = &ircsock.WebSocketConfig{}
		}
		l, err := be.CreateListener(lc)
		if err != nil {
			b.Fatal(err)
		}
		port = l.Port()
		stop = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			be.Shutdown(ctx)
		}
	}
	upgrade := ""
	if server == serverWebSocket {
		upgrade = "ws"
	}
	h0, s0, r0 := memClasses()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=127.0.0.1:%d,%d,%s", holderEnv, port, n, upgrade))
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
	h1, s1, r1 := memClasses()
	per := func(a, b uint64) float64 { return float64(int64(b)-int64(a)) / float64(n) }
	m := connMemory{heap: per(h0, h1), stack: per(s0, s1), rt: per(r0, r1)}
	stdin.Close()
	cmd.Wait()
	stop()
	<-done
	return m
}

const echoLine = ":nick!user@host.example.net PRIVMSG #bench :The quick brown fox jumps over the lazy dog 0123456789\r\n"

// Shape of the echo load: every client pipelines echoBatch lines, then
// reads them all back. Both servers get exactly the same load.
const echoClients, echoBatch = 8, 200

// echoLoad drives a batch of lines per client through an echo server at
// addr and checks every line that comes back.
type echoLoad struct {
	conns []net.Conn
	rds   []*bufio.Reader
	batch []byte
}

func newEchoLoad(b *testing.B, addr string) *echoLoad {
	e := &echoLoad{batch: bytes.Repeat([]byte(echoLine), echoBatch)}
	for range echoClients {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			b.Fatal(err)
		}
		e.conns = append(e.conns, c)
		e.rds = append(e.rds, bufio.NewReaderSize(c, 64<<10))
	}
	return e
}

// round sends one batch on every client and waits for all the echoes; it
// returns how long that took.
func (e *echoLoad) round(b *testing.B) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range e.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			werr := make(chan error, 1)
			go func() { _, err := c.Write(e.batch); werr <- err }()
			for range echoBatch {
				got, err := e.rds[i].ReadSlice('\n')
				if err != nil {
					b.Errorf("client %d: read: %v", i, err)
					return
				}
				if string(got) != echoLine {
					b.Errorf("client %d: echo = %q, want %q", i, got, echoLine)
					return
				}
			}
			if err := <-werr; err != nil {
				b.Errorf("client %d: write: %v", i, err)
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

func (e *echoLoad) close() {
	for _, c := range e.conns {
		c.Close()
	}
}

// echoServer is a running echo server and how to stop it.
type echoServer struct {
	addr string
	stop func()
}

// startBackendEcho runs a Backend whose controller, one goroutine ranging
// over Events, sends every Input back to its connection and keeps the
// Message (drops it for the collector).
func startBackendEcho(b *testing.B) echoServer { return startEcho(b, false) }

// startReleasingEcho is startBackendEcho with a controller that hands
// every Input back with Release once it is sent.
func startReleasingEcho(b *testing.B) echoServer { return startEcho(b, true) }

// startHandlerEcho echoes from a Config.InputHandler on the goroutine
// that read each line, and releases every Input once it is sent; its
// controller only drains the other events.
func startHandlerEcho(b *testing.B) echoServer {
	var be *ircsock.Backend
	be = ircsock.New(ircsock.Config{InputHandler: func(in ircsock.Input) {
		be.Send(in.Msg(), in.Conn().ID())
		in.Release()
	}})
	return listenEcho(b, be, func(ircsock.Event) {})
}

func startEcho(b *testing.B, release bool) echoServer {
	be := ircsock.New(ircsock.Config{})
	return listenEcho(b, be, func(ev ircsock.Event) {
		if in, ok := ev.(ircsock.Input); ok {
			be.Send(in.Msg(), in.Conn().ID())
			if release {
				in.Release()
			}
		}
	})
}

// listenEcho adds a listener to be, runs its controller, a goroutine
// that calls control with every event, and returns it as an echoServer
// whose stop closes be and waits for the controller.
func listenEcho(b *testing.B, be *ircsock.Backend, control func(ircsock.Event)) echoServer {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range be.Events() {
			control(ev)
		}
	}()
	l, err := be.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	return echoServer{
		addr: fmt.Sprintf("127.0.0.1:%d", l.Port()),
		stop: func() { be.Close(); <-done },
	}
}

// startBufioEcho runs the idiomatic Go line echo: a goroutine per
// connection, a bufio.Reader for the lines and a bufio.Writer flushed
// whenever no more input is buffered.
func startBufioEcho(b *testing.B) echoServer {
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
	return echoServer{addr: ln.Addr().String(), stop: func() { ln.Close(); wg.Wait() }}
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// BenchmarkEcho measures messages per second echoed through the Backend
// (client -> Input event -> controller -> Send -> client) beside a plain
// bufio line echo server over TCP, with the same clients and pipelining.
//
// The "ratio" cases are the figures of merit, one for each way of taking
// input: "ratio" runs one round on each server per iteration, alternating
// which goes first, so both see the same machine noise, and reports both
// rates, the Backend's share of the bufio rate in percent, the Backend's
// allocations per message, and the CPU time (user and system, clients
// included) per message of each, which a busy machine disturbs less than
// the rates, and the read and write system calls per round (clients
// included: 8 writes and at least 8 reads of theirs), which show how well
// each server batches. Its controller keeps every Message (the default
// ownership); "ratio-release" is the same with a controller that hands
// every Input back with Release; "ratio-handler" echoes from a
// Config.InputHandler on the reading goroutines instead of a controller,
// and releases. The "backend", "backend-release", "backend-handler" and
// "bufio" cases run one server alone, for profiling.
func BenchmarkEcho(b *testing.B) {
	const perRound = echoClients * echoBatch
	for _, tc := range []struct {
		name  string
		start func(*testing.B) echoServer
	}{{"backend", startBackendEcho}, {"backend-release", startReleasingEcho}, {"backend-handler", startHandlerEcho}, {"bufio", startBufioEcho}} {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.start(b)
			defer s.stop()
			e := newEchoLoad(b, s.addr)
			defer e.close()
			b.ReportAllocs()
			b.SetBytes(int64(len(echoLine) * perRound))
			var busy time.Duration
			for b.Loop() {
				busy += e.round(b)
			}
			b.ReportMetric(float64(b.N*perRound)/busy.Seconds(), "msgs/s")
		})
	}
	b.Run("ratio", func(b *testing.B) { echoRatio(b, startBackendEcho) })
	b.Run("ratio-release", func(b *testing.B) { echoRatio(b, startReleasingEcho) })
	b.Run("ratio-handler", func(b *testing.B) { echoRatio(b, startHandlerEcho) })
}

// echoRatio runs the Backend that start starts and the bufio echo side
// by side, one round each per iteration (see BenchmarkEcho).
func echoRatio(b *testing.B, start func(*testing.B) echoServer) {
	const perRound = echoClients * echoBatch
	sb, sf := start(b), startBufioEcho(b)
	defer sf.stop()
	defer sb.stop()
	eb, ef := newEchoLoad(b, sb.addr), newEchoLoad(b, sf.addr)
	defer ef.close()
	defer eb.close()
	var tb, tf, cb, cf time.Duration
	var allocs, rb0, wb0, rf0, wf0 uint64
	backend := func() {
		m, c := mallocs(), cpuTime()
		r, w := syscalls()
		tb += eb.round(b)
		cb += cpuTime() - c
		r2, w2 := syscalls()
		allocs += mallocs() - m
		rb0, wb0 = rb0+r2-r, wb0+w2-w
	}
	bufio := func() {
		c := cpuTime()
		r, w := syscalls()
		tf += ef.round(b)
		cf += cpuTime() - c
		r2, w2 := syscalls()
		rf0, wf0 = rf0+r2-r, wf0+w2-w
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			backend()
			bufio()
		} else {
			bufio()
			backend()
		}
		i++
	}
	rb := float64(b.N*perRound) / tb.Seconds()
	rf := float64(b.N*perRound) / tf.Seconds()
	b.ReportMetric(rb, "backend-msgs/s")
	b.ReportMetric(rf, "bufio-msgs/s")
	b.ReportMetric(100*rb/rf, "%bufio")
	b.ReportMetric(float64(allocs)/float64(b.N*perRound), "backend-allocs/msg")
	n := float64(b.N * perRound)
	b.ReportMetric(float64(cb.Nanoseconds())/n, "backend-cpu-ns/msg")
	b.ReportMetric(float64(cf.Nanoseconds())/n, "bufio-cpu-ns/msg")
	b.ReportMetric(100*float64(cf)/float64(cb), "%bufio-cpu")
	rounds := float64(b.N)
	b.ReportMetric(float64(rb0)/rounds, "backend-reads/round")
	b.ReportMetric(float64(wb0)/rounds, "backend-writes/round")
	b.ReportMetric(float64(rf0)/rounds, "bufio-reads/round")
	b.ReportMetric(float64(wf0)/rounds, "bufio-writes/round")
}
