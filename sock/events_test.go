package sock

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestZeroHandlersIgnoreEverything checks that the zero Funcs, the zero
// ListenFuncs and the zero events are safe to use.
func TestZeroHandlersIgnoreEverything(t *testing.T) {
	for _, ev := range []Event{{}, {Kind: EventRecord, Record: []byte("x")}, {Kind: EventRecordError, Err: errors.New("bad")}, {Kind: EventIdle}, {Kind: EventClosed, Reason: "bye"}} {
		Funcs{}.Handle(nil, ev)
	}
	ListenFuncs{}.HandleListen(ListenEvent{})
	ListenFuncs{}.HandleListen(ListenEvent{Err: &OpError{Op: OpAccept, Err: syscall.EMFILE}})
}

func TestFuncsDispatch(t *testing.T) {
	var got []string
	f := Funcs{
		Record:      func(w *Wheel, rec []byte) { got = append(got, "record "+string(rec)) },
		RecordError: func(w *Wheel, err error) { got = append(got, "error "+err.Error()) },
		Idle:        func(w *Wheel) { got = append(got, "idle") },
		Closed:      func(w *Wheel, reason string, err error) { got = append(got, "closed "+reason) },
	}
	var h Handler = f
	for _, ev := range []Event{{Kind: EventRecord, Record: []byte("a")}, {Kind: EventRecordError, Err: errors.New("b")}, {Kind: EventIdle}, {}, {Kind: EventClosed, Reason: "c"}} {
		h.Handle(nil, ev)
	}
	want := []string{"record a", "error b", "idle", "closed c"}
	if len(got) != len(want) {
		t.Fatalf("Funcs handled %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d handled as %q, want %q", i, got[i], want[i])
		}
	}
}

// TestListenFuncsWithoutServe checks that a connection accepted by a
// handler with no Serve is closed and released, not leaked.
func TestListenFuncsWithoutServe(t *testing.T) {
	fails := make(chan error, 1)
	l, err := Listen(ListenConfig{Addr: "127.0.0.1:0"}, ListenFuncs{Failed: func(err error) { fails <- err }})
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	c, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatalf("read %d bytes from a connection nobody serves, want it closed", n)
	}
	_ = l.Close()
	l.Wait() // returns only once the connection was released
	if !l.Drained() {
		t.Error("Drained() = false after close, want true")
	}
	select {
	case err := <-fails:
		t.Errorf("unexpected failure %v", err)
	default:
	}
}

func TestOpError(t *testing.T) {
	err := error(&OpError{Op: OpDial, Addr: "127.0.0.1:1", Err: syscall.ECONNREFUSED})
	if got, want := err.Error(), "sock: connect 127.0.0.1:1: "+syscall.ECONNREFUSED.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) || Errno(err) != int(syscall.ECONNREFUSED) {
		t.Errorf("errors.Is / Errno do not see the cause of %v", err)
	}
	if got := (&OpError{Op: OpAccept, Err: syscall.EMFILE}).Error(); got != "sock: accept: "+syscall.EMFILE.Error() {
		t.Errorf("Error() without address = %q", got)
	}
}

// TestWheelReadErrorIsOpError checks that a connection reset by the peer
// closes the wheel with an OpError naming OpRead and the cause.
func TestWheelReadErrorIsOpError(t *testing.T) {
	s, c := tcpPair(t)
	r := newRecorder()
	_, stop := startWheel(t, s, r, WheelConfig{Idle: -1})
	defer stop()
	if err := c.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	_ = c.Close() // a reset, not a clean end of stream
	ci := waitClosed(t, r)
	var oe *OpError
	if !errors.As(ci.err, &oe) || oe.Op != OpRead || !errors.Is(ci.err, syscall.ECONNRESET) {
		t.Fatalf("closed with %q, %v; want an OpError with OpRead and ECONNRESET", ci.reason, ci.err)
	}
	if oe.Addr != c.LocalAddr().String() {
		t.Errorf("OpError.Addr = %q, want the peer %s", oe.Addr, c.LocalAddr())
	}
}

// TestDialUsesDialer checks that Dial uses the dialer it is given: its
// LocalAddr is the local side of the connection.
func TestDialUsesDialer(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	c, err := Dial(ctx, d, ln.Addr().String(), nil)
	if err != nil {
		t.Fatalf("Dial = %v", err)
	}
	defer c.Close()
	sc := <-accepted
	if sc == nil {
		t.Fatal("accept failed")
	}
	defer sc.Close()
	if got := sc.RemoteAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.2" {
		t.Errorf("peer address seen by the server = %s, want 127.0.0.2 (the dialer's LocalAddr)", got)
	}
}

func TestDialBadAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Dial(ctx, nil, "127.0.0.1", nil)
	var oe *OpError
	if !errors.As(err, &oe) || oe.Op != OpDial || oe.Addr != "127.0.0.1" {
		t.Fatalf("Dial without a port = %v, want an OpError with OpDial", err)
	}
}
