package sock

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// DefaultIPv6Prefix is how many leading bits of an IPv6 address name one
// client for the per-address limits when [ListenConfig.IPv6Prefix] is
// zero: a /64 is what one subscriber usually gets, so counting single
// addresses would let one client use billions of them.
const DefaultIPv6Prefix = 64

// Refusal defaults: a refused connection is sent its refusal line (on a
// TLS listener after a handshake), its write side is shut, and what the
// peer sent is read and thrown away until [ListenConfig.RefuseLinger]
// after the refusal before the socket closes, so that the line is not
// lost to a reset (closing a socket with unread input sends an RST,
// which can overtake the line). At most [ListenConfig.MaxRefusing]
// refused connections linger at once, each on a goroutine of its own.
const (
	DefaultRefuseLinger = 2 * time.Second
	DefaultMaxRefusing  = 256
)

// refusalWriteTimeout bounds the one write of a plain refusal line on the
// accept loop's goroutine. The line is short and the socket new, so the
// kernel takes it at once; the bound only keeps a pathological socket
// from stalling every accept. A write it cuts is reported ("refusal line
// not sent") in the refusal's event.
const refusalWriteTimeout = 100 * time.Millisecond

// ErrMaxRefusing is joined to the cause of an [OpLimit] failure when
// [ListenConfig.MaxRefusing] refused connections were lingering already:
// this one was closed at once, so a plain peer may lose its refusal line
// to a reset and a TLS peer, which needs a handshake first, gets none.
var ErrMaxRefusing = errors.New("sock: too many refused connections lingering (MaxRefusing)")

// ErrThrottled is reported through [ListenHandler.Failed] with op
// "limit" when one address opened more than [Throttle].Conns connections
// within [Throttle].Window, or is serving the ban that follows.
var ErrThrottled = errors.New("sock: too many connections from one address in a short time (Throttle)")

// ErrThrottleFull is reported through [ListenHandler.Failed] with op
// "limit" when a connection comes from an address the throttle does not
// know while it already follows [Throttle].MaxAddrs addresses, none of
// them expired: the connection is refused. The [LimitError]'s Until is
// when the first of those addresses expires and frees a place.
var ErrThrottleFull = errors.New("sock: too many addresses connecting at once for the throttle to follow (Throttle.MaxAddrs)")

// Throttle limits how fast one address (an IPv6 one grouped by
// [ListenConfig.IPv6Prefix]) may open connections: more than Conns within
// Window and the address is refused for Ban. Attempts during a ban are
// refused without extending it; after it the address starts a new
// window. The zero value is off.
//
// The throttle remembers each address from its first connection until
// its window ends (or, banned, until its ban ends), and at most MaxAddrs
// addresses at once. An address it does not know is refused with
// [ErrThrottleFull] while it holds MaxAddrs live addresses; it never
// forgets a live address to make room, because then a flood from enough
// other addresses would erase the count, or the ban, of the one address
// it wants to let through. Refusing the unknown fails closed: addresses
// already known are judged as before, and the table frees itself as
// windows and bans end (one Window, or one Ban, after the flood stops).
type Throttle struct {
	// Conns is the most connections accepted from one address per
	// Window; zero or negative turns the throttle off.
	Conns int
	// Window is the period Conns counts over. Zero or negative means
	// [DefaultThrottleWindow] (10 s).
	Window time.Duration
	// Ban is how long an address that went over the limit is refused,
	// counted from the refused attempt. Zero or negative means
	// [DefaultThrottleBan] (60 s).
	Ban time.Duration
	// MaxAddrs is the most addresses the throttle follows at once, which
	// bounds its memory (BENCHMARKS.md measures the heap per address);
	// past it new addresses are refused with [ErrThrottleFull]. Zero means [DefaultThrottleMaxAddrs] (65536);
	// negative makes [Listen] fail with [ErrBadConfig].
	MaxAddrs int
}

// Throttle defaults.
const (
	DefaultThrottleWindow = 10 * time.Second
	DefaultThrottleBan    = 60 * time.Second
	// DefaultThrottleMaxAddrs is 65536 addresses: far more distinct
	// addresses than a healthy server sees connect within one Window,
	// and the number of /64 networks in a single /48.
	DefaultThrottleMaxAddrs = 1 << 16
)

func (t Throttle) window() time.Duration {
	if t.Window <= 0 {
		return DefaultThrottleWindow
	}
	return t.Window
}

func (t Throttle) ban() time.Duration {
	if t.Ban <= 0 {
		return DefaultThrottleBan
	}
	return t.Ban
}

