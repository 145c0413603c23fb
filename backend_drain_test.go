package ircsock_test

// The edges of a connection, in the shapes that used to lose data: a
// Disconnect against a slow reader that keeps talking, a Shutdown with deep
// queues and stalled readers, drains cut by their limit (which must say
// what they lost), a peer that half-closes with replies queued, and a last
// line without a line end.

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// edgeServer is a Backend on 127.0.0.1 whose controller calls onInput for
// every line and hands opens, input errors and disconnects to the test.
type edgeServer struct {
	b      *ircsock.Backend
	addr   string
	opened chan *ircsock.Conn
	ierrs  chan ircsock.InputError
	discs  chan ircsock.Disconnect
	done   chan struct{}
}

func startEdgeServer(t *testing.T, cfg ircsock.Config, lcfg ircsock.ListenerConfig, onInput func(b *ircsock.Backend, in ircsock.Input)) *edgeServer {
	t.Helper()
	checkLeaks(t)
	s := &edgeServer{
		b:      ircsock.New(cfg),
		opened: make(chan *ircsock.Conn, 256),
		ierrs:  make(chan ircsock.InputError, 256),
		discs:  make(chan ircsock.Disconnect, 256),
		done:   make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		for ev := range s.b.Events() {
			switch ev := ev.(type) {
			case ircsock.ListenerOpen:
				s.opened <- ev.Conn
			case ircsock.Input:
				if onInput != nil {
					onInput(s.b, ev)
				}
			case ircsock.InputError:
				s.ierrs <- ev
			case ircsock.Disconnect:
				s.discs <- ev
			}
		}
	}()
	t.Cleanup(func() {
		_ = s.b.Close()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Errorf("events channel still open 10 s after Close")
		}
	})
	if lcfg.Addr == "" && lcfg.Listener == nil {
		lcfg.Addr = "127.0.0.1:0"
	}
	if lcfg.Idle == 0 {
		lcfg.Idle = -1
	}
	l, err := s.b.CreateListener(lcfg)
	if err != nil {
		t.Fatalf("CreateListener = %v", err)
	}
	s.addr = listenAddr(l)
	return s
}

func (s *edgeServer) disconnect(t *testing.T, ctx context.Context) ircsock.Disconnect {
	t.Helper()
	select {
	case d := <-s.discs:
		return d
	case <-ctx.Done():
		t.Fatalf("no Disconnect event: %v", ctx.Err())
	}
	return ircsock.Disconnect{}
}

// dialRcvBuf dials addr with SO_RCVBUF set before the handshake, so that
// the window the client offers really is that small.
func dialRcvBuf(ctx context.Context, t *testing.T, addr string, rcvbuf int) *net.TCPConn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		}); err != nil {
			return err
		}
		return serr
	}}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	return c.(*net.TCPConn)
}

// pacedReader hands out at most n bytes per tick: a slow reader whose
// pace is the load, not a synchronisation.
type pacedReader struct {
	r    io.Reader
	tick <-chan time.Time
	n    int
}

func (p *pacedReader) Read(b []byte) (int, error) {
	<-p.tick
	return p.r.Read(b[:min(len(b), p.n)])
}

func replyLine(i int) string { return "NOTICE you " + numbered("r", i) + " " + payload }

// countReplies reads r until EOF or an error and checks that the replies
// arrive in order; it returns how many did and the error that ended it.
func countReplies(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 4096)
	n := 0
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			if err == io.EOF && l != "" {
				err = fmt.Errorf("a partial line %q before EOF", l)
			}
			return n, err
		}
		if want := replyLine(n) + "\r\n"; l != want {
			return n, fmt.Errorf("reply %d = %.40q..., want %.40q...", n, l, want)
		}
		n++
	}
}

