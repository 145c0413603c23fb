package ircd

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"net"
	"path/filepath"
	"slices"
	"testing"
)

// TestServeEmptyLine: RFC 1459 §2.3.1 has empty messages ignored, so the
// first reply after blank lines is the PONG.
func TestServeEmptyLine(t *testing.T) {
	srv := startServer(t, Config{})
	c := dialPlain(t, srv, "c")
	c.register("c")
	c.send("", "   ", "PING :after")
	m, line, err := c.next()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if m.Command != "PONG" {
		t.Errorf("first reply after blank lines = %q, want the PONG", line)
	}
}

// TestServeClientCertFP: a TLS client presenting a certificate sees its
// SHA-256 fingerprint in its own WHOIS (276); one without a certificate
// is still served.
func TestServeClientCertFP(t *testing.T) {
	dir := t.TempDir()
	cert, _, err := LoadOrCreateCert(filepath.Join(dir, "server"))
	if err != nil {
		t.Fatalf("server cert: %v", err)
	}
	clientCert, _, err := LoadOrCreateCert(filepath.Join(dir, "client"))
	if err != nil {
		t.Fatalf("client cert: %v", err)
	}
	srv := startServer(t, Config{
		Listen:    "none",
		TLSListen: "127.0.0.1:0",
		TLS:       &tls.Config{Certificates: []tls.Certificate{cert}},
	})
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	dial := func(certs []tls.Certificate) net.Conn {
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: testTimeout},
			Config: &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: certs}}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		conn, err := d.DialContext(ctx, "tcp", srv.TLSAddr().String())
		if err != nil {
			t.Fatalf("TLS dial: %v", err)
		}
		return conn
	}
	sum := sha256.Sum256(clientCert.Certificate[0])
	want := hex.EncodeToString(sum[:])
	c := newTClient(t, dial([]tls.Certificate{clientCert}), "withcert")
	c.register("withcert")
	c.send("WHOIS withcert")
	c.waitFor("276", "has client certificate fingerprint "+want)
	c.waitFor("318")

	n := newTClient(t, dial(nil), "nocert")
	n.register("nocert")
	n.send("WHOIS nocert", "WHOIS withcert")
	var seen []string
	for range 2 {
		for {
			m, line, err := n.next()
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			seen = append(seen, line)
			if m.Command == "318" {
				break
			}
		}
	}
	if slices.Contains(commandsOf(seen), "276") {
		t.Errorf("a client without a certificate, or a stranger, got a 276: %q", seen)
	}
}
