package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// The ircsock binary is built once per test run, into buildDir, which
// TestMain removes.
var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// ircsockBinary builds ./cmd/ircsock (with -race when the tests run with
// it) and returns its path: the tests run the real program a newcomer
// runs, not a stand-in.
func ircsockBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go command is needed to build ./cmd/ircsock: %w", err)
			return
		}
		buildDir, buildErr = os.MkdirTemp("", "ircsock-interop-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "ircsock")
		args := []string{"build", "-o", buildBin}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "github.com/ircsock/ircsock/cmd/ircsock")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, gobin, args...)
		cmd.Dir = "../.." // the module root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go %v: %v\n%s", args, err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build ircsock: %v", buildErr)
	}
	return buildBin
}

// serveProc is a running `ircsock serve` with a plain and a TLS listener
// on ephemeral 127.0.0.1 ports.
type serveProc struct {
	Addr, TLSAddr string
	// CAFile is the certificate a client must trust to reach TLSAddr.
	CAFile string
	proc   *proc
}

// startServe runs `ircsock serve` with port 0 listeners and reads the
// bound addresses from its log. With pki, the TLS listener serves the
// test certificate; without, serve generates its self-signed certificate
// in the test's directory, which is then what a client trusts.
func startServe(ctx context.Context, t testing.TB, pki *testPKI) *serveProc {
	t.Helper()
	bin := ircsockBinary(t)
	dir := t.TempDir()
	args := []string{"serve", "-listen", "127.0.0.1:0", "-tls-listen", "127.0.0.1:0", "-data", dir, "-log-level", "debug"}
	s := &serveProc{CAFile: filepath.Join(dir, "cert.pem")}
	if pki != nil {
		args = append(args, "-tls-cert", pki.CertFile, "-tls-key", pki.KeyFile)
		s.CAFile = pki.CAFile
	}
	// Registered before startProc's cleanup, so it runs after it: serve
	// must exit 0 on SIGTERM, and a race found by the -race build makes
	// it exit 66 instead.
	t.Cleanup(func() {
		if s.proc == nil {
			return
		}
		select {
		case <-s.proc.exited:
			if s.proc.err != nil {
				t.Errorf("ircsock serve exited with %v after SIGTERM, want exit status 0", s.proc.err)
			}
		default: // stop has already reported it
		}
	})
	s.proc = startProc(t, "serve", dir, nil, bin, args...)
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	go func() {
		select {
		case <-s.proc.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	for _, tls := range []bool{false, true} {
		re := regexp.MustCompile(fmt.Sprintf(`msg=listening addr=(127\.0\.0\.1:\d+) tls=%v`, tls))
		line, err := s.proc.out.wait(ctx, re)
		if err != nil {
			t.Fatalf("ircsock serve did not report its listener (tls=%v): %v (%v)", tls, err, s.proc.errExited())
		}
		addr := re.FindStringSubmatch(line)[1]
		if tls {
			s.TLSAddr = addr
		} else {
			s.Addr = addr
		}
	}
	if _, err := os.Stat(s.CAFile); err != nil {
		t.Fatalf("certificate for TLS clients: %v", err)
	}
	return s
}
