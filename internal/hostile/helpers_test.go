package hostile

// Shared machinery of the matrix: an echo controller over a Backend that
// records what happened to each connection, raw loopback clients, a prober
// that proves a healthy client is served while a fault runs, a heap
// watcher, and the goroutine-leak check.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// rowTimeout bounds every wait of one row: dials, reads and event waits all
// derive their deadline from the server's context.
const rowTimeout = 20 * time.Second

// checkLeaks fails t if a goroutine started after this call still runs once
// the test's other cleanups are done. Registered first, it runs last.
func checkLeaks(t testing.TB) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// connRec is what the controller saw of one connection.
type connRec struct {
	conn     *ircsock.Conn
	inputs   int
	last     *ircmsg.Message
	msgs     []*ircmsg.Message // kept only while keepMsgs
	inErrs   []error           // the first maxKeptErrs InputErrors
	nInErrs  int
	idles    int
	disc     *ircsock.Disconnect
	sendErrs int
}

const maxKeptErrs = 64

// server is one Backend with a controller goroutine that echoes every Input
// back to its sender (unless a hook says otherwise) and records, per
// connection, what it saw. Connections are found by the client's local port
// (the server's view of the peer port), so a test needs no ids.
type server struct {
	t   testing.TB
	b   *ircsock.Backend
	ctx context.Context
	ln  *ircsock.Listener

	gate atomic.Pointer[chan struct{}] // non-nil: the controller waits on it

	mu       sync.Mutex
	hk       hooks
	changed  chan struct{}
	byPort   map[uint16]*connRec
	byID     map[ircsock.ConnID]*connRec
	lfails   []ircsock.ListenerFailure
	cfails   []ircsock.ConnectorFailure
	opens    []ircsock.ConnectorOpen
	nEvents  int
	closed   bool
	ctrlDone chan struct{}
}

// hooks change what the controller does; they run on its goroutine.
type hooks struct {
	onOpen func(c *ircsock.Conn)
	// onInput runs before the echo and returns whether to echo.
	onInput func(c *ircsock.Conn, m *ircmsg.Message) bool
	onIdle  func(c *ircsock.Conn)
	// keepMsgs keeps every Input message per connection.
	keepMsgs bool
}

// hook changes the controller's hooks (safe while it runs).
func (s *server) hook(fn func(h *hooks)) {
	s.mu.Lock()
	fn(&s.hk)
	s.mu.Unlock()
}

// newServer starts a Backend with cfg and one plaintext listener on
// 127.0.0.1 configured by lc (Addr and Port are forced to loopback and
// ephemeral). The cleanup closes the Backend and waits for its events
// channel to close. Call checkLeaks before it.
func newServer(t testing.TB, cfg ircsock.Config, lc ircsock.ListenerConfig) *server {
	t.Helper()
	s := startBackend(t, cfg)
	if lc.Listener == nil {
		lc.Addr = "127.0.0.1:0"
	}
	ln, err := s.b.CreateListener(lc)
	if err != nil {
		t.Fatalf("CreateListener: %v", err)
	}
	s.ln = ln
	return s
}

// startBackend starts a Backend and its controller, without a listener.
func startBackend(t testing.TB, cfg ircsock.Config) *server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rowTimeout)
	s := &server{
		t: t, ctx: ctx,
		changed:  make(chan struct{}),
		byPort:   make(map[uint16]*connRec),
		byID:     make(map[ircsock.ConnID]*connRec),
		ctrlDone: make(chan struct{}),
	}
	s.b = ircsock.New(cfg)
	go s.control()
	t.Cleanup(func() {
		s.resume()
		_ = s.b.Close()
		select {
		case <-s.ctrlDone:
		case <-time.After(10 * time.Second):
			t.Errorf("events channel still open 10s after Close")
		}
		cancel()
	})
	return s
}

// addr is the listener's address for net.Dial.
func (s *server) addr() string {
	return fmt.Sprintf("127.0.0.1:%d", s.ln.Port())
}

