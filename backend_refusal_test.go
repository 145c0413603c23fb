package ircsock_test

// The settings of a refused connection's last moments: RefuseLinger and
// MaxRefusing, through the Backend.

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/sock"
)

// TestBackendMaxRefusing: with MaxRefusing 1 and one refused client
// lingering (RefuseLinger an hour), a second refusal is still a
// ListenerFailure, naming MaxRefusing, and its client still reads the
// ERROR line. The first client talks before it reads: the linger is what
// keeps its line from being lost to a reset.
func TestBackendMaxRefusing(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1, MaxConns: 1, RefuseLinger: time.Hour, MaxRefusing: 1})
	h.accepted(dialRaw(t, h, listenAddr(l)))
	// The n-th refusal (from 1) reported.
	limitFailure := func(what string, n int) ircsock.ListenerFailure {
		evs, _ := waitN(h, what, n, func(e ircsock.ListenerFailure) bool { return e.Op == sock.OpLimit })
		return evs[n-1]
	}

	talker := dialRaw(t, h, listenAddr(l))
	talker.writeLines(t, "NICK talker", "USER t 0 * :talks before it reads")
	if ev := limitFailure("first refusal", 1); errors.Is(ev.Err, sock.ErrMaxRefusing) {
		t.Errorf("first refusal: ListenerFailure %v, want no %v (nothing else was lingering)", ev.Err, sock.ErrMaxRefusing)
	}
	talker.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := talker.readLine(); err != nil || line != "ERROR :Closing Link: 127.0.0.1 (Server full: MaxConns=1)" {
		t.Errorf("first refused client read %q, %v; want the ERROR line naming MaxConns=1", line, err)
	}

	second := dialRaw(t, h, listenAddr(l))
	ev := limitFailure("second refusal", 2)
	if !errors.Is(ev.Err, sock.ErrMaxRefusing) || !errors.Is(ev.Err, sock.ErrMaxConns) || !strings.Contains(ev.Err.Error(), "MaxRefusing=1") {
		t.Errorf("second refusal: ListenerFailure %v, want it to name MaxConns and MaxRefusing=1", ev.Err)
	}
	second.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := second.readLine(); err != nil || line != "ERROR :Closing Link: 127.0.0.1 (Server full: MaxConns=1)" {
		t.Errorf("second refused client read %q, %v; want the ERROR line naming MaxConns=1", line, err)
	}
	second.readEOF(t, 10*time.Second)
	// Shutdown ends the hour-long linger of the first.
	h.shutdown()
}

// TestBackendListenerRefusals: Listener.Refusals counts the refusals of
// each limit, and every one was a ListenerFailure first.
func TestBackendListenerRefusals(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1, MaxConns: 1})
	if got := l.Refusals(); got != (sock.Refusals{}) {
		t.Fatalf("Refusals() of a new listener = %+v, want zero", got)
	}
	h.accepted(dialRaw(t, h, listenAddr(l)))
	for range 2 {
		dialRaw(t, h, listenAddr(l))
	}
	waitN(h, "two refusals", 2, func(e ircsock.ListenerFailure) bool {
		return e.Op == sock.OpLimit && errors.Is(e.Err, sock.ErrMaxConns)
	})
	if got := l.Refusals(); got != (sock.Refusals{MaxConns: 2}) || got.Total() != 2 {
		t.Errorf("Refusals() = %+v, want MaxConns 2 and nothing else", got)
	}
	if got := (*ircsock.Listener)(nil).Refusals(); got != (sock.Refusals{}) {
		t.Errorf("Refusals() of a nil listener = %+v, want zero", got)
	}
	h.shutdown()
}