func (t Throttle) maxAddrs() int {
	if t.MaxAddrs == 0 {
		return DefaultThrottleMaxAddrs
	}
	return t.MaxAddrs
}

// LimitError is a refusal by one of a listener's limits: Err is
// [ErrMaxConns], [ErrMaxConnsPerIP], [ErrThrottled] or [ErrThrottleFull],
// Addr the client's address (behind a trusted proxy, the one its header
// named) and Limit the setting with its value, as in "MaxConnsPerIP=3".
type LimitError struct {
	Err   error
	Addr  netip.Addr
	Limit string
	// Until is when a throttled address is admitted again, or, for
	// [ErrThrottleFull], when the throttle has room for a new address
	// again (zero for the other limits, which do not know).
	Until time.Time
}

func (e *LimitError) Error() string {
	s := fmt.Sprintf("%v: refused %s (%s)", e.Err, e.Addr, e.Limit)
	if !e.Until.IsZero() {
		what := "banned"
		if errors.Is(e.Err, ErrThrottleFull) {
			what = "full"
		}
		s += fmt.Sprintf(", %s for %v", what, time.Until(e.Until).Round(time.Second))
	}
	return s
}

// Unwrap returns the sentinel.
func (e *LimitError) Unwrap() error { return e.Err }

// throttleEntry is one address's recent attempts. It is on one of the
// Admission's two throttle lists: the window list while it counts, the ban
// list while it is banned.
type throttleEntry struct {
	key        netip.Addr
	start      time.Time // the window's start
	count      int       // attempts in it
	banned     time.Time // refused until then; zero if not banned
	prev, next *throttleEntry
}

// throttleList is a list of entries in the order they expire: the window
// list holds entries by start, the ban list by end of ban, and since
// every entry of one list lives equally long (Window or Ban), appending
// at the tail keeps each list sorted. The Admission's mutex guards it.
type throttleList struct{ head, tail *throttleEntry }

func (q *throttleList) push(e *throttleEntry) {
	e.prev, e.next = q.tail, nil
	if q.tail != nil {
		q.tail.next = e
	} else {
		q.head = e
	}
	q.tail = e
}

func (q *throttleList) remove(e *throttleEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		q.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		q.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

// AdmissionConfig holds the admission limits of an [Admission]. Each
// field means what the [ListenConfig] field of the same name means, for
// every listener that shares the Admission; the zero value admits every
// connection.
type AdmissionConfig struct {
	// MaxConns is the most connections open at once; zero or negative
	// means no limit.
	MaxConns int
	// MaxConnsPerIP is the most open at once from one address; zero or
	// negative means no limit.
	MaxConnsPerIP int
	// IPv6Prefix is how many leading bits of an IPv6 address count as
	// one client. Zero means [DefaultIPv6Prefix] (64); outside 0 to 128,
	// [NewAdmission] fails with [ErrBadConfig].
	IPv6Prefix int
	// Throttle limits the rate of new connections per address; the zero
	// value is off.
	Throttle Throttle
	// Exempt lists networks the per-address limits do not apply to.
	Exempt []netip.Prefix
}

// An Admission decides which connections a listener admits and counts
// them: the open connections against MaxConns, those of each address
// against MaxConnsPerIP, and each address's rate against its Throttle.
// Every [Listener] has one of its own, made from its [ListenConfig];
// [ListenConfig.Admission] lets several share one, so that a client
// is counted once across them. It is safe for concurrent use.
type Admission struct {
	cfg     AdmissionConfig
	mu      sync.Mutex
	open    int
	perAddr map[netip.Addr]int // by addrKey

	throttle map[netip.Addr]*throttleEntry // by addrKey
	thrWin   throttleList                  // throttle entries counting, by start
	thrBan   throttleList                  // throttle entries banned, by end of ban
	spare    *throttleEntry                // the last entry forgotten, for the next new address
}

// NewAdmission returns an Admission with the limits of cfg. A setting
// out of its range is an error wrapping [ErrBadConfig] that names it.
func NewAdmission(cfg AdmissionConfig) (*Admission, error) {
	if cfg.IPv6Prefix < 0 || cfg.IPv6Prefix > 128 {
		return nil, fmt.Errorf("%w: IPv6Prefix=%d, want 0 (the default) to 128", ErrBadConfig, cfg.IPv6Prefix)
	}
	if cfg.Throttle.MaxAddrs < 0 {
		return nil, fmt.Errorf("%w: Throttle.MaxAddrs=%d, want 0 (the default, %d) or more", ErrBadConfig, cfg.Throttle.MaxAddrs, DefaultThrottleMaxAddrs)
	}
	a := &Admission{cfg: cfg}
	if cfg.MaxConnsPerIP > 0 {
		a.perAddr = make(map[netip.Addr]int)
	}
	return a, nil
}

// admit counts a connection against MaxConns and, if perIP, against the
// per-address limits for ip; counted says whether ip was counted per
// address (not when exempt). Refusals are *[LimitError]s.
func (a *Admission) admit(ip netip.Addr, perIP bool) (counted bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cfg.MaxConns > 0 && a.open >= a.cfg.MaxConns {
		return false, &LimitError{Err: ErrMaxConns, Addr: ip, Limit: "MaxConns=" + strconv.Itoa(a.cfg.MaxConns)}
	}
	if perIP {
		if counted, err = a.admitIPLocked(ip); err != nil {
			return false, err
		}
	}
	a.open++
	return counted, nil
}

// admitIP counts a connection already admitted (behind a trusted proxy,
// once its header named the client) against the per-address limits for
// ip.
func (a *Admission) admitIP(ip netip.Addr) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.admitIPLocked(ip)
}