// TestBackendDisconnectSlowTalkingReader is the lingering close: a client
// sends 10,000 lines at about 2,500 lines/s while reading slowly through a
// 64 KiB receive buffer, gets a 410-byte reply per line, and goes on
// talking after the server's Disconnect (queued right after the last
// reply). It must get every reply and then a clean end of stream, over
// plain TCP and over TLS (close_notify, then FIN).
func TestBackendDisconnectSlowTalkingReader(t *testing.T) {
	const lines = 10000
	for _, useTLS := range []bool{false, true} {
		name := "plain"
		if useTLS {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			counts := map[ircsock.ConnID]int{}
			var lcfg ircsock.ListenerConfig
			if useTLS {
				lcfg.TLS = &tls.Config{Certificates: []tls.Certificate{pki().server}}
			}
			sendErrs := make(chan error, 1)
			// The default DrainTimeout, as a server would run; TLS under
			// the race detector reads so much slower that it gets room.
			cfg := ircsock.Config{}
			if useTLS {
				cfg.DrainTimeout = 30 * time.Second
			}
			s := startEdgeServer(t, cfg, lcfg, func(b *ircsock.Backend, in ircsock.Input) {
				id := in.Conn().ID()
				i := counts[id]
				counts[id] = i + 1
				if i >= lines {
					return // the client still talking after the Disconnect
				}
				if err := b.Send(msg("NOTICE", "you", numbered("r", i), payload), id); err != nil {
					select {
					case sendErrs <- fmt.Errorf("Send reply %d = %v", i, err):
					default:
					}
				}
				if i == lines-1 {
					if err := b.Disconnect(id, "done"); err != nil {
						sendErrs <- fmt.Errorf("Disconnect = %v", err)
					}
				}
			})
			tc := dialRcvBuf(ctx, t, s.addr, 64<<10)
			var c net.Conn = tc
			if useTLS {
				tlc := tls.Client(tc, &tls.Config{RootCAs: pki().pool, ServerName: "localhost"})
				if err := tlc.HandshakeContext(ctx); err != nil {
					t.Fatalf("TLS handshake: %v", err)
				}
				c = tlc
			}
			readDone := make(chan struct{})
			var wg sync.WaitGroup
			defer wg.Wait()
			wg.Go(func() {
				// 10 lines every 4 ms is 2,500 lines/s; after the last
				// one the client keeps talking until it has read to EOF.
				tk := time.NewTicker(4 * time.Millisecond)
				defer tk.Stop()
				for i := 0; ; i += 10 {
					var sb strings.Builder
					for j := i; j < i+10; j++ {
						if j < lines {
							fmt.Fprintf(&sb, "PRIVMSG srv :%s\r\n", numbered("q", j))
						} else {
							sb.WriteString("PING :still here\r\n")
						}
					}
					if _, err := io.WriteString(c, sb.String()); err != nil {
						return // the server closed after our read ended
					}
					select {
					case <-tk.C:
					case <-readDone:
						return
					case <-ctx.Done():
						return
					}
				}
			})
			rt := time.NewTicker(6 * time.Millisecond)
			defer rt.Stop()
			// 4 KiB per 6 ms, about 680 KB/s where the replies come at
			// about 1 MB/s: more than a megabyte is still on its way when
			// the Disconnect is queued.
			got, err := countReplies(&pacedReader{r: c, tick: rt.C, n: 4096})
			close(readDone)
			if err != io.EOF {
				t.Errorf("read ended with %v after %d replies, want EOF", err, got)
			}
			if got != lines {
				t.Errorf("client got %d of %d replies", got, lines)
			}
			c.Close()
			d := s.disconnect(t, ctx)
			if d.Reason != "done" || d.Err != nil || d.Undelivered != 0 {
				t.Errorf("Disconnect = %q, %v, %d undelivered; want %q, nil, 0", d.Reason, d.Err, d.Undelivered, "done")
			}
			select {
			case err := <-sendErrs:
				t.Error(err)
			default:
			}
		})
	}
}

// smallSendBufListener accepts from a TCP listener and gives every
// connection a small send buffer, so that replies wait in the Backend's
// queue rather than in the kernel.
type smallSendBufListener struct {
	*net.TCPListener
	size int
}

func (l smallSendBufListener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	if err := c.SetWriteBuffer(l.size); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// TestBackendShutdownDeepQueues: 100 connections, each with 300 replies of
// about 410 bytes queued in the Backend, readers stalled for 3 s after
// Shutdown is called (longer than any fixed linger, and in the second case
// longer than DrainTimeout, which bounds only the wait for the peer's
// close once its queue is written). Shutdown with a 30 s deadline must
// return nil only after every client has every reply.
func TestBackendShutdownDeepQueues(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ircsock.Config
	}{
		{"default drain", ircsock.Config{MaxSendQ: 8 << 20}},
		{"stall past DrainTimeout", ircsock.Config{MaxSendQ: 8 << 20, DrainTimeout: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) { shutdownDeepQueues(t, tc.cfg) })
	}
}

