package sock

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

type chanListenHandler struct {
	conns chan net.Conn
	fails chan error
}

func (h *chanListenHandler) Serve(c net.Conn, release func()) {
	h.conns <- c
	go func() {
		buf := make([]byte, 1)
		c.Read(buf)
		c.Close()
		release()
	}()
}
func (h *chanListenHandler) Failed(err error) { h.fails <- err }

func (h *chanListenHandler) HandleListen(ev ListenEvent) {
	ListenFuncs{Serve: h.Serve, Failed: h.Failed}.HandleListen(ev)
}

func newChanHandler() *chanListenHandler {
	return &chanListenHandler{conns: make(chan net.Conn, 10), fails: make(chan error, 10)}
}

func TestListenEphemeralAndDial(t *testing.T) {
	cases := []struct {
		name string
		cfg  ListenConfig
	}{
		{"ipv4", ListenConfig{Addr: "127.0.0.1:0"}},
		{"ipv6", ListenConfig{Addr: "[::1]:0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newChanHandler()
			l, err := Listen(tc.cfg, h)
			if err != nil {
				// Under CI=true (.ci/run) a skip would hide the IPv6 path.
				if tc.name == "ipv6" && os.Getenv("CI") != "true" {
					t.Skipf("no IPv6 loopback here: %v", err)
				}
				t.Fatal(err)
			}
			defer l.Wait()
			defer l.Close()
			if l.Port() == 0 {
				t.Fatal("Port() = 0, want the bound port")
			}
			if host, _, _ := net.SplitHostPort(tc.cfg.Addr); l.Addr().Addr().String() != host {
				t.Errorf("Addr() = %s, want host %s", l.Addr(), host)
			}
			l.Start()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := Dial(ctx, nil, l.Addr().String(), nil)
			if err != nil {
				t.Fatalf("Dial = %v", err)
			}
			defer c.Close()
			select {
			case <-h.conns:
			case <-ctx.Done():
				t.Fatal("no connection served within 10s")
			}
		})
	}
}

func TestListenAddrInUse(t *testing.T) {
	h := newChanHandler()
	l, err := Listen(ListenConfig{Addr: "127.0.0.1:0"}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = Listen(ListenConfig{Addr: l.Addr().String()}, h)
	var oe *OpError
	if !errors.As(err, &oe) || oe.Op != OpBind || oe.Addr != l.Addr().String() || Errno(err) != int(syscall.EADDRINUSE) {
		t.Fatalf("second Listen = %v, want an OpError with OpBind, the address and EADDRINUSE", err)
	}
}

func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	_, err = Dial(ctx, nil, addr, nil)
	var oe *OpError
	if !errors.As(err, &oe) || oe.Op != OpDial || oe.Addr != addr || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Dial = %v, want an OpError with OpDial, %s and ECONNREFUSED", err, addr)
	}
}

func TestListenMaxConns(t *testing.T) {
	h := newChanHandler()
	l, err := Listen(ListenConfig{Addr: "127.0.0.1:0", MaxConns: 1}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Wait()
	defer l.Close()
	l.Start()
	addr := l.Addr().String()
	c1, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	<-h.conns
	c2, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	select {
	case err := <-h.fails:
		var oe *OpError
		if !errors.Is(err, ErrMaxConns) || !errors.As(err, &oe) || oe.Op != OpLimit {
			t.Fatalf("Failed(%v), want %v", err, ErrMaxConns)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second connection not refused within 10s")
	}
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Fatal("refused connection still open")
	}
}

// TestListenerDrained checks that a listener reports itself drained only
// once it is closed and its last connection has been released.
func TestListenerDrained(t *testing.T) {
	rel := make(chan func(), 1)
	l, err := Listen(ListenConfig{Addr: "127.0.0.1:0"}, drainHandler(rel))
	if err != nil {
		t.Fatalf("Listen = %v", err)
	}
	l.Start()
	c, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	var release func()
	select {
	case release = <-rel:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection served within 5s")
	}
	if l.Drained() {
		t.Fatal("Drained() = true while open, want false")
	}
	_ = l.Close()
	if l.Drained() {
		t.Fatal("Drained() = true with a connection held, want false")
	}
	release()
	if !l.Drained() {
		t.Fatal("Drained() = false after close and release, want true")
	}
	l.Wait()
}

// drainHandler hands each connection's closer to the test: a
// ListenHandlerFunc that ignores failures.
func drainHandler(rel chan func()) ListenHandlerFunc {
	return func(ev ListenEvent) {
		if ev.Conn != nil {
			rel <- func() { _ = ev.Conn.Close(); ev.Release() }
		}
	}
}
