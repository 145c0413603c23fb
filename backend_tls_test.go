package ircsock_test

// TLS both ways with certificates generated in the test: listeners and
// connectors of the Backend, server and client certificates, SNI,
// verification on, and handshake failures reported as events.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
)

// writePEM writes the server certificate and key to files for
// ListenerConfig.CertFile/KeyFile.
func writePEM(t *testing.T, c tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestBackendTLS(t *testing.T) {
	p := pki()
	cases := []struct {
		name string
		cfg  ircsock.Config
		// listener returns the listener's config; sni receives the server
		// name the client asked for, when the case checks it.
		listener  func(t *testing.T, sni chan<- string) ircsock.ListenerConfig
		connector ircsock.ConnectorConfig
		wantSNI   string
		clientCrt bool // the listener requires and gets a client certificate
	}{
		{
			name: "tls.Config, server auth by IP",
			listener: func(t *testing.T, _ chan<- string) ircsock.ListenerConfig {
				return ircsock.ListenerConfig{TLS: &tls.Config{Certificates: []tls.Certificate{p.server}}}
			},
			connector: ircsock.ConnectorConfig{Addr: "127.0.0.1", TLS: &tls.Config{RootCAs: p.pool}},
		},
		{
			name: "SNI localhost",
			listener: func(t *testing.T, sni chan<- string) ircsock.ListenerConfig {
				return ircsock.ListenerConfig{TLS: &tls.Config{
					GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
						select {
						case sni <- hello.ServerName:
						default:
						}
						return &p.server, nil
					},
				}}
			},
			connector: ircsock.ConnectorConfig{Addr: "localhost", TLS: &tls.Config{RootCAs: p.pool}},
			wantSNI:   "localhost",
		},
		{
			name: "client certificate required",
			listener: func(t *testing.T, _ chan<- string) ircsock.ListenerConfig {
				return ircsock.ListenerConfig{TLS: &tls.Config{
					Certificates: []tls.Certificate{p.server},
					ClientAuth:   tls.RequireAndVerifyClientCert,
					ClientCAs:    p.pool,
				}}
			},
			connector: ircsock.ConnectorConfig{Addr: "127.0.0.1", TLS: &tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.client}}},
			clientCrt: true,
		},
		{
			name: "UseTLS with Config.TLS",
			cfg:  ircsock.Config{TLS: &tls.Config{Certificates: []tls.Certificate{p.server}}},
			listener: func(t *testing.T, _ chan<- string) ircsock.ListenerConfig {
				return ircsock.ListenerConfig{UseTLS: true}
			},
			connector: ircsock.ConnectorConfig{Addr: "127.0.0.1", TLS: &tls.Config{RootCAs: p.pool}},
		},
		{
			name: "CertFile and KeyFile",
			listener: func(t *testing.T, _ chan<- string) ircsock.ListenerConfig {
				cf, kf := writePEM(t, p.server)
				return ircsock.ListenerConfig{CertFile: cf, KeyFile: kf}
			},
			connector: ircsock.ConnectorConfig{Addr: "127.0.0.1", TLS: &tls.Config{RootCAs: p.pool}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.cfg)
			sni := make(chan string, 1)
			lc := tc.listener(t, sni)
			lc.Idle = -1
			l := h.listen(lc)
			if !l.TLS() {
				t.Errorf("Listener.TLS() = false, want true")
			}
			cc := tc.connector
			cc.Addr = net.JoinHostPort(cc.Addr, strconv.Itoa(l.Port())) // the case names the host
			cc.Idle = -1
			cconn := h.connect(cc)
			lconn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn

			cs, ls := cconn.TLS(), lconn.TLS()
			if cs == nil || ls == nil {
				t.Fatalf("Conn.TLS() = %v (connector), %v (listener), want both non-nil", cs, ls)
			}
			for _, side := range []struct {
				name string
				st   *tls.ConnectionState
			}{{"connector", cs}, {"listener", ls}} {
				if !side.st.HandshakeComplete {
					t.Errorf("%s TLS: HandshakeComplete = false", side.name)
				}
				if side.st.Version < tls.VersionTLS12 {
					t.Errorf("%s TLS version = %s, want TLS 1.2 or later", side.name, tls.VersionName(side.st.Version))
				}
				if side.st.CipherSuite == 0 || tls.CipherSuiteName(side.st.CipherSuite) == "" {
					t.Errorf("%s TLS cipher suite = %#04x, want a negotiated suite", side.name, side.st.CipherSuite)
				}
			}
			if cs.Version != ls.Version || cs.CipherSuite != ls.CipherSuite {
				t.Errorf("connector (%s, %s) and listener (%s, %s) disagree", tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite), tls.VersionName(ls.Version), tls.CipherSuiteName(ls.CipherSuite))
			}
			if len(cs.PeerCertificates) == 0 || !cs.PeerCertificates[0].Equal(p.serverX) {
				t.Errorf("connector PeerCertificates = %d certs, want the server leaf first", len(cs.PeerCertificates))
			}
			if len(cs.VerifiedChains) == 0 {
				t.Errorf("connector VerifiedChains is empty: verification must be on by default")
			}
			if tc.clientCrt {
				if len(ls.PeerCertificates) == 0 || !ls.PeerCertificates[0].Equal(p.clientX) {
					t.Errorf("listener PeerCertificates = %d certs, want the client leaf first", len(ls.PeerCertificates))
				}
			} else if len(ls.PeerCertificates) != 0 {
				t.Errorf("listener PeerCertificates = %d certs, want none", len(ls.PeerCertificates))
			}
			if tc.wantSNI != "" {
				select {
				case got := <-sni:
					if got != tc.wantSNI {
						t.Errorf("SNI = %q, want %q", got, tc.wantSNI)
					}
				default:
					t.Errorf("the listener saw no ClientHello with SNI")
				}
				if ls.ServerName != tc.wantSNI {
					t.Errorf("listener ConnectionState.ServerName = %q, want %q", ls.ServerName, tc.wantSNI)
				}
			}

			// Messages both ways over TLS.
			h.send(msg("PING", "to-listener"), cconn.ID())
			h.send(msg("PONG", "to-connector"), lconn.ID())
			if m := h.inputs(lconn.ID(), 1)[0]; m.Command != "PING" || m.Params[0] != "to-listener" {
				t.Errorf("listener input = %s %q, want PING [to-listener]", m.Command, m.Params)
			}
			if m := h.inputs(cconn.ID(), 1)[0]; m.Command != "PONG" || m.Params[0] != "to-connector" {
				t.Errorf("connector input = %s %q, want PONG [to-connector]", m.Command, m.Params)
			}
			h.shutdown()
		})
	}
}

