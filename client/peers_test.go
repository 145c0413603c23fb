package client_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The real peers of the tests: InspIRCd 3 and Atheme 7.2 from Debian,
// each test network with its own configs in t.TempDir(), its own
// loopback ports and its own processes, stopped at cleanup.

func underCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "0" && v != "false"
}

// needBinary finds a peer program, or skips the test (fails under CI).
func needBinary(t testing.TB, name, pkg string) string {
	t.Helper()
	for _, p := range []string{name, "/usr/sbin/" + name, "/usr/bin/" + name} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := fmt.Sprintf("peer %q not installed (apt-get install %s)", name, pkg)
	if underCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pick a port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// logBuf keeps a process's output for the test log on failure.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// proc is a peer process; stop ends it (SIGTERM, then SIGKILL) and waits.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *logBuf
	exited chan struct{}
}

func startProc(t testing.TB, dir, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	// InspIRCd 3.15 with ssl_gnutls may dump core on SIGTERM (harmless,
	// exit 139): the dump lands in the test's temporary directory.
	cmd.Dir = dir
	out := &logBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, out: out, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.stop(syscall.SIGTERM)
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	return p
}

func (p *proc) stop(sig syscall.Signal) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

// pki is a test CA with a server certificate for irc.test.
type pki struct {
	caPool   *x509.CertPool
	certFile string
	keyFile  string
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func makePKI(t testing.TB, dir string) *pki {
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "irc.test"},
		DNSNames:  []string{"irc.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{caPool: x509.NewCertPool(), certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem")}
	p.caPool.AddCert(ca)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.WriteFile(p.certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// clientCert makes a self-signed client certificate (SASL EXTERNAL
// identifies it by its fingerprint, not by a CA).
func clientCert(t testing.TB) tls.Certificate {
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// network is one InspIRCd with Atheme linked to it.
type network struct {
	t          testing.TB
	dir        string
	pki        *pki
	port       int // plain clients
	tlsPort    int // TLS clients (client certificates requested)
	strictPort int // plain clients in the strict flood class
	linkPort   int
	ircd       *proc
	services   *proc
}

func (n *network) addr() string    { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.port)) }
func (n *network) tlsAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.tlsPort)) }
func (n *network) strictAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.strictPort))
}

// The strict connect class of the flood tests: InspIRCd kills a client
// for "Excess Flood" once its command penalty passes threshold.
const strictClass = `threshold="10" commandrate="10000" fakelag="no"`

const inspircdConf = `<define name="dir" value="%[1]s">
<server name="irc.test" description="client tests" id="1CT" network="ClientTest">
<admin name="test" nick="test" email="test@irc.test">
<bind address="127.0.0.1" port="%[2]d" type="clients">
<bind address="127.0.0.1" port="%[3]d" type="clients" sslprofile="tls">
<bind address="127.0.0.1" port="%[4]d" type="clients">
<bind address="127.0.0.1" port="%[5]d" type="servers">
<dns enabled="no">
<connect name="strict" port="%[4]d" allow="*" resolvehostnames="no" useident="no" timeout="20" pingfreq="120" localmax="1000" globalmax="1000" maxconnwarn="off" limit="5000" %[6]s>
<connect name="main" allow="*" resolvehostnames="no" useident="no" timeout="20" pingfreq="120" localmax="1000" globalmax="1000" maxconnwarn="off" limit="5000" threshold="1000" commandrate="1000000" fakelag="no" recvq="65536" sendq="1048576">
<pid file="&dir;/inspircd.pid">
<files motd="&dir;/motd.txt">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="&dir;/inspircd.log">
<module name="ssl_gnutls">
<sslprofile name="tls" provider="gnutls" certfile="%[7]s" keyfile="%[8]s" hash="sha256" requestclientcert="yes">
<module name="sslinfo">
<module name="spanningtree">
<module name="services_account">
<module name="sasl">
<sasl target="services.test" requiressl="no">
<module name="cap">
<module name="ircv3">
<module name="ircv3_capnotify">
<module name="ircv3_accounttag">
<module name="ircv3_batch">
<module name="ircv3_servertime">
<module name="ircv3_echomessage">
<module name="ircv3_labeledresponse">
<module name="ircv3_chghost">
<module name="chghost">
<module name="setname">
<module name="namesx">
<module name="uhnames">
<module name="deaf">
<link name="services.test" ipaddr="127.0.0.1" port="%[5]d" allowmask="127.0.0.0/8" sendpass="linkpass" recvpass="linkpass">
<uline server="services.test" silent="yes">
<security runasroot="yes">
`