// admitIPLocked is the one per-address admission, for direct and proxied
// connections alike: the exempt list, then Throttle, then MaxConnsPerIP.
func (a *Admission) admitIPLocked(ip netip.Addr) (bool, error) {
	if a.exempt(ip) {
		return false, nil
	}
	key := a.addrKey(ip)
	if err := a.throttleLocked(key, ip, time.Now()); err != nil {
		return false, err
	}
	if a.perAddr == nil {
		return false, nil
	}
	if a.perAddr[key] >= a.cfg.MaxConnsPerIP {
		return false, &LimitError{Err: ErrMaxConnsPerIP, Addr: ip, Limit: "MaxConnsPerIP=" + strconv.Itoa(a.cfg.MaxConnsPerIP)}
	}
	a.perAddr[key]++
	return true, nil
}

// release uncounts a connection; counted says whether ip was counted
// per address.
func (a *Admission) release(ip netip.Addr, counted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.open--
	if a.perAddr != nil && counted {
		key := a.addrKey(ip)
		if n := a.perAddr[key] - 1; n > 0 {
			a.perAddr[key] = n
		} else {
			delete(a.perAddr, key)
		}
	}
}

// addrKey is the address the per-address limits count: IPv4 as is, IPv6
// cut to the configured prefix.
func (a *Admission) addrKey(ip netip.Addr) netip.Addr {
	if !ip.Is6() || ip.Is4In6() {
		return ip.Unmap()
	}
	bits := a.cfg.IPv6Prefix
	if bits <= 0 || bits > 128 {
		bits = DefaultIPv6Prefix
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ip
	}
	return p.Addr()
}

