package sock

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// relHandler hands the test each served connection's release (which
// may be called more than once), and each failure.
type relHandler struct {
	rels  chan func()
	fails chan error
}

func (h relHandler) HandleListen(ev ListenEvent) {
	switch {
	case ev.Conn != nil:
		var once sync.Once
		h.rels <- func() { once.Do(func() { _ = ev.Conn.Close(); ev.Release() }) }
	case ev.Err != nil:
		h.fails <- ev.Err
	}
}

func (h relHandler) served(t *testing.T) func() {
	t.Helper()
	select {
	case rel := <-h.rels:
		t.Cleanup(rel)
		return rel
	case err := <-h.fails:
		t.Fatalf("Failed(%v), want a connection", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no connection within 10 s")
	}
	return nil
}

func (h relHandler) refused(t *testing.T, want error) error {
	t.Helper()
	select {
	case <-h.rels:
		t.Fatalf("connection served, want refusal with %v", want)
	case err := <-h.fails:
		if !errors.Is(err, want) {
			t.Fatalf("Failed(%v), want %v", err, want)
		}
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("no refusal within 10 s, want %v", want)
	}
	return nil
}

// TestListenSharedAdmission: two listeners, plain and TLS, that share an
// Admission count one client once: its connection to one is what
// MaxConnsPerIP refuses its connection to the other for, until released,
// and the throttle counts attempts on both.
func TestListenSharedAdmission(t *testing.T) {
	adm, err := NewAdmission(AdmissionConfig{MaxConnsPerIP: 1, Throttle: Throttle{Conns: 3, Window: time.Hour, Ban: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	h := relHandler{rels: make(chan func(), 10), fails: make(chan error, 10)}
	start := func(cfg ListenConfig) *Listener {
		cfg.Addr, cfg.Admission, cfg.Refusal = "127.0.0.1:0", adm, refusalLine
		l, err := Listen(cfg, h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close(); l.Wait() })
		l.Start()
		return l
	}
	plain := start(ListenConfig{})
	secure := start(ListenConfig{TLS: &tls.Config{Certificates: []tls.Certificate{selfSignedCert(t)}}})
	dialTLS := func(from string) net.Conn {
		t.Helper()
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}},
			Config: &tls.Config{InsecureSkipVerify: true}}
		c, err := d.Dial("tcp", secure.Addr().String())
		if err != nil {
			t.Fatalf("TLS dial: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	dialFrom(t, plain, "127.0.0.2")
	release := h.served(t)
	c := dialTLS("127.0.0.2") // attempt 2
	h.refused(t, ErrMaxConnsPerIP)
	if got := readRefusal(t, c); !strings.Contains(got, "MaxConnsPerIP=1") {
		t.Errorf("refusal line over TLS %q, want it to name MaxConnsPerIP=1", got)
	}
	if got := secure.Refusals(); got != (Refusals{MaxConnsPerIP: 1}) {
		t.Errorf("TLS listener Refusals() = %+v, want MaxConnsPerIP 1", got)
	}
	if got := plain.Refusals(); got != (Refusals{}) {
		t.Errorf("plain listener Refusals() = %+v, want none: it refused nothing", got)
	}
	release()
	dialTLS("127.0.0.2") // attempt 3: the plain connection is gone
	h.served(t)
	dialFrom(t, plain, "127.0.0.2") // attempt 4: over the shared rate
	h.refused(t, ErrThrottled)
	// Another address is not affected.
	dialFrom(t, plain, "127.0.0.3")
	h.served(t)
}

// TestListenAdmissionConflict: a listener given an Admission and limits
// of its own fails, naming the conflict, rather than ignoring either.
func TestListenAdmissionConflict(t *testing.T) {
	adm, err := NewAdmission(AdmissionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []ListenConfig{
		{MaxConns: 1}, {MaxConnsPerIP: 1}, {IPv6Prefix: 48}, {Throttle: Throttle{Conns: 1}},
	} {
		cfg.Addr, cfg.Admission = "127.0.0.1:0", adm
		l, err := Listen(cfg, ListenFuncs{})
		if err == nil {
			l.Close()
			t.Errorf("Listen(%+v) with an Admission succeeded, want %v", cfg, ErrBadConfig)
			continue
		}
		if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), "beside Admission") {
			t.Errorf("Listen with an Admission and own limits = %v, want %v naming Admission", err, ErrBadConfig)
		}
	}
	if _, err := NewAdmission(AdmissionConfig{IPv6Prefix: 129}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("NewAdmission with IPv6Prefix 129 = %v, want %v", err, ErrBadConfig)
	}
}
