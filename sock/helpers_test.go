package sock

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ircsock/ircsock/filter"
)

// nlFilter is a test-only newline framer: records end with '\n'. It keeps
// a reference to the fed chunk only until Next reports the chunk drained,
// then copies the partial tail, as the filter contract allows.
type nlFilter struct {
	p    []byte
	tail []byte
	max  int
}

var errTooLong = errors.New("test: record too long")

func (f *nlFilter) Feed(p []byte) {
	if len(f.tail) > 0 {
		f.tail = append(f.tail, p...)
		f.p = f.tail
		f.tail = nil
		return
	}
	f.p = p
}

func (f *nlFilter) Next() ([]byte, bool, error) {
	if len(f.p) == 0 {
		return nil, false, nil
	}
	i := bytes.IndexByte(f.p, '\n')
	if i < 0 {
		f.tail = append(f.tail[:0], f.p...)
		f.p = nil
		if f.max > 0 && len(f.tail) > f.max {
			f.tail = f.tail[:0]
			return nil, false, &filter.RecordError{Err: errTooLong}
		}
		return nil, false, nil
	}
	rec := f.p[:i]
	f.p = f.p[i+1:]
	if f.max > 0 && len(rec) > f.max {
		return nil, false, &filter.RecordError{Err: errTooLong}
	}
	return rec, true, nil
}

func (f *nlFilter) Pending() []byte {
	out := append(f.tail, f.p...)
	f.tail, f.p = nil, nil
	return out
}

func (f *nlFilter) Put(dst, rec []byte) ([]byte, error) {
	return append(append(dst, rec...), '\n'), nil
}

func (f *nlFilter) Flush(dst []byte) ([]byte, error) { return dst, nil }

var _ filter.Filter = (*nlFilter)(nil)

// recorder is a Handler that records everything on channels.
type recorder struct {
	recs   chan string
	errs   chan error
	idle   chan struct{}
	closed chan closeInfo
	onRec  func(w *Wheel, rec []byte)
}

type closeInfo struct {
	reason string
	err    error
}

func newRecorder() *recorder {
	return &recorder{
		recs:   make(chan string, 100000),
		errs:   make(chan error, 100),
		idle:   make(chan struct{}, 100),
		closed: make(chan closeInfo, 1),
	}
}

func (r *recorder) Record(w *Wheel, rec []byte) {
	r.recs <- string(rec)
	if r.onRec != nil {
		r.onRec(w, rec)
	}
}
func (r *recorder) RecordError(w *Wheel, err error) { r.errs <- err }
func (r *recorder) Idle(w *Wheel) {
	select {
	case r.idle <- struct{}{}:
	default:
	}
}
func (r *recorder) Closed(w *Wheel, reason string, err error) { r.closed <- closeInfo{reason, err} }

// Handle goes through a Funcs, so every wheel test also exercises its
// dispatch.
func (r *recorder) Handle(w *Wheel, ev Event) {
	Funcs{Record: r.Record, RecordError: r.RecordError, Idle: r.Idle, Closed: r.Closed}.Handle(w, ev)
}

// tcpPair returns the two ends of a loopback TCP connection. The server
// end is a *net.TCPConn, or, with SOCK_TEST_FDCONN=1 in the environment
// on Linux, an *FDConn accepted by a Listener with FDConns (.ci/run runs
// the package both ways).
func tcpPair(t *testing.T) (server net.Conn, client *net.TCPConn) {
	t.Helper()
	if os.Getenv("SOCK_TEST_FDCONN") == "1" {
		if !canFD {
			t.Fatal("SOCK_TEST_FDCONN=1 on a system without FDConns")
		}
		return fdPair(t)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		done <- c
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-done
	if s == nil {
		t.Fatal("accept failed")
	}
	return s, c.(*net.TCPConn)
}

// fdPair is tcpPair with an *FDConn for the server end, accepted by a
// Listener with FDConns.
func fdPair(t *testing.T) (server net.Conn, client *net.TCPConn) {
	t.Helper()
	got := make(chan ListenEvent, 1)
	l, err := Listen(ListenConfig{Addr: "127.0.0.1:0", FDConns: true}, ListenHandlerFunc(func(ev ListenEvent) { got <- ev }))
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	defer l.Wait()
	defer l.Close()
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var ev ListenEvent
	select {
	case ev = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no connection accepted within 10s")
	}
	if ev.Err != nil {
		t.Fatal(ev.Err)
	}
	// The Listener's count ends here; the test owns the connection.
	ev.Release()
	return ev.Conn, c.(*net.TCPConn)
}

// startWheel starts a wheel over conn with Start (so that a plaintext
// TCP wheel parks between reads on Linux) and returns it with a stop
// function, which closes it and waits for its done call; done must come
// exactly once.
func startWheel(t *testing.T, conn net.Conn, h Handler, cfg WheelConfig) (*Wheel, func()) {
	t.Helper()
	w := NewWheel(conn, &nlFilter{max: 1000}, &nlFilter{}, h, cfg)
	var calls atomic.Int32
	done := make(chan struct{})
	w.Start(func() {
		if calls.Add(1) == 1 {
			close(done)
		}
	})
	return w, func() {
		t.Helper()
		w.Close("test end", nil)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Start's done not called within 10s of Close")
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("Start's done called %d times, want 1", n)
		}
	}
}

// runWheel is startWheel with Run on a goroutine of the test's own.
func runWheel(t *testing.T, conn net.Conn, h Handler, cfg WheelConfig) (*Wheel, func()) {
	t.Helper()
	w := NewWheel(conn, &nlFilter{max: 1000}, &nlFilter{}, h, cfg)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.Run()
	}()
	return w, func() {
		w.Close("test end", nil)
		wg.Wait()
	}
}

func waitClosed(t *testing.T, r *recorder) closeInfo {
	t.Helper()
	select {
	case ci := <-r.closed:
		return ci
	case <-time.After(10 * time.Second):
		t.Fatal("wheel did not close within 10s")
		return closeInfo{}
	}
}

// waitParked waits until w's read loop has parked on the poller.
func waitParked(t *testing.T, w *Wheel) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !w.parked.Load() {
		if time.Now().After(deadline) {
			t.Fatal("wheel did not park within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

// setWriteBuffer sets the socket send buffer of a *net.TCPConn or an
// *FDConn.
func setWriteBuffer(c net.Conn, n int) error {
	return c.(interface{ SetWriteBuffer(int) error }).SetWriteBuffer(n)
}

// goWheel runs w with Start when start is set, else with Run on a
// goroutine of its own, and returns a wait for its end.
func goWheel(w *Wheel, start bool) (wait func()) {
	var wg sync.WaitGroup
	if start {
		wg.Add(1)
		w.Start(wg.Done)
	} else {
		wg.Go(w.Run)
	}
	return wg.Wait
}

// handshake completes the TLS handshake of srv and cli, the two ends of
// one connection, within 10s, and leaves neither with a deadline.
func handshake(t *testing.T, srv, cli *tls.Conn) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	_ = srv.SetDeadline(deadline)
	_ = cli.SetDeadline(deadline)
	errc := make(chan error, 1)
	go func() { errc <- cli.Handshake() }()
	if err := srv.Handshake(); err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	_ = srv.SetDeadline(time.Time{})
	_ = cli.SetDeadline(time.Time{})
}
