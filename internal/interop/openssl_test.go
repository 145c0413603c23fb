package interop

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// TestOpenSSLWithServe has `openssl s_client` complete a verified TLS
// handshake with `ircsock serve`'s TLS listener and register over it,
// trusting the test CA or serve's own self-signed certificate; a client
// that trusts neither must be refused.
func TestOpenSSLWithServe(t *testing.T) {
	path := needBinary(t, "openssl", "openssl")
	cases := []struct {
		name    string
		testPKI bool // serve the test CA's certificate, else serve's own
		trust   string
		want001 bool
	}{
		{name: "test CA", testPKI: true, trust: "serve", want001: true},
		{name: "serve's self-signed certificate", trust: "serve", want001: true},
		{name: "untrusted CA is refused", testPKI: true, trust: "other"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var pki *testPKI
			if tc.testPKI {
				pki = newTestPKI(t, t.TempDir())
			}
			s := startServe(ctx, t, pki)
			caFile := s.CAFile
			if tc.trust == "other" {
				caFile = newTestPKI(t, t.TempDir()).CAFile
			}
			nick := "ossl"
			cmd := procCmd(t.TempDir(), nil, path, "s_client", "-connect", s.TLSAddr, "-quiet",
				"-CAfile", caFile, "-verify_return_error", "-verify_ip", "127.0.0.1")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			p := runProc(t, "openssl", cmd)
			// openssl reads stdin only once the handshake is done; the
			// lines wait in the pipe until then.
			if _, err := fmt.Fprintf(stdin, "NICK %s\r\nUSER %s 0 * :openssl s_client\r\n", nick, nick); err != nil {
				t.Fatalf("write to openssl: %v", err)
			}
			welcome := regexp.MustCompile(`^:\S+ 001 ` + nick + ` `)
			if !tc.want001 {
				err := p.wait(ctx)
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatalf("openssl trusting another CA: exit %v, want a failed handshake (non-zero exit)", err)
				}
				if p.out.contains(" 001 " + nick) {
					t.Errorf("openssl trusting another CA registered; want no 001")
				}
				if _, err := s.proc.out.wait(ctx, regexp.MustCompile(`op=tls`)); err != nil {
					t.Errorf("serve did not log the failed handshake: %v", err)
				}
				return
			}
			if _, err := p.out.wait(ctx, welcome); err != nil {
				t.Fatalf("openssl s_client did not register: %v (%v)", err, p.errExited())
			}
			if _, err := fmt.Fprintf(stdin, "QUIT :done\r\n"); err != nil {
				t.Fatalf("write QUIT to openssl: %v", err)
			}
			// serve answers QUIT with ERROR and closes; openssl then
			// ends by itself, successfully.
			if err := p.wait(ctx); err != nil {
				t.Errorf("openssl after QUIT: %v, want exit status 0", err)
			}
			if !p.out.contains("ERROR") {
				t.Errorf("openssl output has no ERROR line after QUIT")
			}
		})
	}
}
