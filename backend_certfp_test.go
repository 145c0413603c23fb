package ircsock_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
)

// opensslFingerprint asks the openssl tool for the SHA-256 fingerprint of
// cert, so the expected value does not come from the code under test.
func opensslFingerprint(t *testing.T, cert *x509.Certificate) string {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and openssl is missing: %v", err)
		}
		t.Skipf("skipped: openssl not installed: %v", err)
	}
	f := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "x509", "-in", f, "-noout", "-fingerprint", "-sha256").Output()
	if err != nil {
		t.Fatalf("openssl x509 -fingerprint: %v", err)
	}
	// "sha256 Fingerprint=AB:CD:..." (the prefix's case varies by version).
	_, fp, ok := strings.Cut(strings.TrimSpace(string(out)), "=")
	if !ok {
		t.Fatalf("openssl output %q has no fingerprint", out)
	}
	return strings.ToLower(strings.ReplaceAll(fp, ":", ""))
}

func TestConnCertFP(t *testing.T) {
	p := pki()
	clientFP := opensslFingerprint(t, p.clientX)
	serverFP := opensslFingerprint(t, p.serverX)
	cases := []struct {
		name       string
		clientCert []tls.Certificate
		want       string
	}{
		{name: "client certificate", clientCert: []tls.Certificate{p.client}, want: clientFP},
		{name: "no client certificate", want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ircsock.Config{})
			// Requested, not required: both cases must connect.
			l := h.listen(ircsock.ListenerConfig{Idle: -1, TLS: &tls.Config{
				Certificates: []tls.Certificate{p.server},
				ClientAuth:   tls.RequestClientCert,
			}})
			cconn := h.connect(ircsock.ConnectorConfig{
				Addr: l.AddrPort().String(), Idle: -1, Timeout: 10 * time.Second,
				TLS: &tls.Config{RootCAs: p.pool, Certificates: tc.clientCert},
			})
			lconn := waitEvent(h, "ListenerOpen", func(ircsock.ListenerOpen) bool { return true }).Conn
			if got := lconn.CertFP(); got != tc.want {
				t.Errorf("listener Conn.CertFP() = %q, want %q", got, tc.want)
			}
			if got := cconn.CertFP(); got != serverFP {
				t.Errorf("connector Conn.CertFP() = %q, want the server's %q", got, serverFP)
			}
		})
	}
	t.Run("plaintext", func(t *testing.T) {
		h := newHarness(t, ircsock.Config{})
		l := h.listen(ircsock.ListenerConfig{Idle: -1})
		cconn := h.connect(ircsock.ConnectorConfig{Addr: l.AddrPort().String(), Idle: -1})
		if got := cconn.CertFP(); got != "" {
			t.Errorf("plaintext Conn.CertFP() = %q, want \"\"", got)
		}
	})
}
