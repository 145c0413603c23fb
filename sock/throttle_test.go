package sock

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// throttleAt runs one admission of ip through a's throttle at time at.
func throttleAt(a *Admission, ip string, at time.Time) error {
	addr := netip.MustParseAddr(ip)
	return a.throttleLocked(a.addrKey(addr), addr, at)
}

// TestThrottleFull checks what a full throttle table does: it refuses
// addresses it does not know, naming MaxAddrs and when it has room again,
// and goes on judging those it knows, so that a flood from many addresses
// can neither lift a ban nor reset a count.
func TestThrottleFull(t *testing.T) {
	const window, ban = 10 * time.Second, time.Minute
	l := &Admission{cfg: AdmissionConfig{Throttle: Throttle{Conns: 2, Window: window, Ban: ban, MaxAddrs: 3}}}
	t0 := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	mustAdmit := func(ip string, d time.Duration) {
		t.Helper()
		if err := throttleAt(l, ip, at(d)); err != nil {
			t.Fatalf("%s at +%v: %v, want admitted", ip, d, err)
		}
	}
	mustRefuse := func(ip string, d time.Duration, want error) *LimitError {
		t.Helper()
		err := throttleAt(l, ip, at(d))
		var le *LimitError
		if !errors.Is(err, want) || !errors.As(err, &le) {
			t.Fatalf("%s at +%v: %v, want %v", ip, d, err, want)
		}
		return le
	}

	mustAdmit("192.0.2.1", 0)
	mustAdmit("192.0.2.1", time.Second)
	mustRefuse("192.0.2.1", 2*time.Second, ErrThrottled) // banned until +62s
	mustAdmit("192.0.2.2", 3*time.Second)                // counts 1 of 2
	mustAdmit("192.0.2.3", 4*time.Second)

	// Full: a flood of new addresses is refused, and the table stays at
	// its size.
	for i := range 1000 {
		ip := netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}).String()
		le := mustRefuse(ip, 5*time.Second, ErrThrottleFull)
		if i == 0 {
			if le.Limit != "Throttle.MaxAddrs=3" {
				t.Errorf("Limit = %q, want Throttle.MaxAddrs=3", le.Limit)
			}
			// The first address to expire is 192.0.2.2, its window
			// started at +3s.
			if want := at(3*time.Second + window + time.Nanosecond); !le.Until.Equal(want) {
				t.Errorf("Until = +%v, want +%v", le.Until.Sub(t0), want.Sub(t0))
			}
			if !strings.Contains(le.Error(), "Throttle.MaxAddrs=3") {
				t.Errorf("Error() = %q, want it to name Throttle.MaxAddrs=3", le.Error())
			}
		}
	}
	if n := len(l.throttle); n != 3 {
		t.Fatalf("throttle table holds %d addresses under the flood, want MaxAddrs=3", n)
	}
	// The known addresses are judged as before: the ban holds, the count
	// goes on from where it was.
	mustRefuse("192.0.2.1", 6*time.Second, ErrThrottled)
	mustAdmit("192.0.2.2", 7*time.Second)                // 2 of 2
	mustRefuse("192.0.2.2", 8*time.Second, ErrThrottled) // 3 of 2: banned
	// 192.0.2.3's window (from +4s) ends after +14s: room for one.
	mustRefuse("198.51.100.1", 14*time.Second, ErrThrottleFull)
	mustAdmit("198.51.100.1", 14*time.Second+time.Nanosecond)
	// The bans end at +62s and +68s, not before.
	mustRefuse("192.0.2.1", 61*time.Second, ErrThrottled)
	mustAdmit("192.0.2.1", 62*time.Second)
}

// TestListenThrottleFull: over real sockets, a full throttle refuses a
// new address with ErrThrottleFull and a refusal line naming the limit,
// while an address it knows still connects.
func TestListenThrottleFull(t *testing.T) {
	l, h := proxyListener(t, ListenConfig{
		Throttle: Throttle{Conns: 5, Window: time.Hour, Ban: time.Hour, MaxAddrs: 2},
		Refusal:  refusalLine,
	})
	for _, from := range []string{"127.0.0.2", "127.0.0.3"} {
		dialFrom(t, l, from)
		waitConn(t, h)
	}
	c := dialFrom(t, l, "127.0.0.4")
	err := waitFail(t, h, ErrThrottleFull)
	var le *LimitError
	if !errors.As(err, &le) || le.Addr != netip.MustParseAddr("127.0.0.4") || le.Until.IsZero() {
		t.Errorf("Failed(%v), want a LimitError for 127.0.0.4 with the time the table has room", err)
	}
	if got := readRefusal(t, c); !strings.Contains(got, "refused 127.0.0.4 (Throttle.MaxAddrs=2), full for 1h0m0s") {
		t.Errorf("refusal line %q, want it to name Throttle.MaxAddrs=2 and the wait", got)
	}
	dialFrom(t, l, "127.0.0.2")
	waitConn(t, h)
}

func TestListenBadThrottleMaxAddrs(t *testing.T) {
	l, err := Listen(ListenConfig{Addr: "127.0.0.1:0", Throttle: Throttle{Conns: 1, MaxAddrs: -1}}, ListenFuncs{})
	if err == nil {
		l.Close()
		t.Fatalf("Listen with Throttle.MaxAddrs -1 succeeded, want %v", ErrBadConfig)
	}
	if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), "Throttle.MaxAddrs=-1") {
		t.Errorf("Listen with Throttle.MaxAddrs -1 = %v, want %v naming Throttle.MaxAddrs=-1", err, ErrBadConfig)
	}
}
