package ircsock_test

// Shared machinery for the Backend integration tests (backend_*_test.go):
// a harness that owns one Backend, records every event it delivers with the
// time it arrived, and checks the ordering guarantees of DESIGN.md on the
// whole event stream of every test; raw loopback clients; and a test PKI
// generated in memory.

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// testTimeout bounds every test: each wait, dial and read uses the
// harness's context or a deadline derived from it.
const testTimeout = 20 * time.Second

// stamped is one delivered event and when the controller received it.
type stamped struct {
	ev ircsock.Event
	at time.Time
}

// harness owns one Backend and a goroutine that drains its events channel
// into a log, feeding each event to an orderChecker as it arrives, so that a
// test never blocks the Backend by reading events too slowly.
type harness struct {
	t   *testing.T
	b   *ircsock.Backend
	ctx context.Context

	mu       sync.Mutex
	evs      []stamped
	changed  chan struct{} // closed and replaced on every append
	closed   bool          // the events channel has been closed
	discs    map[ircsock.ConnID]chan struct{}
	pumpDone chan struct{}

	chk *orderChecker

	rawMu sync.Mutex
	raws  []*rawConn // raw clients of the test, see shutdown
}

// newHarness starts a Backend with cfg. Its cleanup closes the Backend,
// waits for the events channel to close, reports ordering violations, and
// finally checks that no goroutine started during the test survives.
func newHarness(t *testing.T, cfg ircsock.Config) *harness {
	t.Helper()
	checkLeaks(t)
	return startHarness(t, cfg)
}

// newHarnessPair starts two Backends under one goroutine-leak check, for
// tests that link them.
func newHarnessPair(t *testing.T, a, b ircsock.Config) (*harness, *harness) {
	t.Helper()
	checkLeaks(t)
	return startHarness(t, a), startHarness(t, b)
}

// checkLeaks makes the test fail if a goroutine started after this call is
// still running when the test's other cleanups have run. Registered first,
// it runs last: after every Backend and raw connection has been closed.
func checkLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// startHarness starts a Backend without its own leak check.
func startHarness(t *testing.T, cfg ircsock.Config) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)

	h := &harness{
		t:        t,
		ctx:      ctx,
		changed:  make(chan struct{}),
		discs:    make(map[ircsock.ConnID]chan struct{}),
		pumpDone: make(chan struct{}),
		chk:      newOrderChecker(),
	}
	h.b = ircsock.New(cfg)
	h.chk.backend = h.b
	go h.pump()
	t.Cleanup(func() {
		// Close after Shutdown is allowed to report an error; what matters
		// here is that everything stops.
		_ = h.b.Close()
		select {
		case <-h.pumpDone:
		case <-time.After(5 * time.Second):
			t.Errorf("events channel still open 5s after Close")
			return
		}
		for _, e := range h.chk.errors() {
			t.Errorf("event order: %s", e)
		}
	})
	return h
}

func (h *harness) pump() {
	defer close(h.pumpDone)
	for ev := range h.b.Events() {
		now := time.Now()
		h.chk.observe(ev)
		h.mu.Lock()
		h.evs = append(h.evs, stamped{ev, now})
		if d, ok := ev.(ircsock.Disconnect); ok && d.Conn != nil {
			h.discChanLocked(d.Conn.ID())
			close(h.discs[d.Conn.ID()])
		}
		close(h.changed)
		h.changed = make(chan struct{})
		h.mu.Unlock()
	}
	h.chk.end()
	h.mu.Lock()
	h.closed = true
	close(h.changed)
	h.mu.Unlock()
}

func (h *harness) discChanLocked(id ircsock.ConnID) chan struct{} {
	c, ok := h.discs[id]
	if !ok {
		c = make(chan struct{})
		h.discs[id] = c
	}
	return c
}

// disconnected returns a channel closed when id's Disconnect event arrives.
func (h *harness) disconnected(id ircsock.ConnID) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.discChanLocked(id)
}

