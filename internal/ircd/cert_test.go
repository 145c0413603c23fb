package ircd

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateCert(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, fp1, err := LoadOrCreateCert(dir, "irc.example.test")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	leaf, err := x509.ParseCertificate(first.Certificate[0])
	if err != nil {
		t.Fatalf("parse generated certificate: %v", err)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "irc.example.test"} {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("VerifyHostname(%q) = %v, want nil", host, err)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, KeyFileName)); err != nil {
		t.Errorf("stat key: %v", err)
	} else if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %v, want 0600", perm)
	}
	_, fp2, err := LoadOrCreateCert(dir)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if fp1 != fp2 {
		t.Errorf("second load fingerprint %s, want the stored %s", fp2, fp1)
	}
	if len(fp1) != 32*3-1 {
		t.Errorf("fingerprint %q has length %d, want %d", fp1, len(fp1), 32*3-1)
	}
}

func TestLoadOrCreateCertCorrupt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, CertFileName), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, KeyFileName), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateCert(dir); err == nil {
		t.Errorf("LoadOrCreateCert over corrupt files = nil error, want one (never overwrite a user's files)")
	}
}