// pause stops the controller before its next event; resume lets it go on.
func (s *server) pause() {
	ch := make(chan struct{})
	s.gate.Store(&ch)
}

func (s *server) resume() {
	if ch := s.gate.Swap(nil); ch != nil {
		close(*ch)
	}
}

func (s *server) control() {
	defer close(s.ctrlDone)
	for ev := range s.b.Events() {
		if g := s.gate.Load(); g != nil {
			<-*g
		}
		s.handle(ev)
	}
	s.mu.Lock()
	s.closed = true
	s.signalLocked()
	s.mu.Unlock()
}

func (s *server) signalLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *server) recLocked(c *ircsock.Conn) *connRec {
	r := s.byID[c.ID()]
	if r == nil {
		r = &connRec{conn: c}
		s.byID[c.ID()] = r
		s.byPort[c.Peer().Port()] = r
	}
	return r
}

func (s *server) handle(ev ircsock.Event) {
	var echo *ircsock.Input
	s.mu.Lock()
	hk := s.hk
	s.nEvents++
	switch ev := ev.(type) {
	case ircsock.ListenerOpen:
		s.recLocked(ev.Conn)
	case ircsock.ConnectorOpen:
		s.recLocked(ev.Conn)
		s.opens = append(s.opens, ev)
	case ircsock.Input:
		r := s.recLocked(ev.Conn())
		r.inputs++
		r.last = ev.Msg()
		if hk.keepMsgs {
			r.msgs = append(r.msgs, ev.Msg())
		}
		echo = &ev
	case ircsock.InputError:
		r := s.recLocked(ev.Conn)
		r.nInErrs++
		if len(r.inErrs) < maxKeptErrs {
			r.inErrs = append(r.inErrs, ev.Err)
		}
	case ircsock.ConnectionIdle:
		s.recLocked(ev.Conn).idles++
	case ircsock.Disconnect:
		s.recLocked(ev.Conn).disc = &ev
	case ircsock.ListenerFailure:
		s.lfails = append(s.lfails, ev)
	case ircsock.ConnectorFailure:
		s.cfails = append(s.cfails, ev)
	}
	s.mu.Unlock()

	switch ev := ev.(type) {
	case ircsock.ListenerOpen:
		if hk.onOpen != nil {
			hk.onOpen(ev.Conn)
		}
	case ircsock.ConnectorOpen:
		if hk.onOpen != nil {
			hk.onOpen(ev.Conn)
		}
	case ircsock.ConnectionIdle:
		if hk.onIdle != nil {
			hk.onIdle(ev.Conn)
		}
	}
	if echo != nil {
		if hk.onInput != nil && !hk.onInput(echo.Conn(), echo.Msg()) {
			echo = nil
		}
	}
	if echo != nil {
		if err := s.b.Send(echo.Msg(), echo.Conn().ID()); err != nil {
			s.mu.Lock()
			s.recLocked(echo.Conn()).sendErrs++
			s.mu.Unlock()
		}
	}

	s.mu.Lock()
	s.signalLocked()
	s.mu.Unlock()
}

// waitFor waits until cond, evaluated under the lock after every event,
// holds; it fails the test at the server's deadline.
func (s *server) waitFor(what string, cond func() bool) {
	s.t.Helper()
	if !s.waitForErr(cond) {
		s.t.Fatalf("waiting for %s: %v", what, s.ctx.Err())
	}
}

func (s *server) waitForErr(cond func() bool) bool {
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		closed := s.closed
		s.mu.Unlock()
		if ok {
			return true
		}
		if closed {
			return false
		}
		select {
		case <-ch:
		case <-s.ctx.Done():
			return false
		}
	}
}

// rec waits for the server side of client c to open and returns its record
// (read it under s.mu, or through the helpers below).
func (s *server) rec(c *client) *connRec {
	s.t.Helper()
	var r *connRec
	s.waitFor("open of "+c.name, func() bool {
		r = s.byPort[c.port]
		return r != nil
	})
	return r
}