// snapshot returns the events received so far.
func (h *harness) snapshot() []stamped {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]stamped(nil), h.evs...)
}

// waitClosed waits until the events channel has been closed and drained.
func (h *harness) waitClosed(what string) {
	h.t.Helper()
	select {
	case <-h.pumpDone:
	case <-h.ctx.Done():
		h.t.Fatalf("%s: events channel not closed: %v\n%s", what, h.ctx.Err(), h.dump())
	}
}

// dump formats the last events for a failure message.
func (h *harness) dump() string {
	evs := h.snapshot()
	var sb strings.Builder
	start := max(0, len(evs)-40)
	fmt.Fprintf(&sb, "last %d of %d events:\n", len(evs)-start, len(evs))
	for i := start; i < len(evs); i++ {
		fmt.Fprintf(&sb, "  #%d %s\n", i, fmtEvent(evs[i].ev))
	}
	return sb.String()
}

// waitN waits until n events of type E that satisfy match (nil matches all)
// have arrived, and returns the first n of them with their arrival times.
func waitN[E ircsock.Event](h *harness, what string, n int, match func(E) bool) ([]E, []time.Time) {
	h.t.Helper()
	var found []E
	var times []time.Time
	next := 0
	for {
		h.mu.Lock()
		for ; next < len(h.evs) && len(found) < n; next++ {
			if e, ok := h.evs[next].ev.(E); ok && (match == nil || match(e)) {
				found = append(found, e)
				times = append(times, h.evs[next].at)
			}
		}
		changed, closed := h.changed, h.closed
		h.mu.Unlock()
		if len(found) >= n {
			return found, times
		}
		if closed {
			h.t.Fatalf("waiting for %s: events channel closed after %d of %d\n%s", what, len(found), n, h.dump())
		}
		select {
		case <-changed:
		case <-h.ctx.Done():
			h.t.Fatalf("waiting for %s: %v after %d of %d\n%s", what, h.ctx.Err(), len(found), n, h.dump())
		}
	}
}

// waitEvent waits for the first event of type E that satisfies match.
func waitEvent[E ircsock.Event](h *harness, what string, match func(E) bool) E {
	h.t.Helper()
	evs, _ := waitN(h, what, 1, match)
	return evs[0]
}

// eventsOf returns the events of type E received so far that satisfy match.
func eventsOf[E ircsock.Event](h *harness, match func(E) bool) []E {
	var out []E
	for _, s := range h.snapshot() {
		if e, ok := s.ev.(E); ok && (match == nil || match(e)) {
			out = append(out, e)
		}
	}
	return out
}

// connIs matches events whose connection is id.
func connIs(id ircsock.ConnID) func(ircsock.Event) bool {
	return func(ev ircsock.Event) bool { c := eventConn(ev); return c != nil && c.ID() == id }
}

// forConn adapts a connection filter to a typed event matcher.
func forConn[E ircsock.Event](id ircsock.ConnID) func(E) bool {
	m := connIs(id)
	return func(e E) bool { return m(e) }
}

// eventConn returns the connection an event is about, or nil.
func eventConn(ev ircsock.Event) *ircsock.Conn {
	switch e := ev.(type) {
	case ircsock.ListenerOpen:
		return e.Conn
	case ircsock.ConnectorOpen:
		return e.Conn
	case ircsock.Input:
		return e.Conn()
	case ircsock.InputError:
		return e.Conn
	case ircsock.Disconnect:
		return e.Conn
	case ircsock.ConnectionIdle:
		return e.Conn
	case ircsock.Compressed:
		return e.Conn
	}
	return nil
}

