package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Names and passwords of the test network. ngircd reads a [Server] block's
// MyPassword as the password it expects to receive from that peer and
// PeerPassword as the one it sends (the reverse of what the sample
// configuration's comments suggest; established by running ngircd 26.1).
const (
	ngircdName   = "ngircd.test"
	ourName      = "ircsock.test"
	passToNgircd = "pw-to-ngircd"   // what we send in PASS
	passToUs     = "pw-from-ngircd" // what ngircd sends in PASS
	operName     = "tester"
	operPass     = "operpw"
)

// ngircdOpts is what a test decides about its ngircd instance.
type ngircdOpts struct {
	// LinkPort is where ngircd dials our server on CONNECT; zero means
	// it never dials.
	LinkPort int
	// LinkTLS makes ngircd require TLS on the link with us, both when we
	// dial its TLS port and when it dials us (verifying our certificate
	// against the test CA).
	LinkTLS bool
	// PKI is the certificate authority and server certificate; nil
	// means a new one in the test's directory.
	PKI *testPKI
}

// ngircd is a running ngircd 26.1 with a plain and a TLS client port.
type ngircd struct {
	Port, SSLPort int
	PKI           *testPKI
	proc          *proc
}

// startNgircd writes a configuration on loopback ports and starts ngircd in
// the foreground, retrying with new ports when one was taken between
// picking and binding it.
func startNgircd(ctx context.Context, t testing.TB, opts ngircdOpts) *ngircd {
	t.Helper()
	path := needBinary(t, "ngircd", "ngircd")
	dir := t.TempDir()
	// ngircd switches from root to "nobody" after reading its files; the
	// directory must stay traversable for it to find nothing it needs
	// later, and t.TempDir is 0700.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pki := opts.PKI
	if pki == nil {
		pki = newTestPKI(t, dir)
	}
	if err := os.Mkdir(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeDHParams(t, filepath.Join(dir, "dh.pem"))
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		n := &ngircd{Port: freePort(t), SSLPort: freePort(t), PKI: pki}
		conf := filepath.Join(dir, fmt.Sprintf("ngircd-%d.conf", attempt))
		if err := os.WriteFile(conf, []byte(n.config(dir, opts)), 0o644); err != nil {
			t.Fatal(err)
		}
		n.proc = startProc(t, fmt.Sprintf("ngircd[%d]", attempt), dir, nil, path, "-n", "-f", conf)
		lastErr = n.ready(ctx)
		if lastErr == nil {
			return n
		}
		n.proc.stop(t)
		if !n.proc.out.contains("Can't bind") {
			break
		}
		t.Logf("ngircd could not bind (attempt %d), retrying on new ports: %v", attempt, lastErr)
	}
	t.Fatalf("ngircd did not start: %v", lastErr)
	return nil
}

// ready waits for ngircd to report both listeners and the server ready,
// then for its plain port to accept. A port taken meanwhile ("Can't bind",
// after which ngircd may go on without it) or an exit ends the wait at
// once.
func (n *ngircd) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var bindErr string
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(2)
	go func() {
		defer wg.Done()
		select {
		case <-n.proc.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	go func() {
		defer wg.Done()
		if line, err := n.proc.out.wait(ctx, regexp.MustCompile(`Can't bind`)); err == nil {
			bindErr = line
			cancel()
		}
	}()
	for _, re := range []string{
		fmt.Sprintf(`Now listening on \[127\.0\.0\.1\]:%d\b`, n.Port),
		fmt.Sprintf(`Now listening on \[127\.0\.0\.1\]:%d\b`, n.SSLPort),
		`Server "` + regexp.QuoteMeta(ngircdName) + `" .* ready`,
	} {
		if _, err := n.proc.out.wait(ctx, regexp.MustCompile(re)); err != nil {
			cancel()
			wg.Wait()
			if bindErr != "" {
				return fmt.Errorf("ngircd: %s", bindErr)
			}
			return fmt.Errorf("%w (%v)", err, n.proc.errExited())
		}
	}
	return waitDial(ctx, hostPort(n.Port), n.proc.exited)
}

// config is the ngircd.conf text: loopback only, no DNS, ident or PAM
// lookups (they would wait on the network), one operator for CONNECT and
// one [Server] block for us.
func (n *ngircd) config(dir string, opts ngircdOpts) string {
	var b strings.Builder
	yes := func(v bool) string {
		if v {
			return "yes"
		}
		return "no"
	}
	fmt.Fprintf(&b, `[Global]
	Name = %s
	Info = ircsock interop test
	AdminInfo1 = ircsock interop test
	AdminInfo2 = loopback only
	AdminEMail = nobody@invalid
	Listen = 127.0.0.1
	Ports = %d
	MotdPhrase = "ircsock interop test"
[Limits]
	ConnectRetry = 5
	MaxConnectionsIP = 0
	PingTimeout = 120
	PongTimeout = 20
[Options]
	DNS = no
	Ident = no
	PAM = no
	IncludeDir = %s
	AllowRemoteOper = no
[SSL]
	CertFile = %s
	KeyFile = %s
	CAFile = %s
	DHFile = %s
	Ports = %d
[Operator]
	Name = %s
	Password = %s
[Server]
	Name = %s
	Host = 127.0.0.1
	MyPassword = %s
	PeerPassword = %s
	Passive = yes
	SSLConnect = %s
	SSLVerify = yes
`, ngircdName, n.Port, filepath.Join(dir, "conf.d"),
		n.PKI.CertFile, n.PKI.KeyFile, n.PKI.CAFile, filepath.Join(dir, "dh.pem"), n.SSLPort,
		operName, operPass,
		ourName, passToNgircd, passToUs, yes(opts.LinkTLS))
	if opts.LinkPort != 0 {
		fmt.Fprintf(&b, "\tPort = %d\n", opts.LinkPort)
	}
	return b.String()
}