// TestBackendSharedAdmission: two listeners given one sock.Admission
// count a client once: its connection to the first is what MaxConnsPerIP
// refuses its connection to the second for. Limits set beside an
// Admission fail CreateListener with sock.ErrBadConfig.
func TestBackendSharedAdmission(t *testing.T) {
	adm, err := sock.NewAdmission(sock.AdmissionConfig{MaxConnsPerIP: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, ircsock.Config{})
	first := h.listen(ircsock.ListenerConfig{Idle: -1, Admission: adm})
	second := h.listen(ircsock.ListenerConfig{Idle: -1, Admission: adm})
	h.accepted(dialRaw(t, h, listenAddr(first)))
	refused := dialRaw(t, h, listenAddr(second))
	ev := waitEvent(h, "refusal", func(e ircsock.ListenerFailure) bool { return e.Op == sock.OpLimit })
	if ev.Listener.ID() != second.ID() || !errors.Is(ev.Err, sock.ErrMaxConnsPerIP) {
		t.Errorf("ListenerFailure on listener %d: %v, want listener %d refusing with %v", ev.Listener.ID(), ev.Err, second.ID(), sock.ErrMaxConnsPerIP)
	}
	refused.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := refused.readLine(); err != nil || !strings.Contains(line, "MaxConnsPerIP=1") {
		t.Errorf("refused client read %q, %v; want the ERROR line naming MaxConnsPerIP=1", line, err)
	}
	if got := second.Refusals(); got.MaxConnsPerIP != 1 {
		t.Errorf("second listener Refusals() = %+v, want MaxConnsPerIP 1", got)
	}

	l, err := h.b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Admission: adm, MaxConnsPerIP: 5})
	if err == nil || !errors.Is(err, sock.ErrBadConfig) {
		t.Errorf("CreateListener with an Admission and MaxConnsPerIP = %v, %v; want %v", l, err, sock.ErrBadConfig)
	}
	h.shutdown()
}

// TestBackendRefuseLinger: a refused client that stays silent gets its
// ERROR line and EOF at once (the Backend shuts its write side), and the
// socket is closed when RefuseLinger ends: from then on the client's
// writes fail. The wait is bounded well below sock.DefaultRefuseLinger,
// so a RefuseLinger that is not passed on fails.
func TestBackendRefuseLinger(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	l := h.listen(ircsock.ListenerConfig{Idle: -1, MaxConns: 1, RefuseLinger: 10 * time.Millisecond})
	h.accepted(dialRaw(t, h, listenAddr(l)))
	start := time.Now()
	silent := dialRaw(t, h, listenAddr(l))
	waitEvent(h, "refusal", func(e ircsock.ListenerFailure) bool { return e.Op == sock.OpLimit })
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := silent.readLine(); err != nil || !strings.HasPrefix(line, "ERROR :Closing Link: ") {
		t.Errorf("refused client read %q, %v; want the ERROR line", line, err)
	}
	if line, err := silent.readLine(); !isClosedErr(err) {
		t.Errorf("after the ERROR line: read %q, %v; want EOF", line, err)
	}
	deadline := start.Add(sock.DefaultRefuseLinger * 3 / 4)
	silent.SetWriteDeadline(deadline)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := silent.Write([]byte("PING :still there?\r\n"))
		if errors.Is(err, os.ErrDeadlineExceeded) || (err == nil && time.Now().After(deadline)) {
			t.Fatalf("the refused socket still took input %v after the refusal, want it closed after RefuseLinger 10ms", time.Since(start))
		}
		if err != nil {
			break
		}
		<-tick.C
	}
	h.shutdown()
}

// TestBackendBadIPv6Prefix: a prefix no IPv6 address has is refused by
// CreateListener, naming the setting, not quietly replaced by /64.
func TestBackendBadIPv6Prefix(t *testing.T) {
	h := newHarness(t, ircsock.Config{})
	if _, err := h.b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0", IPv6Prefix: 129}); !errors.Is(err, sock.ErrBadConfig) || !strings.Contains(err.Error(), "IPv6Prefix=129") {
		t.Errorf("CreateListener with IPv6Prefix 129 = %v, want %v naming IPv6Prefix=129", err, sock.ErrBadConfig)
	}
	ev := waitEvent(h, "ListenerFailure", func(ircsock.ListenerFailure) bool { return true })
	if ev.Op != sock.OpBind || !errors.Is(ev.Err, sock.ErrBadConfig) {
		t.Errorf("ListenerFailure %s, want op bind with %v", fmtEvent(ev), sock.ErrBadConfig)
	}
	h.shutdown()
}