func fmtEvent(ev ircsock.Event) string {
	cid := func(c *ircsock.Conn) string {
		if c == nil {
			return "conn=<nil>"
		}
		return fmt.Sprintf("conn=%d", c.ID())
	}
	lid := func(l *ircsock.Listener) string {
		if l == nil {
			return "listener=<nil>"
		}
		return fmt.Sprintf("listener=%d", l.ID())
	}
	switch e := ev.(type) {
	case ircsock.Registered:
		return "Registered"
	case ircsock.ListenerCreated:
		return "ListenerCreated " + lid(e.Listener)
	case ircsock.ListenerOpen:
		return "ListenerOpen " + cid(e.Conn) + " " + lid(e.Listener)
	case ircsock.ListenerFailure:
		return fmt.Sprintf("ListenerFailure %s op=%q errno=%d err=%v", lid(e.Listener), e.Op, e.Errno, e.Err)
	case ircsock.ListenerRemoved:
		return "ListenerRemoved " + lid(e.Listener)
	case ircsock.ConnectorOpen:
		return "ConnectorOpen " + cid(e.Conn)
	case ircsock.ConnectorFailure:
		return fmt.Sprintf("ConnectorFailure op=%q errno=%d err=%v", e.Op, e.Errno, e.Err)
	case ircsock.Input:
		line := "<nil msg>"
		if e.Msg() != nil {
			line = fmt.Sprintf("%s %q", e.Msg().Command, e.Msg().Params)
		}
		return "Input " + cid(e.Conn()) + " " + line
	case ircsock.InputError:
		return fmt.Sprintf("InputError %s err=%v", cid(e.Conn), e.Err)
	case ircsock.Disconnect:
		return fmt.Sprintf("Disconnect %s reason=%q err=%v", cid(e.Conn), e.Reason, e.Err)
	case ircsock.ConnectionIdle:
		return "ConnectionIdle " + cid(e.Conn)
	case ircsock.Compressed:
		return "Compressed " + cid(e.Conn)
	}
	return fmt.Sprintf("%T", ev)
}

// orderChecker tracks, across the whole event stream of one Backend, the
// state of every connection, listener and connector, and records each
// violation of the ordering guarantees: Registered first and once; per
// connection, an open event first, then input, idle and compressed events,
// then exactly one Disconnect last; no ListenerCreated before (or after) a
// bind or listen failure of the same listener; one result per connector.
type orderChecker struct {
	backend *ircsock.Backend

	mu          sync.Mutex
	n           int
	conns       map[ircsock.ConnID]connState
	created     map[ircsock.ListenerID]bool
	failed      map[ircsock.ListenerID]bool
	removed     map[ircsock.ListenerID]bool
	connectors  map[ircsock.ConnectorID]string
	requireDone bool // every opened conn must be disconnected at the end
	errs        []string
}

type connState int

const (
	connOpen connState = iota + 1
	connClosed
)

func newOrderChecker() *orderChecker {
	return &orderChecker{
		conns:      make(map[ircsock.ConnID]connState),
		created:    make(map[ircsock.ListenerID]bool),
		failed:     make(map[ircsock.ListenerID]bool),
		removed:    make(map[ircsock.ListenerID]bool),
		connectors: make(map[ircsock.ConnectorID]string),
	}
}

func (c *orderChecker) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf("event #%d: ", c.n)+fmt.Sprintf(format, args...))
}

func (c *orderChecker) errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// expectAllClosed asks end to require a Disconnect for every opened
// connection (what Shutdown promises).
func (c *orderChecker) expectAllClosed() {
	c.mu.Lock()
	c.requireDone = true
	c.mu.Unlock()
}

func (c *orderChecker) open(conn *ircsock.Conn, what string) {
	if conn == nil {
		c.errorf("%s with a nil Conn", what)
		return
	}
	id := conn.ID()
	if st, ok := c.conns[id]; ok {
		c.errorf("%s for conn %d, which is already known (state %d): ids must not be reused", what, id, st)
		return
	}
	c.conns[id] = connOpen
}

