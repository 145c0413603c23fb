package sock

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/net/nettest"
)

// The conformance suite every net.Conn should pass (x/net's nettest:
// reads and writes both ways, deadlines set in the past, the future and
// while blocked, concurrent Close), with an FDConn at one end and then
// at the other.
func TestFDConnConformance(t *testing.T) {
	t.Run("FDConnFirst", func(t *testing.T) {
		nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
			s, c := fdPair(t)
			return s, c, func() { s.Close(); c.Close() }, nil
		})
	})
	t.Run("FDConnSecond", func(t *testing.T) {
		nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
			s, c := fdPair(t)
			return c, s, func() { s.Close(); c.Close() }, nil
		})
	})
}

func TestFDConnFromListener(t *testing.T) {
	s, c := fdPair(t)
	defer c.Close()
	fc, ok := s.(*FDConn)
	if !ok {
		t.Fatalf("Listener with FDConns served a %T", s)
	}
	if got, want := fc.RemoteAddrPort(), c.LocalAddr().(*net.TCPAddr).AddrPort(); got != want {
		t.Errorf("RemoteAddrPort() = %v, want the client's %v", got, want)
	}
	if got, want := fc.LocalAddr().String(), c.RemoteAddr().String(); got != want {
		t.Errorf("LocalAddr() = %v, want %v", got, want)
	}
	// Half-close: the client reads the end of the stream after the data.
	if _, err := s.Write([]byte("bye\n")); err != nil {
		t.Fatal(err)
	}
	if err := fc.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "bye\n" {
		t.Fatalf("client read %q, %v; want \"bye\\n\" and the end of the stream", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close = %v, want net.ErrClosed", err)
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close = %v, want net.ErrClosed", err)
	}
}

// Close while Reads and Writes wait on the wait poller: each returns
// net.ErrClosed, the descriptor is closed once they have let it go, and
// the poller's goroutine ends with the last connection (TestMain's
// goleak).
func TestFDConnCloseWakesWaiters(t *testing.T) {
	for range 20 {
		s, c := fdPair(t)
		_ = setWriteBuffer(s, 4<<10)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 2 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, err := s.Read(make([]byte, 10))
				errs <- err
			}()
			go func() {
				defer wg.Done()
				_, err := s.Write(make([]byte, 1<<20)) // more than the buffers hold
				errs <- err
			}()
		}
		time.Sleep(time.Millisecond) // let some of them reach their waits; not a synchronisation
		s.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Read or Write still waiting 10s after Close")
		}
		close(errs)
		for err := range errs {
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("a waiting call returned %v, want net.ErrClosed", err)
			}
		}
		c.Close()
	}
}

// A deadline moved into the past while a Read waits ends that Read; a
// deadline cleared lets the next Read wait for the data.
func TestFDConnDeadlineWhileWaiting(t *testing.T) {
	s, c := fdPair(t)
	defer c.Close()
	defer s.Close()
	got := make(chan error, 1)
	go func() {
		_, err := s.Read(make([]byte, 10))
		got <- err
	}()
	time.Sleep(time.Millisecond) // likely waiting by now; either way the Read must end
	_ = s.SetReadDeadline(time.Unix(1, 0))
	select {
	case err := <-got:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read = %v, want os.ErrDeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read still waiting 10s after its deadline passed")
	}
	_ = s.SetReadDeadline(time.Time{})
	go c.Write([]byte("hi"))
	buf := make([]byte, 10)
	n, err := s.Read(buf)
	if err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("Read = %q, %v; want \"hi\"", buf[:n], err)
	}
}

// TestFDConnSize guards the FDConn's size class (96 bytes): every
// plaintext connection of a Backend has one, and what only a blocking
// call needs lives in the fdWait made by the first wait.
func TestFDConnSize(t *testing.T) {
	if got := unsafe.Sizeof(FDConn{}); got > 96 {
		t.Errorf("an FDConn is %d bytes, past the 96-byte size class", got)
	}
}

// TestFDConnLocalShared: a listener on every address hands out FDConns
// whose local address is the one each client dialed, shared between
// consecutive connections to the same one and never mixed up.
func TestFDConnLocalShared(t *testing.T) {
	got := make(chan ListenEvent, 4)
	l, err := Listen(ListenConfig{Addr: ":0", FDConns: true}, ListenHandlerFunc(func(ev ListenEvent) { got <- ev }))
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	defer l.Wait()
	defer l.Close()
	hosts := []string{"127.0.0.1", "127.0.0.1", "::1", "127.0.0.1"}
	var conns []*FDConn
	for _, host := range hosts {
		c, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(l.Port())))
		if err != nil {
			if host == "::1" && os.Getenv("CI") != "true" {
				t.Skipf("no IPv6 loopback here: %v", err)
			}
			t.Fatal(err)
		}
		defer c.Close()
		var ev ListenEvent
		select {
		case ev = <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("no connection accepted within 10s")
		}
		if ev.Err != nil {
			t.Fatal(ev.Err)
		}
		defer ev.Release()
		defer ev.Conn.Close()
		fc, ok := ev.Conn.(*FDConn)
		if !ok {
			t.Fatalf("served a %T, want *FDConn", ev.Conn)
		}
		want := c.RemoteAddr().(*net.TCPAddr).AddrPort()
		if got := fc.LocalAddrPort(); netip.AddrPortFrom(got.Addr().Unmap(), got.Port()) != netip.AddrPortFrom(want.Addr().Unmap(), want.Port()) {
			t.Errorf("dialed %s: LocalAddrPort() = %v, want %v", host, got, want)
		}
		conns = append(conns, fc)
	}
	if conns[0].local != conns[1].local {
		t.Error("two connections to the same local address do not share it")
	}
	if conns[1].local == conns[2].local || conns[2].local == conns[3].local {
		t.Error("connections to different local addresses share one")
	}
}