// exempt reports whether ip is on the exempt list.
func (a *Admission) exempt(ip netip.Addr) bool {
	for _, p := range a.cfg.Exempt {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// expireThrottleLocked forgets the addresses whose window or ban is over.
// The lists are in expiry order, so this takes time in proportion to
// what it forgets: each entry is forgotten once. a.mu is held.
func (a *Admission) expireThrottleLocked(now time.Time) {
	window := a.cfg.Throttle.window()
	for e := a.thrWin.head; e != nil && now.Sub(e.start) > window; e = a.thrWin.head {
		a.thrWin.remove(e)
		delete(a.throttle, e.key)
		a.spare = e
	}
	for e := a.thrBan.head; e != nil && !now.Before(e.banned); e = a.thrBan.head {
		a.thrBan.remove(e)
		delete(a.throttle, e.key)
		a.spare = e
	}
}

// throttleRoomLocked is when the first live address expires: the
// earliest end of a window or a ban. a.mu is held.
func (a *Admission) throttleRoomLocked() time.Time {
	var t time.Time
	if e := a.thrWin.head; e != nil {
		t = e.start.Add(a.cfg.Throttle.window() + time.Nanosecond)
	}
	if e := a.thrBan.head; e != nil && (t.IsZero() || e.banned.Before(t)) {
		t = e.banned
	}
	return t
}

// throttleLocked counts an attempt from key and refuses it when the
// address is over its rate or banned, or unknown while the table is
// full. a.mu is held.
func (a *Admission) throttleLocked(key, ip netip.Addr, now time.Time) error {
	t := a.cfg.Throttle
	if t.Conns <= 0 {
		return nil
	}
	if a.throttle == nil {
		a.throttle = make(map[netip.Addr]*throttleEntry)
	}
	a.expireThrottleLocked(now)
	e := a.throttle[key]
	if e == nil {
		if max := t.maxAddrs(); len(a.throttle) >= max {
			return &LimitError{Err: ErrThrottleFull, Addr: ip, Limit: "Throttle.MaxAddrs=" + strconv.Itoa(max), Until: a.throttleRoomLocked()}
		}
		// A new address, or one whose window or ban is over: a new window.
		// Under a steady flood one address is forgotten for each one
		// remembered: reusing its entry saves an allocation per attempt.
		if e = a.spare; e != nil {
			a.spare = nil
			*e = throttleEntry{key: key, start: now}
		} else {
			e = &throttleEntry{key: key, start: now}
		}
		a.throttle[key] = e
		a.thrWin.push(e)
	}
	if e.banned.IsZero() {
		e.count++
		if e.count <= t.Conns {
			return nil
		}
		e.banned = now.Add(t.ban())
		a.thrWin.remove(e)
		a.thrBan.push(e)
	}
	return &LimitError{Err: ErrThrottled, Addr: ip, Limit: fmt.Sprintf("Throttle=%d per %v", t.Conns, t.window()), Until: e.banned}
}

// refuse tells a refused connection why, then closes it (see
// [ListenConfig.RefuseLinger]). On a plain listener with a Refusal the
// line is written at once, in one short write. What needs the peer first
// runs on a lingering slot's goroutine (at most [ListenConfig.MaxRefusing]
// at once), so the accept loop never waits for it: the handshake before
// the line on a TLS listener, and the upgrade request before the HTTP 503
// on a WebSocket listener. The error, joined to the refusal's cause in
// its event, says when the answer could not be sent or the connection
// could not linger.
func (l *Listener) refuse(c net.Conn, err error) error {
	l.countRefusal(err)
	ws := l.cfg.WebSocket != nil
	if l.cfg.Refusal == nil && !ws {
		_ = c.Close()
		return nil
	}
	var msg []byte
	if !ws {
		msg = l.cfg.Refusal(err)
	}
	linger := l.cfg.RefuseLinger
	if linger == 0 {
		linger = DefaultRefuseLinger
	}
	switch {
	case ws && linger < 0:
		_ = c.Close()
		return errors.New("HTTP 503 not sent: it answers the upgrade request, which RefuseLinger (negative) leaves no time to read")
	case l.cfg.TLS == nil && !ws:
		_ = c.SetWriteDeadline(time.Now().Add(refusalWriteTimeout))
		if _, werr := c.Write(msg); werr != nil {
			_ = c.Close()
			return fmt.Errorf("refusal line not sent: %w", werr)
		}
		if closeWrite(c) != nil || linger < 0 {
			_ = c.Close()
			return nil
		}
	case linger < 0:
		_ = c.Close()
		return errors.New("refusal line not sent: TLS needs a handshake, and RefuseLinger is negative")
	}
	switch ok, max := l.claimLinger(); {
	case !ok && max:
		l.overMaxRefusing.Add(1)
		_ = c.Close()
		what := "closed at once, its refusal line may be lost"
		if ws {
			what = "closed without its HTTP 503"
		} else if l.cfg.TLS != nil {
			what = "closed without its refusal line"
		}
		return fmt.Errorf("%s: %w (MaxRefusing=%d)", what, ErrMaxRefusing, l.maxRefusing())
	case !ok:
		_ = c.Close() // the listener is closing
		return nil
	}
	go func() {
		defer l.releaseLinger()
		// One deadline for all of it (handshake, request, answer,
		// drain), set before the watcher that may move it to the past.
		_ = c.SetDeadline(time.Now().Add(linger))
		stop := l.onQuit(c)
		defer stop()
		conn := c
		if l.cfg.TLS != nil {
			tc := tls.Server(c, l.cfg.TLS)
			if tc.Handshake() != nil {
				_ = c.Close()
				return
			}
			conn = tc
		}
		if ws {
			if !readUpgradeRequest(conn, l.cfg.WebSocket) {
				_ = c.Close()
				return
			}
			msg = httpRefusal(err, time.Now())
		}
		if conn != c || ws {
			if _, err := conn.Write(msg); err != nil {
				_ = c.Close()
				return
			}
			if tc, ok := conn.(*tls.Conn); ok {
				_ = tc.CloseWrite() // close_notify
			}
			_ = closeWrite(c)
		}
		var buf [512]byte
		for {
			if _, err := c.Read(buf[:]); err != nil {
				break
			}
		}
		_ = c.Close()
	}()
	return nil
}

// readUpgradeRequest reads the HTTP request of a refused WebSocket
// client, so that its answer comes as the answer to it (an HTTP client
// may drop a response that arrives before its request has gone) and is
// not lost to the reset its unread bytes would cause; false means no
// valid request came within [WebSocketConfig.MaxRequest] bytes.
func readUpgradeRequest(c net.Conn, cfg *WebSocketConfig) bool {
	max := cfg.MaxRequest
	if max <= 0 {
		max = DefaultWebSocketMaxRequest
	}
	br := bufio.NewReaderSize(io.LimitReader(c, int64(max)), wsReadBuffer)
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	_ = req.Body.Close()
	return true
}

// httpRefusal is the answer to a refused WebSocket upgrade: 503 Service
// Unavailable with the refusal as text and, when the limit knows when the
// client may come back (Throttle), a Retry-After in whole seconds,
// rounded up.
func httpRefusal(err error, now time.Time) []byte {
	body := err.Error() + "\n"
	b := fmt.Appendf(nil, "HTTP/1.1 %d %s\r\n", http.StatusServiceUnavailable, http.StatusText(http.StatusServiceUnavailable))
	var le *LimitError
	if errors.As(err, &le) && !le.Until.IsZero() {
		secs := max(int64((le.Until.Sub(now)+time.Second-1)/time.Second), 1)
		b = fmt.Appendf(b, "Retry-After: %d\r\n", secs)
	}
	b = fmt.Appendf(b, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	return b
}

// Refusals counts the connections a [Listener] refused by its limits
// since [Listen], by the limit that refused them; each was also reported
// as an [OpLimit] failure.
type Refusals struct {
	MaxConns      uint64 // [ErrMaxConns]
	MaxConnsPerIP uint64 // [ErrMaxConnsPerIP]
	Throttled     uint64 // [ErrThrottled]
	ThrottleFull  uint64 // [ErrThrottleFull]
	// OverMaxRefusing counts the refusals, among those above, that were
	// closed at once because [ListenConfig.MaxRefusing] were lingering
	// already ([ErrMaxRefusing]).
	OverMaxRefusing uint64
}

// Total is the number of refused connections.
func (r Refusals) Total() uint64 {
	return r.MaxConns + r.MaxConnsPerIP + r.Throttled + r.ThrottleFull
}

// Refusals returns the listener's refusal counts. It may be called from
// any goroutine, also after Close.
func (l *Listener) Refusals() Refusals {
	return Refusals{
		MaxConns:        l.refused[refusedMaxConns].Load(),
		MaxConnsPerIP:   l.refused[refusedPerIP].Load(),
		Throttled:       l.refused[refusedThrottled].Load(),
		ThrottleFull:    l.refused[refusedFull].Load(),
		OverMaxRefusing: l.overMaxRefusing.Load(),
	}
}

// Indexes of Listener.refused.
const (
	refusedMaxConns = iota
	refusedPerIP
	refusedThrottled
	refusedFull
	refusedKinds
)

// countRefusal counts a refusal by the limit that made it.
func (l *Listener) countRefusal(err error) {
	for i, e := range [refusedKinds]error{ErrMaxConns, ErrMaxConnsPerIP, ErrThrottled, ErrThrottleFull} {
		if errors.Is(err, e) {
			l.refused[i].Add(1)
			return
		}
	}
}

// maxRefusing is the MaxRefusing in force.
func (l *Listener) maxRefusing() int {
	if l.cfg.MaxRefusing == 0 {
		return DefaultMaxRefusing
	}
	return l.cfg.MaxRefusing
}

// claimLinger takes one of the MaxRefusing lingering slots, if the
// listener is open and one is free; max reports that none was free.
func (l *Listener) claimLinger() (ok, max bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return false, false
	}
	if l.refusing >= l.maxRefusing() {
		return false, true
	}
	l.refusing++
	l.lingerWG.Add(1)
	return true, false
}

func (l *Listener) releaseLinger() {
	l.mu.Lock()
	l.refusing--
	l.mu.Unlock()
	l.lingerWG.Done()
}

// onQuit cuts c's reads and writes short when the listener closes, until
// the returned stop is called (which waits for the watcher to end).
func (l *Listener) onQuit(c net.Conn) (stop func()) {
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-l.quit:
			_ = c.SetDeadline(time.Unix(1, 0))
		case <-done:
		}
	}()
	return func() {
		close(done)
		<-watched
	}
}