func (c *orderChecker) during(conn *ircsock.Conn, what string) {
	if conn == nil {
		c.errorf("%s with a nil Conn", what)
		return
	}
	switch c.conns[conn.ID()] {
	case 0:
		c.errorf("%s for conn %d before its open event", what, conn.ID())
	case connClosed:
		c.errorf("%s for conn %d after its Disconnect", what, conn.ID())
	}
}

func (c *orderChecker) connectorDone(cn *ircsock.Connector, what string) {
	if cn == nil {
		c.errorf("%s with a nil Connector", what)
		return
	}
	if prev, ok := c.connectors[cn.ID()]; ok {
		c.errorf("%s for connector %d after %s: want exactly one result", what, cn.ID(), prev)
		return
	}
	c.connectors[cn.ID()] = what
}

func (c *orderChecker) observe(ev ircsock.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if c.n == 1 {
		if r, ok := ev.(ircsock.Registered); !ok {
			c.errorf("first event is %s, want Registered", fmtEvent(ev))
		} else if r.Backend != c.backend {
			c.errorf("Registered.Backend = %p, want the Backend %p", r.Backend, c.backend)
		}
		if _, ok := ev.(ircsock.Registered); ok {
			return
		}
	}
	switch e := ev.(type) {
	case ircsock.Registered:
		c.errorf("a second Registered")
	case ircsock.ListenerCreated:
		if e.Listener == nil {
			c.errorf("ListenerCreated with a nil Listener")
			return
		}
		id := e.Listener.ID()
		if c.created[id] {
			c.errorf("a second ListenerCreated for listener %d", id)
		}
		if c.failed[id] {
			c.errorf("ListenerCreated for listener %d after its ListenerFailure", id)
		}
		c.created[id] = true
	case ircsock.ListenerFailure:
		if e.Listener == nil {
			return // a failure before the listener existed: nothing to track
		}
		id := e.Listener.ID()
		if (e.Op == "bind" || e.Op == "listen") && c.created[id] {
			c.errorf("ListenerFailure op %q for listener %d after its ListenerCreated", e.Op, id)
		}
		c.failed[id] = true
	case ircsock.ListenerRemoved:
		if e.Listener == nil {
			c.errorf("ListenerRemoved with a nil Listener")
			return
		}
		id := e.Listener.ID()
		if !c.created[id] {
			c.errorf("ListenerRemoved for listener %d, never created", id)
		}
		if c.removed[id] {
			c.errorf("a second ListenerRemoved for listener %d", id)
		}
		c.removed[id] = true
	case ircsock.ListenerOpen:
		c.open(e.Conn, "ListenerOpen")
		if e.Listener == nil {
			c.errorf("ListenerOpen with a nil Listener")
		} else if !c.created[e.Listener.ID()] {
			c.errorf("ListenerOpen on listener %d before its ListenerCreated", e.Listener.ID())
		}
	case ircsock.ConnectorOpen:
		c.open(e.Conn, "ConnectorOpen")
		c.connectorDone(e.Connector, "ConnectorOpen")
	case ircsock.ConnectorFailure:
		c.connectorDone(e.Connector, "ConnectorFailure")
	case ircsock.Input:
		c.during(e.Conn(), "Input")
		if e.Msg() == nil {
			c.errorf("Input with a nil Msg")
		}
	case ircsock.InputError:
		c.during(e.Conn, "InputError")
	case ircsock.ConnectionIdle:
		c.during(e.Conn, "ConnectionIdle")
	case ircsock.Compressed:
		c.during(e.Conn, "Compressed")
	case ircsock.Disconnect:
		c.during(e.Conn, "Disconnect")
		if e.Conn != nil {
			c.conns[e.Conn.ID()] = connClosed
		}
	default:
		c.errorf("unknown event type %T", ev)
	}
}

// end runs when the events channel closes.
func (c *orderChecker) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.requireDone {
		return
	}
	for id, st := range c.conns {
		if st != connClosed {
			c.errorf("events channel closed without a Disconnect for conn %d", id)
		}
	}
}

