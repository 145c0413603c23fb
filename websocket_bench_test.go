package ircsock_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ircsock/ircsock"
)

// wsEchoServer is a Backend echoing every Input to its sender, with a TCP
// and a WebSocket listener.
type wsEchoServer struct {
	b        *ircsock.Backend
	tcp, ws  string
	finished chan struct{}
}

func startWSEcho(b *testing.B) *wsEchoServer {
	b.Helper()
	s := &wsEchoServer{b: ircsock.New(ircsock.Config{}), finished: make(chan struct{})}
	tl, err := s.b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Idle: -1})
	if err != nil {
		b.Fatal(err)
	}
	wl, err := s.b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Idle: -1, WebSocket: &ircsock.WebSocketConfig{}})
	if err != nil {
		b.Fatal(err)
	}
	s.tcp, s.ws = listenAddr(tl), "ws://"+listenAddr(wl)+"/"
	go func() {
		defer close(s.finished)
		for ev := range s.b.Events() {
			if in, ok := ev.(ircsock.Input); ok {
				_ = s.b.Send(in.Msg(), in.Conn().ID())
			}
		}
	}()
	return s
}

func (s *wsEchoServer) stop() {
	_ = s.b.Close()
	<-s.finished
}

// wsEchoBatch lines per round, pipelined by one client.
const wsEchoBatch = 200

// wsEchoLine is echoLine without its CR LF, the body of a message.
var wsEchoLine = strings.TrimSuffix(echoLine, "\r\n")

type tcpEchoClient struct {
	c   net.Conn
	r   *bufio.Reader
	out []byte
}

func newTCPEchoClient(b *testing.B, addr string) *tcpEchoClient {
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		b.Fatal(err)
	}
	return &tcpEchoClient{c: c, r: bufio.NewReader(c), out: []byte(strings.Repeat(echoLine, wsEchoBatch))}
}

// round writes the batch and reads every echo back, checking each.
func (e *tcpEchoClient) round(b *testing.B) time.Duration {
	start := time.Now()
	_ = e.c.SetDeadline(start.Add(testTimeout))
	errc := make(chan error, 1)
	go func() {
		_, err := e.c.Write(e.out)
		errc <- err
	}()
	for i := range wsEchoBatch {
		line, err := e.r.ReadSlice('\n')
		if err != nil || string(line) != echoLine {
			b.Fatalf("TCP echo %d = %q, %v", i, line, err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

type wsEchoClient struct {
	c   *websocket.Conn
	msg []byte
}

func newWSEchoClient(b *testing.B, url string) *wsEchoClient {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{ircsock.SubprotocolText}})
	if err != nil {
		b.Fatal(err)
	}
	return &wsEchoClient{c: c, msg: []byte(wsEchoLine)}
}

func (e *wsEchoClient) round(b *testing.B) time.Duration {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		for range wsEchoBatch {
			if err := e.c.Write(ctx, websocket.MessageText, e.msg); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := range wsEchoBatch {
		typ, r, err := e.c.Reader(ctx)
		if err != nil {
			b.Fatalf("WebSocket echo %d: %v", i, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || typ != websocket.MessageText || string(got) != wsEchoLine {
			b.Fatalf("WebSocket echo %d = %v %q, %v", i, typ, got, err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkWebSocketEcho measures the Backend echoing a pipelined batch of
// 200 PRIVMSG lines to one client over WebSocket (text subprotocol, one
// message per line) beside one client over TCP, on the same Backend.
// "ratio" alternates a TCP round and a WebSocket round per iteration so
// both see the same machine noise, and reports both rates and the
// WebSocket rate as a share of the TCP one (%tcp), the CPU time per
// message (user and system, client included) and the write system calls
// per round (client included: the TCP client writes its batch at once,
// the WebSocket client one message at a time). The WebSocket client is the
// library's own, so its cost counts too.
func BenchmarkWebSocketEcho(b *testing.B) {
	s := startWSEcho(b)
	defer s.stop()
	tc := newTCPEchoClient(b, s.tcp)
	defer tc.c.Close()
	wc := newWSEchoClient(b, s.ws)
	defer wc.c.CloseNow()
	b.Run("ratio", func(b *testing.B) {
		b.ReportAllocs()
		var tt, tw, ct, cw time.Duration
		var wt, ww uint64
		tcpRound := func() {
			c := cpuTime()
			_, w := syscalls()
			tt += tc.round(b)
			_, w2 := syscalls()
			ct += cpuTime() - c
			wt += w2 - w
		}
		wsRound := func() {
			c := cpuTime()
			_, w := syscalls()
			tw += wc.round(b)
			_, w2 := syscalls()
			cw += cpuTime() - c
			ww += w2 - w
		}
		i := 0
		for b.Loop() {
			if i%2 == 0 {
				tcpRound()
				wsRound()
			} else {
				wsRound()
				tcpRound()
			}
			i++
		}
		n := float64(b.N * wsEchoBatch)
		b.ReportMetric(n/tt.Seconds(), "tcp-msgs/s")
		b.ReportMetric(n/tw.Seconds(), "ws-msgs/s")
		b.ReportMetric(100*tt.Seconds()/tw.Seconds(), "%tcp")
		b.ReportMetric(float64(ct.Nanoseconds())/n, "tcp-cpu-ns/msg")
		b.ReportMetric(float64(cw.Nanoseconds())/n, "ws-cpu-ns/msg")
		b.ReportMetric(float64(wt)/float64(b.N), "tcp-writes/round")
		b.ReportMetric(float64(ww)/float64(b.N), "ws-writes/round")
	})
}