func shutdownDeepQueues(t *testing.T, cfg ircsock.Config) {
	const conns, replies = 100, 300
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	queued := make(chan ircsock.ConnID, conns)
	s := startEdgeServer(t, cfg, ircsock.ListenerConfig{Listener: smallSendBufListener{ln, 8 << 10}},
		func(b *ircsock.Backend, in ircsock.Input) {
			id := in.Conn().ID()
			for i := range replies {
				if err := b.Send(msg("NOTICE", "you", numbered("r", i), payload), id); err != nil {
					t.Errorf("Send reply %d to %d = %v", i, id, err)
					return
				}
			}
			queued <- id
		})
	s.addr = ln.Addr().String()
	clients := make([]*net.TCPConn, conns)
	for i := range clients {
		clients[i] = dialRcvBuf(ctx, t, s.addr, 4096)
		if _, err := io.WriteString(clients[i], "HELLO\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	for range conns {
		select {
		case <-queued:
		case <-ctx.Done():
			t.Fatalf("replies not queued: %v", ctx.Err())
		}
	}
	stall := time.After(3 * time.Second)
	results := make(chan [2]int, conns)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			<-start
			n, err := countReplies(c)
			if err != io.EOF {
				t.Errorf("client %d: read ended with %v after %d replies, want EOF", i, err, n)
			}
			c.Close()
			results <- [2]int{i, n}
		})
	}
	shut := make(chan error, 1)
	go func() {
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		defer scancel()
		shut <- s.b.Shutdown(sctx)
	}()
	<-stall
	close(start)
	wg.Wait()
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	lost := 0
	for range conns {
		r := <-results
		if r[1] != replies {
			lost += replies - r[1]
			t.Errorf("client %d got %d of %d replies", r[0], r[1], replies)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d replies lost", lost, conns*replies)
	}
	<-s.done
	for range conns {
		d := <-s.discs
		if d.Reason != ircsock.ReasonShutdown || d.Err != nil || d.Undelivered != 0 {
			t.Errorf("Disconnect = %q, %v, %d undelivered; want %q, nil, 0", d.Reason, d.Err, d.Undelivered, ircsock.ReasonShutdown)
		}
	}
}

// stuffed opens n clients that never read, on a listener whose
// connections have small send buffers, and queues replies replies to
// each; it returns the clients and the bytes queued per client.
func stuffed(ctx context.Context, t *testing.T, cfg ircsock.Config, n, replies int) (*edgeServer, []*net.TCPConn, int) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := startEdgeServer(t, cfg, ircsock.ListenerConfig{Listener: smallSendBufListener{ln, 8 << 10}}, nil)
	s.addr = ln.Addr().String()
	clients := make([]*net.TCPConn, n)
	for i := range clients {
		clients[i] = dialRcvBuf(ctx, t, s.addr, 4096)
		var conn *ircsock.Conn
		select {
		case conn = <-s.opened:
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
		for j := range replies {
			if err := s.b.Send(msg("NOTICE", "you", numbered("r", j), payload), conn.ID()); err != nil {
				t.Fatalf("Send = %v", err)
			}
		}
	}
	return s, clients, replies * (len(replyLine(0)) + 2)
}

// readAfterCut reads what a client can still get after the server cut
// it, and checks the cut's count against it: everything not counted as
// undelivered must arrive (the count may be high, as unacknowledged bytes
// can still arrive after the close, never low).
func readAfterCut(t *testing.T, c net.Conn, total int, undelivered int64) {
	t.Helper()
	got, _ := io.Copy(io.Discard, c)
	if got < int64(total)-undelivered || got > int64(total) {
		t.Errorf("client got %d bytes of %d with %d reported undelivered; want between %d and %d", got, total, undelivered, int64(total)-undelivered, total)
	}
	t.Logf("client got %d of %d bytes; %d reported undelivered", got, total, undelivered)
}

// TestBackendDrainTimeoutReportsUndelivered: a Disconnect against a client
// that reads nothing runs out of Config.DrainTimeout, and the Disconnect
// event says so and how many bytes did not reach the client.
func TestBackendDrainTimeoutReportsUndelivered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, clients, total := stuffed(ctx, t, ircsock.Config{MaxSendQ: 8 << 20, DrainTimeout: 300 * time.Millisecond}, 1, 2000)
	for _, c := range s.b.Conns() {
		if err := s.b.Disconnect(c.ID(), "bye"); err != nil {
			t.Fatal(err)
		}
	}
	d := s.disconnect(t, ctx)
	var de *ircsock.DrainError
	if !errors.As(d.Err, &de) || !errors.Is(d.Err, ircsock.ErrDrainTimeout) {
		t.Fatalf("Disconnect.Err = %v, want a *DrainError wrapping ErrDrainTimeout", d.Err)
	}
	if d.Reason != "bye" || d.Undelivered <= 0 || de.Undelivered != d.Undelivered || de.Limit != 300*time.Millisecond {
		t.Errorf("Disconnect = %q, %d undelivered (error says %d, limit %v); want %q, > 0, the same, 300ms", d.Reason, d.Undelivered, de.Undelivered, de.Limit, "bye")
	}
	readAfterCut(t, clients[0], total, d.Undelivered)
}