// shutdown drains the Backend with Shutdown and checks that the events
// channel closes after a Disconnect for every connection.
//
// A graceful close shuts the Backend's write side and lingers until the
// peer closes too (so that unread input cannot turn the close into a reset
// that destroys data in flight), so every raw client of the test that no
// reader has claimed is drained and closed at EOF, as a real client would.
func (h *harness) shutdown() {
	h.t.Helper()
	h.chk.expectAllClosed()
	var wg sync.WaitGroup
	h.rawMu.Lock()
	for _, c := range h.raws {
		if c.claimed.CompareAndSwap(false, true) {
			wg.Go(func() {
				_, _ = io.Copy(io.Discard, c.r)
				c.Close()
			})
		}
	}
	h.rawMu.Unlock()
	if err := h.b.Shutdown(h.ctx); err != nil {
		h.t.Fatalf("Shutdown() = %v, want nil", err)
	}
	h.waitClosed("after Shutdown")
	wg.Wait()
}

// listen creates a listener (on 127.0.0.1 unless cfg says otherwise) and
// waits for its ListenerCreated event.
func (h *harness) listen(cfg ircsock.ListenerConfig) *ircsock.Listener {
	h.t.Helper()
	if cfg.Addr == "" && cfg.Listener == nil {
		cfg.Addr = "127.0.0.1:0"
	}
	l, err := h.b.CreateListener(cfg)
	if err != nil {
		h.t.Fatalf("CreateListener(%+v) = %v, want nil", cfg, err)
	}
	if l == nil {
		h.t.Fatalf("CreateListener(%+v) returned a nil Listener and no error", cfg)
	}
	id := l.ID()
	ev := waitEvent(h, "ListenerCreated", func(e ircsock.ListenerCreated) bool { return e.Listener.ID() == id })
	if got := ev.Listener.Port(); got != l.Port() || got == 0 {
		h.t.Fatalf("ListenerCreated port = %d, want the bound port %d (nonzero)", got, l.Port())
	}
	return l
}

// listenAddr returns "host:port" of a listener for net.Dial.
func listenAddr(l *ircsock.Listener) string {
	return netip.AddrPortFrom(l.Addr(), uint16(l.Port())).String()
}

// connect creates a connector and waits for its ConnectorOpen.
func (h *harness) connect(cfg ircsock.ConnectorConfig) *ircsock.Conn {
	h.t.Helper()
	cn, err := h.b.CreateConnector(h.ctx, cfg)
	if err != nil {
		h.t.Fatalf("CreateConnector(%+v) = %v, want nil", cfg, err)
	}
	id := cn.ID()
	ev := waitEvent(h, "ConnectorOpen", func(e ircsock.ConnectorOpen) bool {
		return e.Connector != nil && e.Connector.ID() == id
	})
	return ev.Conn
}

// accepted waits for the ListenerOpen of the raw client c.
func (h *harness) accepted(c net.Conn) *ircsock.Conn {
	h.t.Helper()
	want := addrPort(c.LocalAddr())
	ev := waitEvent(h, "ListenerOpen from "+want.String(), func(e ircsock.ListenerOpen) bool {
		return e.Conn != nil && e.Conn.Peer() == want
	})
	return ev.Conn
}

// send sends m to ids and fails the test on error.
func (h *harness) send(m *ircmsg.Message, ids ...ircsock.ConnID) {
	h.t.Helper()
	if err := h.b.Send(m, ids...); err != nil {
		h.t.Fatalf("Send(%s, %v) = %v, want nil", m.Command, ids, err)
	}
}

