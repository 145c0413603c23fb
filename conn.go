package ircsock

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
)

// Conn is one live connection (the original's Connect). Its methods may
// be called from any goroutine, also after the connection has closed, and
// on a nil *Conn (the Conn of a zero event), which reports zero values.
type Conn struct {
	id        ConnID
	b         *Backend
	w         *sock.Wheel
	listener  *Listener  // the one the connection came from, or
	connector *Connector // this one

	// Every connection has one Conn, so its fields are ordered to leave
	// no padding (112 bytes, a size class of the allocator); the flags
	// are grouped, each with what guards it.

	// flags holds flagOutZ, flagInZ, flagInArmed and flagWatching, one
	// atomic word for the four.
	flags connFlags

	earlyOver bool // under hmu: more was decoded than early could keep
	pending   bool // under hmu: a late arm switches before the next line

	// Guarded by b.pmu: the Disconnect event is queued (nothing may follow
	// it), and an idle event is waiting in the pump (do not queue another).
	gone, idleQueued bool

	match atomic.Pointer[func(m *ircmsg.Message) bool] // CompressInputAfter, armed

	// The first input lines, kept until an input switch is armed, so that
	// CompressInputAfter can tell whether it came too late (see
	// armInput), while watching; guarded by hmu.
	hmu   sync.Mutex
	early []byte // the lines, each followed by '\n'

	// lag holds input back under the listener's FloodControl; nil
	// when the connection has none.
	lag *lagGate

	// batch holds the Inputs decoded from the current read and not yet
	// in the events channel (see connHandler.HandleReadEnd); nil between
	// reads. Only the reading goroutine touches it.
	batch *inputBatch

	// dirty: Send queued lines here without waking the writer; guarded
	// by b.dmu (coalesce.go).
	dirty bool
}

// The bits of connFlags.
const (
	flagOutZ     connFlag = 1 << iota // output compressed
	flagInZ                           // input compressed: zlib layer in place
	flagInArmed                       // input compressed, or a switch armed
	flagWatching                      // the reader records the first lines (Conn.early)
	flagInRun                         // the reader hands a read's lines to InputHandler (handler.go)
)

// connFlag is one bit of connFlags.
type connFlag uint32

// connFlags is a set of atomic booleans in one word: an atomic.Bool per
// flag would take a word of every Conn each.
type connFlags struct{ v atomic.Uint32 }

// Load reports whether f is set.
func (fs *connFlags) Load(f connFlag) bool { return fs.v.Load()&uint32(f) != 0 }

// Store sets or clears f.
func (fs *connFlags) Store(f connFlag, on bool) {
	if on {
		fs.v.Or(uint32(f))
	} else {
		fs.v.And(^uint32(f))
	}
}

// CompareAndSwap sets f to new if it is old, and reports whether it did,
// as atomic.Bool's does.
func (fs *connFlags) CompareAndSwap(f connFlag, old, new bool) bool {
	switch {
	case old == new:
		return fs.Load(f) == old
	case new:
		return fs.v.Or(uint32(f))&uint32(f) == 0
	default:
		return fs.v.And(^uint32(f))&uint32(f) != 0
	}
}

// ID returns the connection id.
func (c *Conn) ID() ConnID {
	if c == nil {
		return 0
	}
	return c.id
}

// IPv6 reports whether the connection runs over IPv6 (an IPv4-mapped
// peer counts as IPv4).
func (c *Conn) IPv6() bool { return c.Peer().Addr().Is6() }

// Peer returns the remote address and port, unmapped.
func (c *Conn) Peer() netip.AddrPort {
	if c.wheel() == nil {
		return netip.AddrPort{}
	}
	if fc, ok := c.w.Conn().(interface{ RemoteAddrPort() netip.AddrPort }); ok {
		return unmapped(fc.RemoteAddrPort())
	}
	return addrPort(c.w.Conn().RemoteAddr())
}

// Local returns the local address and port, unmapped.
func (c *Conn) Local() netip.AddrPort {
	if c.wheel() == nil {
		return netip.AddrPort{}
	}
	if fc, ok := c.w.Conn().(interface{ LocalAddrPort() netip.AddrPort }); ok {
		return unmapped(fc.LocalAddrPort())
	}
	return addrPort(c.w.Conn().LocalAddr())
}

// LastSeen returns when input last arrived (the connection's start before
// any).
func (c *Conn) LastSeen() time.Time {
	if c.wheel() == nil {
		return time.Time{}
	}
	return c.w.LastSeen()
}

// Idle returns how long the connection has had no input.
func (c *Conn) Idle() time.Duration {
	if c.wheel() == nil {
		return 0
	}
	return c.w.IdleFor()
}

// IdleTime returns the configured idle period (negative: no idle events).
func (c *Conn) IdleTime() time.Duration {
	switch {
	case c == nil:
		return 0
	case c.listener != nil:
		return c.listener.idle
	case c.connector.cfg.Idle == 0:
		return DefaultIdle
	}
	return c.connector.cfg.Idle
}