// TestBackendShutdownCutReports: Shutdown whose context ends while clients
// read nothing returns a *ShutdownError with the connections and bytes
// cut, which the Disconnect events add up to.
func TestBackendShutdownCutReports(t *testing.T) {
	const n = 5
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, clients, total := stuffed(ctx, t, ircsock.Config{MaxSendQ: 8 << 20}, n, 2000)
	sctx, scancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer scancel()
	err := s.b.Shutdown(sctx)
	var se *ircsock.ShutdownError
	if !errors.As(err, &se) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want a *ShutdownError wrapping context.DeadlineExceeded", err)
	}
	<-s.done
	var sum int64
	byPort := map[int]int64{}
	for range n {
		d := <-s.discs
		if !errors.Is(d.Err, context.DeadlineExceeded) || d.Undelivered <= 0 {
			t.Errorf("Disconnect = %q, %v, %d undelivered; want a cut with bytes undelivered", d.Reason, d.Err, d.Undelivered)
		}
		sum += d.Undelivered
		byPort[int(d.Conn.Peer().Port())] = d.Undelivered
	}
	if se.Conns != n || se.Bytes != sum {
		t.Errorf("ShutdownError = %d conns, %d bytes; want %d, %d (the Disconnect events' sum)", se.Conns, se.Bytes, n, sum)
	}
	for _, c := range clients {
		readAfterCut(t, c, total, byPort[c.LocalAddr().(*net.TCPAddr).Port])
	}
}

// TestBackendHalfCloseGetsQueuedReplies: a client that half-closes after
// sending still gets every reply queued for it before the Backend closes,
// then the end of stream.
func TestBackendHalfCloseGetsQueuedReplies(t *testing.T) {
	const replies = 2000
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	queued := make(chan struct{})
	s := startEdgeServer(t, ircsock.Config{MaxSendQ: 8 << 20}, ircsock.ListenerConfig{}, func(b *ircsock.Backend, in ircsock.Input) {
		if in.Msg().Command != "FLOOD" {
			return
		}
		for i := range replies {
			if err := b.Send(msg("NOTICE", "you", numbered("r", i), payload), in.Conn().ID()); err != nil {
				t.Errorf("Send reply %d = %v", i, err)
				break
			}
		}
		close(queued)
	})
	c := dialRcvBuf(ctx, t, s.addr, 4096)
	if _, err := io.WriteString(c, "FLOOD\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-queued:
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := countReplies(c)
	if err != io.EOF || got != replies {
		t.Errorf("client got %d of %d replies, then %v; want all, then EOF", got, replies, err)
	}
	d := s.disconnect(t, ctx)
	if d.Reason != ircsock.ReasonPeerClosed || d.Err != nil || d.Undelivered != 0 {
		t.Errorf("Disconnect = %q, %v, %d undelivered; want %q, nil, 0", d.Reason, d.Err, d.Undelivered, ircsock.ReasonPeerClosed)
	}
}

// TestBackendPartialLastLine: input that ends without a line end is
// reported in an InputError, after the complete lines before it.
func TestBackendPartialLastLine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inputs := make(chan *ircmsg.Message, 4)
	s := startEdgeServer(t, ircsock.Config{}, ircsock.ListenerConfig{}, func(b *ircsock.Backend, in ircsock.Input) { inputs <- in.Msg() })
	c := dialRcvBuf(ctx, t, s.addr, 4096)
	if _, err := io.WriteString(c, "PING :whole\r\nPING :cut sh"); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	d := s.disconnect(t, ctx)
	if d.Reason != ircsock.ReasonPeerClosed {
		t.Errorf("Disconnect.Reason = %q, want %q", d.Reason, ircsock.ReasonPeerClosed)
	}
	select {
	case m := <-inputs:
		if m.Command != "PING" || len(m.Params) != 1 || m.Params[0] != "whole" {
			t.Errorf("Input = %s %q, want PING whole", m.Command, m.Params)
		}
	default:
		t.Errorf("no Input for the complete line")
	}
	select {
	case ie := <-s.ierrs:
		if !errors.Is(ie.Err, ircsock.ErrPartialRecord) || !strings.Contains(ie.Err.Error(), "12 bytes") {
			t.Errorf("InputError = %v, want ErrPartialRecord naming the 12 bytes", ie.Err)
		}
	default:
		t.Errorf("no InputError for the last line without a line end")
	}
	if len(inputs) > 0 {
		t.Errorf("an Input for the partial line: %v", <-inputs)
	}
}