// inputs waits for n Input events on conn id and returns their messages.
func (h *harness) inputs(id ircsock.ConnID, n int) []*ircmsg.Message {
	h.t.Helper()
	evs, _ := waitN(h, fmt.Sprintf("%d inputs on conn %d", n, id), n, forConn[ircsock.Input](id))
	out := make([]*ircmsg.Message, len(evs))
	for i, e := range evs {
		out[i] = e.Msg()
	}
	return out
}

// expectInputs waits for the Input events of conn id and checks that
// their last parameters are exactly want, in order. It stops at the first
// difference instead of waiting for inputs that will not come.
func (h *harness) expectInputs(what string, id ircsock.ConnID, want []string) {
	h.t.Helper()
	var got []string
	next := 0
	for {
		h.mu.Lock()
		for ; next < len(h.evs) && len(got) < len(want); next++ {
			in, ok := h.evs[next].ev.(ircsock.Input)
			if !ok || in.Conn().ID() != id {
				continue
			}
			got = append(got, paramsOf([]*ircmsg.Message{in.Msg()})[0])
			if i := len(got) - 1; got[i] != want[i] {
				h.mu.Unlock()
				h.t.Errorf("%s: input %d = %q %q, want last param %q", what, i, in.Msg().Command, in.Msg().Params, want[i])
				return
			}
		}
		changed, closed := h.changed, h.closed
		h.mu.Unlock()
		if len(got) == len(want) {
			return
		}
		if closed {
			h.t.Fatalf("%s: events channel closed after %d of %d inputs", what, len(got), len(want))
		}
		select {
		case <-changed:
		case <-h.ctx.Done():
			h.t.Fatalf("%s: %v after %d of %d inputs (next wanted %q)\n%s", what, h.ctx.Err(), len(got), len(want), want[len(got)], h.dump())
		}
	}
}

// addrPort converts a *net.TCPAddr to a netip.AddrPort, unmapping IPv4.
func addrPort(a net.Addr) netip.AddrPort {
	ap := a.(*net.TCPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// rawConn is a plain loopback client (or accepted peer) that reads lines.
type rawConn struct {
	net.Conn
	r *bufio.Reader
	// claimed is set once a goroutine other than the test's owns reading
	// (readAllLines, or the drain in harness.shutdown).
	claimed atomic.Bool
}

func wrapRaw(t *testing.T, h *harness, c net.Conn) *rawConn {
	t.Cleanup(func() { c.Close() })
	if dl, ok := h.ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	rc := &rawConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10)}
	h.rawMu.Lock()
	h.raws = append(h.raws, rc)
	h.rawMu.Unlock()
	return rc
}

// readEOF reads until the peer's end of stream, which must come with no
// further line, and then closes, as a client does when the server hangs
// up.
func (c *rawConn) readEOF(t *testing.T, within time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	line, err := c.readLine()
	if err == nil {
		t.Errorf("read %q, want EOF", line)
	} else if !isClosedErr(err) {
		t.Errorf("read error %v, want EOF or reset within %v", err, within)
	}
	c.Close()
}