// TestBackendTLSRawPeers drives the Backend's TLS with plain crypto/tls
// peers, so that each side is checked against an independent one.
func TestBackendTLSRawPeers(t *testing.T) {
	p := pki()
	t.Run("listener with a crypto/tls client", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		l := h.listen(ircsock.ListenerConfig{Idle: -1, TLS: &tls.Config{Certificates: []tls.Certificate{p.server}}})
		d := tls.Dialer{Config: &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"}}
		raw, err := d.DialContext(h.ctx, "tcp", listenAddr(l))
		if err != nil {
			t.Fatalf("tls dial: %v", err)
		}
		c := wrapRaw(t, h, raw)
		conn := h.accepted(c)
		c.writeLines(t, "NICK tls-client")
		if m := h.inputs(conn.ID(), 1)[0]; m.Command != "NICK" || m.Params[0] != "tls-client" {
			t.Errorf("input = %s %q, want NICK [tls-client]", m.Command, m.Params)
		}
		h.send(msg("NOTICE", "tls-client", "hi"), conn.ID())
		if line, err := c.readLine(); err != nil || line != "NOTICE tls-client hi" {
			t.Errorf("client read = %q, %v, want %q", line, err, "NOTICE tls-client hi")
		}
		h.shutdown()
	})
	t.Run("connector with a crypto/tls server", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{p.server}})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		acc := acceptOne(t, h, ln)
		conn := h.connect(ircsock.ConnectorConfig{Addr: ln.Addr().String(), Idle: -1, TLS: &tls.Config{RootCAs: p.pool}})
		srv := wrapRaw(t, h, <-acc)
		srv.writeLines(t, ":server 001 me :Welcome")
		if m := h.inputs(conn.ID(), 1)[0]; m.Command != "001" || m.Source != "server" {
			t.Errorf("input = %q %s, want server 001", m.Source, m.Command)
		}
		h.send(msg("USER", "u", "0", "*", "real name"), conn.ID())
		if line, err := srv.readLine(); err != nil || line != "USER u 0 * :real name" {
			t.Errorf("server read = %q, %v, want %q", line, err, "USER u 0 * :real name")
		}
		h.shutdown()
	})
}

// acceptOne accepts one connection from ln in the background.
func acceptOne(t *testing.T, h *harness, ln net.Listener) <-chan net.Conn {
	t.Helper()
	ch := make(chan net.Conn, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			close(ch)
			return
		}
		// A crypto/tls server handshakes lazily; the Backend's connector
		// reports ConnectorOpen only after the handshake, so run it here.
		if tc, ok := c.(*tls.Conn); ok {
			ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
			err := tc.HandshakeContext(ctx)
			cancel()
			if err != nil {
				t.Errorf("raw TLS server handshake: %v", err)
			}
		}
		ch <- c
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ch
}