// disconnect waits for c's Disconnect event and returns it.
func (s *server) disconnect(c *client) ircsock.Disconnect {
	s.t.Helper()
	r := s.rec(c)
	s.waitFor("Disconnect of "+c.name, func() bool { return r.disc != nil })
	s.mu.Lock()
	defer s.mu.Unlock()
	return *r.disc
}

// snapshot returns a copy of c's record.
func (s *server) snapshot(c *client) connRec {
	r := s.rec(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := *r
	cp.inErrs = append([]error(nil), r.inErrs...)
	cp.msgs = append([]*ircmsg.Message(nil), r.msgs...)
	return cp
}

// client is a raw loopback client.
type client struct {
	t    testing.TB
	name string
	c    net.Conn
	r    *bufio.Reader
	port uint16
	ctx  context.Context
}

// dial connects a raw client to addr; the test's cleanup closes it.
func dial(t testing.TB, ctx context.Context, name, addr string) *client {
	t.Helper()
	c, err := dialErr(ctx, name, addr)
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	c.t = t
	t.Cleanup(func() { _ = c.c.Close() })
	return c
}

func dialErr(ctx context.Context, name, addr string) (*client, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &client{
		name: name, c: nc, r: newReader(nc), ctx: ctx,
		port: uint16(nc.LocalAddr().(*net.TCPAddr).Port),
	}, nil
}

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(c, 4096) }

// deadline is the client's context deadline, or rowTimeout from now.
func (c *client) deadline() time.Time {
	if d, ok := c.ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(rowTimeout)
}

// write writes p whole, bounded by the deadline.
func (c *client) write(p []byte) error {
	_ = c.c.SetWriteDeadline(c.deadline())
	_, err := c.c.Write(p)
	return err
}

// send writes p and fails the test on error.
func (c *client) send(p string) {
	c.t.Helper()
	if err := c.write([]byte(p)); err != nil {
		c.t.Fatalf("%s: write %q: %v", c.name, trunc(p), err)
	}
}

// readLine reads one line without its CR LF, bounded by the deadline.
func (c *client) readLine() (string, error) {
	_ = c.c.SetReadDeadline(c.deadline())
	l, err := c.r.ReadString('\n')
	if err != nil {
		return l, err
	}
	return strings.TrimRight(l, "\r\n"), nil
}

// expect reads lines until one equals want; lines before it are returned.
func (c *client) expect(want string) []string {
	c.t.Helper()
	var skipped []string
	for {
		l, err := c.readLine()
		if err != nil {
			c.t.Fatalf("%s: waiting for %q: %v (after %q)", c.name, want, err, skipped)
		}
		if l == want {
			return skipped
		}
		skipped = append(skipped, l)
	}
}

// roundTrip sends a PRIVMSG carrying tag and waits for its echo; it
// returns an error instead of failing, for use on other goroutines.
func (c *client) roundTrip(tag string) error {
	line := "PRIVMSG #probe :probe " + tag
	if err := c.write([]byte(line + "\r\n")); err != nil {
		return fmt.Errorf("%s: write: %w", c.name, err)
	}
	for {
		l, err := c.readLine()
		if err != nil {
			return fmt.Errorf("%s: waiting for echo of %q: %w", c.name, tag, err)
		}
		if l == line {
			return nil
		}
	}
}

// healthy checks that c is still served: one line echoed back.
func (c *client) healthy(label string) {
	c.t.Helper()
	if err := c.roundTrip(label); err != nil {
		c.t.Fatalf("healthy client not served %s: %v", label, err)
	}
}

// expectEOF reads until the server closes c, failing on timeout, then
// closes c as a peer does at end of stream.
func (c *client) expectEOF() []string {
	c.t.Helper()
	var got []string
	for {
		l, err := c.readLine()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatalf("%s: not closed by the server: %v (read %d lines)", c.name, err, len(got))
			}
			_ = c.c.Close()
			return got
		}
		got = append(got, l)
	}
}

