package sock

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
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

// Throttle limits how fast one address (an IPv6 one grouped by
// [ListenConfig.IPv6Prefix]) may open connections: more than Conns within
// Window and the address is refused for Ban. Attempts during a ban are
// refused without extending it; after it the address starts a new
// window. The zero value is off.
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
}

// Throttle defaults.
const (
	DefaultThrottleWindow = 10 * time.Second
	DefaultThrottleBan    = 60 * time.Second
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

// LimitError is a refusal by one of a listener's limits: Err is
// [ErrMaxConns], [ErrMaxConnsPerIP] or [ErrThrottled], Addr the client's
// address (behind a trusted proxy, the one its header named) and Limit
// the setting with its value, as in "MaxConnsPerIP=3".
type LimitError struct {
	Err   error
	Addr  netip.Addr
	Limit string
	// Until is when a throttled address is admitted again (zero for the
	// other limits).
	Until time.Time
}

func (e *LimitError) Error() string {
	s := fmt.Sprintf("%v: refused %s (%s)", e.Err, e.Addr, e.Limit)
	if !e.Until.IsZero() {
		s += fmt.Sprintf(", banned for %v", time.Until(e.Until).Round(time.Second))
	}
	return s
}

// Unwrap returns the sentinel.
func (e *LimitError) Unwrap() error { return e.Err }

// throttleEntry is one address's recent attempts.
type throttleEntry struct {
	start  time.Time // the current window's start
	count  int       // attempts in it
	banned time.Time // refused until then
}

// addrKey is the address the per-address limits count: IPv4 as is, IPv6
// cut to the configured prefix.
func (l *Listener) addrKey(ip netip.Addr) netip.Addr {
	if !ip.Is6() || ip.Is4In6() {
		return ip.Unmap()
	}
	bits := l.cfg.IPv6Prefix
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
func (l *Listener) exempt(ip netip.Addr) bool {
	for _, p := range l.cfg.Exempt {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// throttleLocked counts an attempt from key and refuses it when the
// address is over its rate or banned. l.mu is held.
func (l *Listener) throttleLocked(key, ip netip.Addr, now time.Time) error {
	t := l.cfg.Throttle
	if t.Conns <= 0 {
		return nil
	}
	if l.throttle == nil {
		l.throttle = make(map[netip.Addr]*throttleEntry)
	}
	// Forget addresses that are quiet and not banned, at most once a
	// window, so the table stays as big as the recent attempts.
	if now.Sub(l.swept) > t.window() {
		for k, e := range l.throttle {
			if now.Sub(e.start) > t.window() && now.After(e.banned) {
				delete(l.throttle, k)
			}
		}
		l.swept = now
	}
	e := l.throttle[key]
	if e == nil {
		e = &throttleEntry{start: now}
		l.throttle[key] = e
	}
	limit := fmt.Sprintf("Throttle=%d per %v", t.Conns, t.window())
	if now.Before(e.banned) {
		return &LimitError{Err: ErrThrottled, Addr: ip, Limit: limit, Until: e.banned}
	}
	if now.Sub(e.start) > t.window() {
		e.start, e.count = now, 0
	}
	e.count++
	if e.count > t.Conns {
		e.banned = now.Add(t.ban())
		e.start, e.count = now, 0
		return &LimitError{Err: ErrThrottled, Addr: ip, Limit: limit, Until: e.banned}
	}
	return nil
}

// refuse tells a refused connection why, when the listener has a
// Refusal, then closes it (see [ListenConfig.RefuseLinger]). On a plain
// listener the line is written at once, in one short write; on a TLS
// listener it needs a handshake first, which runs on a lingering slot's
// goroutine (at most [ListenConfig.MaxRefusing] at once), so the accept
// loop never waits for it. The error, joined to the refusal's cause in
// its event, says when the line could not be sent or the connection
// could not linger.
func (l *Listener) refuse(c net.Conn, err error) error {
	if l.cfg.Refusal == nil || l.cfg.WebSocket != nil {
		// A WebSocket client cannot read a line before its upgrade.
		_ = c.Close()
		return nil
	}
	msg := l.cfg.Refusal(err)
	linger := l.cfg.RefuseLinger
	if linger == 0 {
		linger = DefaultRefuseLinger
	}
	if l.cfg.TLS == nil {
		_ = c.SetWriteDeadline(time.Now().Add(refusalWriteTimeout))
		if _, werr := c.Write(msg); werr != nil {
			_ = c.Close()
			return fmt.Errorf("refusal line not sent: %w", werr)
		}
		if closeWrite(c) != nil || linger < 0 {
			_ = c.Close()
			return nil
		}
	} else if linger < 0 {
		_ = c.Close()
		return errors.New("refusal line not sent: TLS needs a handshake, and RefuseLinger is negative")
	}
	switch ok, max := l.claimLinger(); {
	case !ok && max:
		_ = c.Close()
		what := "closed at once, its refusal line may be lost"
		if l.cfg.TLS != nil {
			what = "closed without its refusal line"
		}
		return fmt.Errorf("%s: %w (MaxRefusing=%d)", what, ErrMaxRefusing, l.maxRefusing())
	case !ok:
		_ = c.Close() // the listener is closing
		return nil
	}
	go func() {
		defer l.releaseLinger()
		// One deadline for all of it (handshake, line, drain), set
		// before the watcher that may move it to the past.
		_ = c.SetDeadline(time.Now().Add(linger))
		stop := l.onQuit(c)
		defer stop()
		if l.cfg.TLS != nil {
			tc := tls.Server(c, l.cfg.TLS)
			if tc.Handshake() != nil {
				_ = c.Close()
				return
			}
			if _, err := tc.Write(msg); err != nil {
				_ = c.Close()
				return
			}
			_ = tc.CloseWrite() // close_notify
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