const athemeConf = `loadmodule "modules/protocol/inspircd";
loadmodule "modules/backend/opensex";
loadmodule "modules/crypto/pbkdf2v2";
loadmodule "modules/nickserv/main";
loadmodule "modules/nickserv/register";
loadmodule "modules/nickserv/identify";
loadmodule "modules/nickserv/cert";
loadmodule "modules/nickserv/info";
loadmodule "modules/saslserv/main";
loadmodule "modules/saslserv/plain";
loadmodule "modules/saslserv/external";
serverinfo {
	name = "services.test"; desc = "Atheme"; numeric = "42S"; recontime = 1;
	netname = "ClientTest"; hidehostsuffix = "users.test";
	adminname = "test"; adminemail = "test@irc.test"; registeremail = "noreply@irc.test";
	loglevel = { error; info; admin; network; };
	maxlogins = 50; maxusers = 50; mdlimit = 30; emaillimit = 10; emailtime = 300;
	auth = none; casemapping = rfc1459;
};
uplink "irc.test" { host = "127.0.0.1"; port = %[1]d; send_password = "linkpass"; receive_password = "linkpass"; };
nickserv { nick = "NickServ"; user = "NickServ"; host = "services.test"; real = "Nickname Services"; maxnicks = 5; expire = 30; };
saslserv { nick = "SaslServ"; user = "SaslServ"; host = "services.test"; real = "SASL"; };
general {
	flood_msgs = 1000; flood_time = 10; ratelimit_uses = 1000; ratelimit_period = 60;
	kline_time = 7; commit_interval = 5; default_clone_allowed = 1000; default_clone_warn = 1000;
	uplink_sendq_limit = 1048576; language = "en";
};
pbkdf2v2 { };
`

// startNetwork writes the configs and starts InspIRCd, then Atheme
// unless withoutServices; it returns once CAP LS offers sasl (or, without
// services, once the server answers CAP LS).
func startNetwork(t *testing.T, withoutServices bool) *network {
	t.Helper()
	needBinary(t, "inspircd", "inspircd")
	needBinary(t, "atheme-services", "atheme-services")
	dir := t.TempDir()
	n := &network{t: t, dir: dir, pki: makePKI(t, dir)}
	if err := os.WriteFile(filepath.Join(dir, "motd.txt"), []byte("client tests\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	var err error
	for try := 0; try < 3; try++ {
		n.port, n.tlsPort, n.strictPort, n.linkPort = freePort(t), freePort(t), freePort(t), freePort(t)
		conf := fmt.Sprintf(inspircdConf, dir, n.port, n.tlsPort, n.strictPort, n.linkPort, strictClass, n.pki.certFile, n.pki.keyFile)
		if err = os.WriteFile(filepath.Join(dir, "inspircd.conf"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		if err = os.WriteFile(filepath.Join(dir, "atheme.conf"), []byte(fmt.Sprintf(athemeConf, n.linkPort)), 0o644); err != nil {
			t.Fatal(err)
		}
		n.startIRCd()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		_, err = n.capLS(ctx, n.ircd.exited)
		cancel()
		if err == nil {
			break
		}
		n.ircd.stop(syscall.SIGKILL) // a port was taken meanwhile: try others
	}
	if err != nil {
		t.Fatalf("InspIRCd never answered CAP LS: %v", err)
	}
	if !withoutServices {
		n.startServices()
		n.waitSASL(30 * time.Second)
	}
	return n
}

func (n *network) startIRCd() {
	n.ircd = startProc(n.t, n.dir, "inspircd", needBinary(n.t, "inspircd", "inspircd"),
		"--nofork", "--runasroot", "--config", filepath.Join(n.dir, "inspircd.conf"))
}

// restartIRCd starts InspIRCd again on the same ports and waits for
// services to relink.
func (n *network) restartIRCd() {
	n.startIRCd()
	n.waitSASL(30 * time.Second)
}

func (n *network) startServices() {
	d := n.dir
	n.services = startProc(n.t, n.dir, "atheme", needBinary(n.t, "atheme-services", "atheme-services"),
		"-n", "-c", filepath.Join(d, "atheme.conf"), "-D", filepath.Join(d, "data"),
		"-l", filepath.Join(d, "atheme.log"), "-p", filepath.Join(d, "atheme.pid"))
}

// waitSASL polls CAP LS until it offers sasl with a mechanism list: the
// sign that Atheme has linked and burst.
func (n *network) waitSASL(d time.Duration) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		caps, err := n.capLS(ctx, nil)
		if err == nil && strings.Contains(caps, "sasl=") {
			return
		}
		select {
		case <-ctx.Done():
			n.t.Fatalf("sasl never offered: last CAP LS %q, %v", caps, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// capLS connects, asks CAP LS 302 and returns the capability list.
func (n *network) capLS(ctx context.Context, exited <-chan struct{}) (string, error) {
	for {
		caps, err := n.capLSOnce(ctx)
		if err == nil {
			return caps, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-exited:
			return "", fmt.Errorf("InspIRCd exited: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (n *network) capLSOnce(ctx context.Context) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", n.addr())
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprint(conn, "CAP LS 302\r\n")
	r := bufio.NewReader(conn)
	var caps []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		f := strings.Fields(line)
		if len(f) >= 4 && f[1] == "CAP" && f[3] == "LS" {
			i := strings.Index(line[1:], " :")
			caps = append(caps, strings.TrimSpace(line[i+3:]))
			if f[4] != "*" {
				fmt.Fprint(conn, "QUIT\r\n")
				return strings.Join(caps, " "), nil
			}
		}
	}
}