// prober keeps a healthy client busy with round trips while a fault runs.
type prober struct {
	c    *client
	stop chan struct{}
	done chan struct{}
	ok   atomic.Int64
	err  error
}

// startProber runs round trips on c until stopProbe. The first one starts
// at once, so at least one overlaps the fault that the caller starts next.
func startProber(c *client) *prober {
	p := &prober{c: c, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for i := 0; ; i++ {
			if err := c.roundTrip(fmt.Sprintf("during-%d", i)); err != nil {
				p.err = err
				return
			}
			p.ok.Add(1)
			select {
			case <-p.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return p
}

// stopProbe stops p and fails the test unless every round trip succeeded
// and at least one completed.
func (p *prober) stopProbe(t testing.TB) {
	t.Helper()
	close(p.stop)
	<-p.done
	if p.err != nil {
		t.Fatalf("healthy client during the fault: %v (after %d round trips)", p.err, p.ok.Load())
	}
	if p.ok.Load() == 0 {
		t.Fatalf("healthy client during the fault: no round trip completed")
	}
}

// heapWatch samples the heap while a fault runs.
//
// HeapInuse counts garbage not yet collected as well as what is live, and
// with the default GOGC of 100 the collector lets the heap reach twice the
// live heap, and at least 4 MiB, before it collects: the peak then says
// more about GC pacing than about what the Backend holds (an endless line
// was seen 16 KiB over a 4 MiB limit of pure garbage). While watching, GOGC
// is lowered to watchGCPercent, so the collector runs when garbage reaches
// a tenth of the live heap and the peak stays near what the code keeps
// reachable, which is what a limit is meant to bound.
type heapWatch struct {
	base  uint64
	peak  atomic.Uint64
	stop  chan struct{}
	once  sync.Once
	done  chan struct{}
	oldGC int
}

// watchGCPercent is the GOGC setting while a heapWatch samples.
const watchGCPercent = 10

func settledHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// watchHeap takes a baseline after two GCs and samples HeapInuse every
// 10 ms, with GOGC at watchGCPercent, until check (or the end of the test).
// Tests that watch the heap do not run in parallel: GOGC is process-wide.
func watchHeap(t testing.TB) *heapWatch {
	w := &heapWatch{base: settledHeap(), stop: make(chan struct{}), done: make(chan struct{})}
	w.oldGC = debug.SetGCPercent(watchGCPercent)
	t.Cleanup(w.halt)
	w.peak.Store(w.base)
	go func() {
		defer close(w.done)
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > w.peak.Load() {
				w.peak.Store(ms.HeapInuse)
			}
			select {
			case <-w.stop:
				return
			case <-tk.C:
			}
		}
	}()
	return w
}

func (w *heapWatch) halt() {
	w.once.Do(func() {
		close(w.stop)
		<-w.done
		debug.SetGCPercent(w.oldGC)
	})
	<-w.done
}

// check stops sampling and fails t if the peak grew past the baseline by
// more than limit bytes, or if, after a GC, more than settled bytes stay.
func (w *heapWatch) check(t testing.TB, what string, limit, settled uint64) {
	t.Helper()
	w.halt()
	t.Logf("%s: heap base %d, peak growth %d", what, w.base, w.peak.Load()-w.base)
	if d := w.peak.Load() - w.base; d > limit {
		t.Errorf("%s: heap peak grew by %d bytes, want at most %d", what, d, limit)
	}
	if after := settledHeap(); after > w.base && after-w.base > settled {
		t.Errorf("%s: heap after GC grew by %d bytes, want at most %d", what, after-w.base, settled)
	}
}

// trunc shortens long strings for messages.
func trunc(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%s...(%d bytes)", s[:60], len(s))
	}
	return s
}

// withTimeout runs fn and fails t if it does not return within d: API
// misuse must never deadlock.
func withTimeout(t testing.TB, what string, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: did not return within %v", what, d)
	}
}