// Compressed reports whether either direction is compressed (or the input
// switch is armed by CompressInputAfter).
func (c *Conn) Compressed() bool {
	return c != nil && (c.flags.Load(flagOutZ) || c.flags.Load(flagInZ))
}

// Disconnecting reports whether a disconnect was requested or the
// connection is closed.
func (c *Conn) Disconnecting() bool { return c.wheel() == nil || c.w.Disconnecting() }

// TLS returns the negotiated TLS state (version, cipher suite, peer
// certificates), or nil for a plaintext connection.
//
// The TLS layer is found under any wrapper that exposes what it wraps
// with a NetConn method (as *tls.Conn itself does), so a WebSocket or
// PROXY protocol connection reports the TLS under it.
func (c *Conn) TLS() *tls.ConnectionState {
	if c.wheel() == nil {
		return nil
	}
	tc := findTLS(c.w.Conn())
	if tc == nil {
		return nil
	}
	st := tc.ConnectionState()
	return &st
}

// findTLS looks for the *tls.Conn in a chain of wrappers.
func findTLS(nc net.Conn) *tls.Conn {
	// A bound on the depth keeps a wrapper that returns itself from
	// looping for ever.
	for range 8 {
		switch x := nc.(type) {
		case *tls.Conn:
			return x
		case interface{ NetConn() net.Conn }:
			nc = x.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// CertFP returns the SHA-256 fingerprint of the client certificate the
// peer presented over TLS, in lowercase hex without separators (the form
// InspIRCd and ergo report in WHOIS), or "" when the connection is not TLS
// or the peer sent no certificate. The certificate is not verified here:
// a listener that only requests certificates (tls.RequestClientCert)
// accepts self-signed ones, and the fingerprint is what identifies them.
func (c *Conn) CertFP() string {
	if c.wheel() == nil {
		return ""
	}
	tc := findTLS(c.w.Conn())
	if tc == nil {
		return ""
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return ""
	}
	sum := sha256.Sum256(certs[0].Raw)
	return hex.EncodeToString(sum[:])
}

// WebSocket reports whether the connection is IRC over WebSocket, and
// which subprotocol was negotiated ("" for none: a legacy client, sent
// text messages).
func (c *Conn) WebSocket() (subprotocol string, ok bool) {
	if c.wheel() == nil {
		return "", false
	}
	if wc, ok := c.w.Conn().(*sock.WebSocketConn); ok {
		return wc.Subprotocol(), true
	}
	return "", false
}

// Args returns the Args of the listener or connector it came from.
func (c *Conn) Args() any {
	if c == nil {
		return nil
	}
	if c.listener != nil {
		return c.listener.args
	}
	if c.connector != nil {
		return c.connector.args
	}
	return nil
}

// Listener returns the listener that accepted it, nil for connectors.
func (c *Conn) Listener() *Listener {
	if c == nil {
		return nil
	}
	return c.listener
}

// Connector returns the connector that dialed it, nil for listeners.
func (c *Conn) Connector() *Connector {
	if c == nil {
		return nil
	}
	return c.connector
}

// wheel returns c's wheel, or nil for a nil Conn (the Conn of a zero
// event) or a zero one; the methods above then report zero values.
func (c *Conn) wheel() *sock.Wheel {
	if c == nil {
		return nil
	}
	return c.w
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		return unmapped(ta.AddrPort())
	}
	return netip.AddrPort{}
}

// unmapped is ap with an IPv4-mapped IPv6 address as plain IPv4.
func unmapped(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// serveConn sets a connection up and sends its open event on the calling
// goroutine (the listener's or connector's), then starts its read loop
// in the background and calls release when that ends. The calling
// goroutine does not read: setup and the TLS handshake grow a stack that
// would never shrink back while the connection waits for input.
func (b *Backend) serveConn(nc net.Conn, l *Listener, k *Connector, release func()) {
	c := &Conn{
		b: b, listener: l, connector: k,
	}
	var preset func(*ircmsg.Message) bool
	var tlsRecord int
	if l != nil {
		tlsRecord = l.cfg.MaxTLSRecord
		if l.cfg.Flood.Burst > 0 && !l.exempt(addrPort(nc.RemoteAddr()).Addr()) {
			c.lag = newLagGate(l.cfg.Flood)
		}
		preset = l.cfg.CompressInputAfter
	} else {
		preset = k.cfg.CompressInputAfter
		tlsRecord = k.cfg.MaxTLSRecord
	}
	if preset != nil {
		// Armed before the reader starts: exact whatever the peer sends
		// first, however fast.
		c.flags.Store(flagInArmed, true)
		c.match.Store(&preset)
	} else {
		c.flags.Store(flagWatching, true)
	}
	c.w = sock.NewWheel(nc, &filter.Line{Max: b.maxLine}, lineOut, connHandler{c}, sock.WheelConfig{
		MaxSendQ: b.cfg.MaxSendQ, Idle: c.IdleTime(), DrainTimeout: b.cfg.DrainTimeout,
		MaxTLSRecord: tlsRecord,
	})
	b.mu.Lock()
	if b.closing.Load() {
		b.mu.Unlock()
		_ = nc.Close()
		release()
		return
	}
	c.id = ConnID(b.nextConn.Add(1))
	b.conns[c.id] = c
	b.mu.Unlock()
	if l != nil {
		b.send(ListenerOpen{Conn: c, Listener: l})
	} else {
		b.send(ConnectorOpen{Conn: c, Connector: k})
	}
	// Start, not Run on a goroutine of our own: an idle plaintext
	// connection then holds no goroutine at all (see sock.Wheel.Start).
	c.w.Start(release)
}

// lineOut is the output filter of every connection that does not compress
// its output. A Line's Put and Flush read and write none of its fields, so
// one Line serves them all and a connection costs one Line, its input's,
// instead of two. Compression gives the connection a Line of its own under
// the zlib layer (withZlib), because a Stack changes its layers' state.
var lineOut = &filter.Line{}

// connHandler adapts a Conn to sock.Handler; its methods run on the
// connection's reading goroutine (Idle on a timer).
type connHandler struct{ c *Conn }

// Handle is the wheel's one callback; its cases run on the connection's
// reading goroutine, EventIdle on a timer.
func (h connHandler) Handle(w *sock.Wheel, ev sock.Event) {
	switch ev.Kind {
	case sock.EventRecord:
		h.record(w, ev.Record)
	case sock.EventRecordError:
		if h.c.flags.Load(flagWatching) {
			h.c.watch(nil) // a line all the same: a switch cannot fall before it
		}
		h.c.deliver(InputError{Conn: h.c, Err: ev.Err})
	case sock.EventIdle:
		h.idle()
	case sock.EventClosed:
		h.closed(w, ev.Reason, ev.Err)
	}
}

func (h connHandler) record(w *sock.Wheel, rec []byte) {
	c := h.c
	blk, line := newInputBlock(rec)
	m := &blk.m
	if c.flags.Load(flagWatching) {
		c.watch(rec)
	}
	if err := c.b.cfg.Format.Limits.ParseOwnedInto(m, line); err != nil {
		blk.recycle() // never seen by the controller
		c.deliver(InputError{Conn: c, Err: &filter.RecordError{Err: err}})
		return
	}
	// The match runs before the controller owns m, and the switch happens
	// before the wheel decodes the next record: the cut is exact even when
	// compressed bytes came in the same read as this line.
	// The CompareAndSwap loses to an UnsetCompressedLink that cancelled
	// the match meanwhile; a plain Store would switch a link just marked
	// uncompressed.
	if mp := c.match.Load(); mp != nil && (*mp)(m) && c.match.CompareAndSwap(mp, nil) {
		w.SetInput(withZlib(w.Input()))
		c.flags.Store(flagInZ, true)
	}
	blk.conn = c
	handle := c.b.cfg.InputHandler
	if handle != nil {
		c.beginRun() // handler.go
	}
	if c.lag != nil {
		c.lag.push(c, Input{blk})
		return
	}
	if handle != nil {
		handle(Input{blk})
		return
	}
	c.hold(Input{blk}) // sent with the rest of the read (batch.go)
}

// deliver sends an event of the reading goroutine, through the flood
// gate if there is one, after the Inputs it holds back.
func (c *Conn) deliver(ev Event) {
	if c.lag != nil {
		c.lag.push(c, ev)
		return
	}
	if c.batch != nil {
		c.sendHeld()
	}
	c.b.send(ev)
}

func (h connHandler) idle() {
	c := h.c
	b := c.b
	b.pmu.Lock()
	if c.idleQueued || c.gone {
		b.pmu.Unlock()
		return
	}
	c.idleQueued = true
	b.pmu.Unlock()
	b.post(ConnectionIdle{Conn: c}, c, nil)
}

func (h connHandler) closed(w *sock.Wheel, reason string, err error) {
	c := h.c
	b := c.b
	c.endRun() // the last Inputs before their Disconnect
	if c.lag != nil {
		c.lag.closing() // held-back input first, then the Disconnect
		// The wheel saw a requested close: name the limit that asked
		// for it, before a drain error that may have cut it.
		if cause := c.lag.floodCause(); cause != nil && reason == ReasonExcessFlood {
			if err == nil {
				err = cause
			} else {
				err = fmt.Errorf("%w; %w", cause, err)
			}
		}
	}
	b.mu.Lock()
	delete(b.conns, c.id)
	b.mu.Unlock()
	lost := w.Undelivered()
	// Shutdown reports what its drains cut: by DrainTimeout with bytes
	// undelivered, or by its context. A peer's own reset is on its
	// Disconnect event, not Shutdown's doing.
	var de *sock.DrainError
	if b.closing.Load() && errors.As(err, &de) && (de.Undelivered > 0 || de.Limit == 0) {
		b.lostConns.Add(1)
		b.lostBytes.Add(de.Undelivered)
	}
	// Through the pump, after any idle or Compressed event already queued
	// for this connection; post marks it gone so nothing follows.
	b.post(Disconnect{Conn: c, Reason: reason, Err: err, Undelivered: lost}, c, nil)
}