func TestBackendTLSFailures(t *testing.T) {
	p := pki()
	t.Run("connector does not trust the CA", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		l := h.listen(ircsock.ListenerConfig{Idle: -1, TLS: &tls.Config{Certificates: []tls.Certificate{p.server}}})
		_, err := h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: l.AddrPort().String(), TLS: &tls.Config{RootCAs: p.other}})
		if err != nil {
			t.Fatalf("CreateConnector = %v, want nil (the failure is an event)", err)
		}
		ev := waitEvent(h, "ConnectorFailure", func(ircsock.ConnectorFailure) bool { return true })
		if ev.Op != "tls" {
			t.Errorf("ConnectorFailure.Op = %q, want %q", ev.Op, "tls")
		}
		var verr *tls.CertificateVerificationError
		if !errors.As(ev.Err, &verr) {
			t.Errorf("ConnectorFailure.Err = %v, want a *tls.CertificateVerificationError", ev.Err)
		}
		if n := len(eventsOf[ircsock.ConnectorOpen](h, nil)); n != 0 {
			t.Errorf("%d ConnectorOpen events, want 0 for a failed handshake", n)
		}
		h.shutdown()
	})
	t.Run("connector handshake timeout", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		// A plaintext server that accepts and says nothing: the client's
		// handshake can only time out.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		acc := acceptOne(t, h, ln)
		const timeout = 300 * time.Millisecond
		start := time.Now()
		_, err = h.b.CreateConnector(h.ctx, ircsock.ConnectorConfig{Addr: ln.Addr().String(), Timeout: timeout, TLS: &tls.Config{RootCAs: p.pool}})
		if err != nil {
			t.Fatalf("CreateConnector = %v, want nil", err)
		}
		ev := waitEvent(h, "ConnectorFailure", func(ircsock.ConnectorFailure) bool { return true })
		if c, ok := <-acc; ok {
			c.Close()
		}
		if ev.Op != "tls" {
			t.Errorf("ConnectorFailure.Op = %q, want %q", ev.Op, "tls")
		}
		if took := time.Since(start); took < timeout || took > 10*time.Second {
			t.Errorf("handshake failed after %v, want after the %v timeout", took, timeout)
		}
		h.shutdown()
	})
	t.Run("plaintext client to a TLS listener", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		l := h.listen(ircsock.ListenerConfig{Idle: -1, TLS: &tls.Config{Certificates: []tls.Certificate{p.server}}})
		c := dialRaw(t, h, listenAddr(l))
		c.writeLines(t, "NICK plain", "USER plain 0 * :plain")
		ev := waitEvent(h, "ListenerFailure", func(ircsock.ListenerFailure) bool { return true })
		if ev.Op != "tls" {
			t.Errorf("ListenerFailure.Op = %q, want %q", ev.Op, "tls")
		}
		if ev.Listener == nil || ev.Listener.ID() != l.ID() {
			t.Errorf("ListenerFailure.Listener = %v, want listener %d", ev.Listener, l.ID())
		}
		if ev.Err == nil {
			t.Errorf("ListenerFailure.Err = nil, want the handshake error")
		}
		// The client is dropped, and nothing it sent became input.
		if _, err := c.readLine(); err == nil {
			t.Errorf("plaintext client read a line from a TLS listener, want EOF or reset")
		}
		if n := len(eventsOf[ircsock.Input](h, nil)); n != 0 {
			t.Errorf("%d Input events from a plaintext client, want 0", n)
		}
		// A failed handshake does not stop the listener: a TLS client
		// still gets in.
		conn := h.connect(ircsock.ConnectorConfig{Addr: l.AddrPort().String(), Idle: -1, TLS: &tls.Config{RootCAs: p.pool}})
		if conn.TLS() == nil {
			t.Errorf("connector Conn.TLS() = nil after a TLS connect")
		}
		if n := len(eventsOf(h, func(e ircsock.ListenerOpen) bool { return e.Conn.Peer() == addrPort(c.LocalAddr()) })); n != 0 {
			t.Errorf("ListenerOpen for the plaintext client: want none (the handshake failed)")
		}
		h.shutdown()
	})
	t.Run("listener handshake timeout", func(t *testing.T) {
		const timeout = 200 * time.Millisecond
		h := newHarness(t, ircsock.Config{HandshakeTimeout: timeout})
		l := h.listen(ircsock.ListenerConfig{Idle: -1, TLS: &tls.Config{Certificates: []tls.Certificate{p.server}}})
		start := time.Now()
		c := dialRaw(t, h, listenAddr(l)) // says nothing
		ev := waitEvent(h, "ListenerFailure", func(ircsock.ListenerFailure) bool { return true })
		if ev.Op != "tls" {
			t.Errorf("ListenerFailure.Op = %q, want %q", ev.Op, "tls")
		}
		if _, err := c.readLine(); err == nil || !isClosedErr(err) {
			t.Errorf("silent client read: err = %v, want EOF or reset after the handshake timeout", err)
		}
		if took := time.Since(start); took < timeout {
			t.Errorf("dropped after %v, want after the %v handshake timeout", took, timeout)
		}
		h.shutdown()
	})
}
