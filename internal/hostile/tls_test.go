package hostile

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
)

// pki is a test CA and what it signed, generated in memory.
type pki struct {
	pool    *x509.CertPool
	valid   tls.Certificate // for 127.0.0.1 and localhost
	expired tls.Certificate
	foreign tls.Certificate // signed by a CA nobody trusts
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	serial := int64(1)
	newCA := func(name string) (*x509.Certificate, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		serial++
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, key
	}
	leaf := func(ca *x509.Certificate, caKey *ecdsa.PrivateKey, notBefore, notAfter time.Time) tls.Certificate {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		serial++
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"},
			NotBefore: notBefore, NotAfter: notAfter,
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	ca, caKey := newCA("hostile test CA")
	other, otherKey := newCA("untrusted CA")
	p := &pki{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	now := time.Now()
	p.valid = leaf(ca, caKey, now.Add(-time.Hour), now.Add(24*time.Hour))
	p.expired = leaf(ca, caKey, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	p.foreign = leaf(other, otherKey, now.Add(-time.Hour), now.Add(24*time.Hour))
	return p
}

// TestTLSListener sends what is not a TLS handshake, or only part of one,
// to a TLS listener: each connection is dropped with a ListenerFailure of
// Op "tls" (never a ListenerOpen), within the handshake timeout, while a
// plaintext client and a real TLS client on the same Backend are served.
func TestTLSListener(t *testing.T) {
	// Long enough for a real handshake under -race on a busy machine.
	const hsTimeout = time.Second
	rows := []struct {
		name  string
		bytes string
		// stall: the peer then sends nothing; only the timeout ends it.
		stall bool
	}{
		{"plaintext sent to a TLS port", "NICK alice\r\nUSER a 0 * :Alice\r\n", false},
		{"garbage handshake", "\x16\x03\x01\x00\x08\xff\xff\xff\xff\xff\xff\xff\xff" + "\x00\x01\x02garbage", false},
		{"client stops mid-handshake", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", true},
		{"client sends nothing", "", true},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			p := newPKI(t)
			s := newServer(t, ircsock.Config{HandshakeTimeout: hsTimeout}, ircsock.ListenerConfig{Idle: -1})
			tln, err := s.b.CreateListener(ircsock.ListenerConfig{
				Addr: "127.0.0.1:0", Idle: -1,
				TLS: &tls.Config{Certificates: []tls.Certificate{p.valid}},
			})
			if err != nil {
				t.Fatalf("CreateListener(TLS): %v", err)
			}
			taddr := netip.AddrPortFrom(tln.Addr(), uint16(tln.Port())).String()
			good := dial(t, s.ctx, "good", s.addr())
			good.healthy("before")
			pr := startProber(good)

			start := time.Now()
			bad := dial(t, s.ctx, "bad", taddr)
			if tc.bytes != "" {
				bad.send(tc.bytes)
			}
			bad.expectEOF()
			took := time.Since(start)
			var fail ircsock.ListenerFailure
			s.waitFor("ListenerFailure tls", func() bool {
				for _, f := range s.lfails {
					if f.Listener != nil && f.Listener.ID() == tln.ID() {
						fail = f
						return true
					}
				}
				return false
			})
			pr.stopProbe(t)
			if fail.Op != "tls" || fail.Err == nil {
				t.Errorf("ListenerFailure = Op %q, Err %v; want Op \"tls\" and an error", fail.Op, fail.Err)
			}
			if tc.stall {
				// Not early: the clock starts at accept, after the dial
				// began. How late is not asserted (expectEOF's deadline
				// bounds the wait); the timeout error below says why.
				if took < hsTimeout {
					t.Errorf("stalled handshake dropped %v after the dial began, before the %v handshake timeout", took, hsTimeout)
				}
				var ne net.Error
				if !errors.Is(fail.Err, context.DeadlineExceeded) && !(errors.As(fail.Err, &ne) && ne.Timeout()) {
					t.Errorf("ListenerFailure.Err = %v, want a timeout", fail.Err)
				}
			}
			s.mu.Lock()
			r := s.byPort[bad.port]
			s.mu.Unlock()
			if r != nil {
				t.Errorf("the failed handshake produced a connection (%d)", r.conn.ID())
			}
			good.healthy("after")

			// A real TLS client is still served by the same listener.
			tc := tlsDial(t, s, taddr, &tls.Config{RootCAs: p.pool, ServerName: "localhost"})
			tc.healthy("tls after")
		})
	}
}

// tlsDial connects a TLS client, wrapped as a raw client.
func tlsDial(t *testing.T, s *server, addr string, cfg *tls.Config) *client {
	t.Helper()
	d := tls.Dialer{Config: cfg}
	nc, err := d.DialContext(s.ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	c := &client{t: t, name: "tls", c: nc, ctx: s.ctx, port: uint16(nc.LocalAddr().(*net.TCPAddr).Port)}
	c.r = newReader(nc)
	return c
}

// TestTLSConnector dials TLS servers whose certificates must be refused:
// expired, and signed by an untrusted CA. Each gives a ConnectorFailure of
// Op "tls" with the x509 reason; a trusted one connects.
func TestTLSConnector(t *testing.T) {
	rows := []struct {
		name  string
		cert  func(p *pki) tls.Certificate
		check func(err error) bool
	}{
		{"expired certificate", func(p *pki) tls.Certificate { return p.expired }, func(err error) bool {
			var ci x509.CertificateInvalidError
			return errors.As(err, &ci) && ci.Reason == x509.Expired
		}},
		{"untrusted certificate", func(p *pki) tls.Certificate { return p.foreign }, func(err error) bool {
			var ua x509.UnknownAuthorityError
			return errors.As(err, &ua)
		}},
		{"trusted certificate", func(p *pki) tls.Certificate { return p.valid }, nil},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			p := newPKI(t)
			s := newServer(t, ircsock.Config{}, ircsock.ListenerConfig{Idle: -1})
			good := dial(t, s.ctx, "good", s.addr())
			good.healthy("before")

			// The peer is a plain crypto/tls server, not the code under test.
			ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{tc.cert(p)}})
			if err != nil {
				t.Fatal(err)
			}
			peerDone := make(chan struct{})
			go func() {
				defer close(peerDone)
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_ = c.SetDeadline(time.Now().Add(rowTimeout))
				_ = c.(*tls.Conn).Handshake()
				_, _ = c.Write([]byte("PING :peer\r\n"))
				buf := make([]byte, 512)
				_, _ = c.Read(buf) // until the connector closes
				_ = c.Close()
			}()
			t.Cleanup(func() { _ = ln.Close(); <-peerDone })

			port := ln.Addr().(*net.TCPAddr).Port
			_, err = s.b.CreateConnector(s.ctx, ircsock.ConnectorConfig{
				Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Idle: -1,
				TLS: &tls.Config{RootCAs: p.pool},
			})
			if err != nil {
				t.Fatalf("CreateConnector: %v", err)
			}
			s.waitFor("connector result", func() bool { return len(s.cfails)+len(s.opens) > 0 })
			s.mu.Lock()
			fails, opens := append([]ircsock.ConnectorFailure(nil), s.cfails...), len(s.opens)
			s.mu.Unlock()
			if tc.check == nil {
				if opens != 1 || len(fails) != 0 {
					t.Errorf("trusted peer: ConnectorOpen %d, ConnectorFailure %v; want 1, none", opens, fails)
				}
			} else {
				if opens != 0 || len(fails) != 1 {
					t.Fatalf("ConnectorOpen %d, ConnectorFailure %d; want 0, 1", opens, len(fails))
				}
				if f := fails[0]; f.Op != "tls" || !tc.check(f.Err) {
					t.Errorf("ConnectorFailure = Op %q, Err %v; want Op \"tls\" and the x509 reason", f.Op, f.Err)
				}
			}
			good.healthy("after")
		})
	}
}