// dialRaw opens a plain TCP connection bounded by the harness's deadline.
func dialRaw(t *testing.T, h *harness, addr string) *rawConn {
	t.Helper()
	var d net.Dialer
	c, err := d.DialContext(h.ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return wrapRaw(t, h, c)
}

// dialSmallRcv opens a raw client whose receive buffer is set small before
// connecting, so that a client that does not read leaves most data on the
// Backend's side; it returns the buffer size the kernel granted.
func dialSmallRcv(t *testing.T, h *harness, addr string) (*rawConn, int) {
	t.Helper()
	var rcvbuf int
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			if serr == nil {
				rcvbuf, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.DialContext(h.ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return wrapRaw(t, h, c), max(rcvbuf, 4096)
}

// readLine reads one line without its CR LF.
func (c *rawConn) readLine() (string, error) {
	s, err := c.r.ReadString('\n')
	if err != nil {
		return s, err
	}
	return strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r"), nil
}

// writeLines writes every line with CR LF in one write.
func (c *rawConn) writeLines(t *testing.T, lines ...string) {
	t.Helper()
	if _, err := c.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")); err != nil {
		t.Fatalf("write %d lines: %v", len(lines), err)
	}
}

// isClosedErr reports whether err is what a reader sees when its peer has
// closed: EOF or a reset.
func isClosedErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// msg builds a message.
func msg(cmd string, params ...string) *ircmsg.Message {
	return &ircmsg.Message{Command: cmd, Params: params}
}

// numbered returns "prefix-000000" .. for n lines: numbering makes loss,
// duplication and reordering visible in a failure message.
func numbered(prefix string, i int) string { return fmt.Sprintf("%s-%06d", prefix, i) }

// checkSeq checks that got is exactly want, in order, naming the first
// difference.
func checkSeq(t *testing.T, what string, got, want []string) {
	t.Helper()
	n := min(len(got), len(want))
	for i := 0; i < n; i++ {
		if got[i] != want[i] {
			t.Errorf("%s: line %d = %q, want %q (got %d lines, want %d)", what, i, got[i], want[i], len(got), len(want))
			return
		}
	}
	if len(got) != len(want) {
		extra := ""
		if len(got) > len(want) {
			extra = fmt.Sprintf("; first extra %q", got[len(want)])
		} else {
			extra = fmt.Sprintf("; first missing %q", want[len(got)])
		}
		t.Errorf("%s: got %d lines, want %d%s", what, len(got), len(want), extra)
	}
}

// paramsOf returns the last parameter of each message ("" when none).
func paramsOf(ms []*ircmsg.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		if len(m.Params) > 0 {
			out[i] = m.Params[len(m.Params)-1]
		}
	}
	return out
}

// testPKI is a CA with a server leaf (127.0.0.1, ::1, localhost) and a
// client leaf, generated in memory.
type testPKI struct {
	ca      *x509.Certificate
	pool    *x509.CertPool
	server  tls.Certificate
	client  tls.Certificate
	other   *x509.CertPool // a pool with an unrelated CA
	serverX *x509.Certificate
	clientX *x509.Certificate
}

var pki = sync.OnceValue(func() *testPKI {
	p, err := makePKI()
	if err != nil {
		panic(err)
	}
	return p
})

func makePKI() (*testPKI, error) {
	newCA := func(name string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: name},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			return nil, nil, err
		}
		cert, err := x509.ParseCertificate(der)
		return cert, key, err
	}
	leaf := func(ca *x509.Certificate, caKey *ecdsa.PrivateKey, serial int64, cn string, usage x509.ExtKeyUsage, server bool) (tls.Certificate, *x509.Certificate, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		if server {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return tls.Certificate{}, nil, err
		}
		x, err := x509.ParseCertificate(der)
		if err != nil {
			return tls.Certificate{}, nil, err
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: x}, x, nil
	}
	ca, caKey, err := newCA("ircsock test CA")
	if err != nil {
		return nil, err
	}
	other, _, err := newCA("unrelated CA")
	if err != nil {
		return nil, err
	}
	p := &testPKI{ca: ca, pool: x509.NewCertPool(), other: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.other.AddCert(other)
	if p.server, p.serverX, err = leaf(ca, caKey, 2, "ircsock test server", x509.ExtKeyUsageServerAuth, true); err != nil {
		return nil, err
	}
	if p.client, p.clientX, err = leaf(ca, caKey, 3, "ircsock test client", x509.ExtKeyUsageClientAuth, false); err != nil {
		return nil, err
	}
	return p, nil
}

// requireIPv6 skips when ::1 cannot be bound, except under CI=true, where a
// machine without IPv6 loopback fails the test.
func requireIPv6(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp6", "[::1]:0")
	if err == nil {
		l.Close()
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and ::1 cannot be bound: %v", err)
	}
	t.Skipf("skipped: ::1 cannot be bound on this machine: %v", err)
}
