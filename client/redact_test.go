package client_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ircsock/ircsock/client"
)

const (
	serverSecret = "server-pass-Xq7"
	saslSecret   = "sasl-pass-Zk9"
)

// secretsIn reports which secrets out shows, in clear or in the forms a
// formatting verb could turn them into (hex, quoted, base64).
func secretsIn(out string, secrets ...string) []string {
	var found []string
	for _, s := range secrets {
		forms := []string{s, fmt.Sprintf("%x", s), fmt.Sprintf("%X", s), base64.StdEncoding.EncodeToString([]byte(s))}
		for _, f := range forms {
			if strings.Contains(out, f) {
				found = append(found, f)
			}
		}
	}
	return found
}

// testKeyPEM makes a client certificate whose private key must never be
// printed either.
func testCert(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, key.D.Bytes()
}

func TestSecretsNeverFormatted(t *testing.T) {
	cert, keyBytes := testCert(t)
	cfg := client.Config{
		Addr: "127.0.0.1:6697", Nick: "n", Password: serverSecret,
		TLS:  &tls.Config{Certificates: []tls.Certificate{cert}},
		SASL: client.SASL{Username: "acct", Password: saslSecret, Required: true},
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	type outer struct {
		Cfg  client.Config
		PCfg *client.Config
		SASL client.SASL
	}
	values := map[string]any{
		"Config":        cfg,
		"*Config":       &cfg,
		"SASL":          cfg.SASL,
		"*SASL":         &cfg.SASL,
		"*Client":       c,
		"nested struct": outer{Cfg: cfg, PCfg: &cfg, SASL: cfg.SASL},
		"*nested":       &outer{Cfg: cfg, PCfg: &cfg, SASL: cfg.SASL},
		"slice":         []client.Config{cfg},
		"map":           map[string]client.SASL{"k": cfg.SASL},
	}
	keyForms := []string{fmt.Sprint(keyBytes), fmt.Sprintf("%x", keyBytes)}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"}
	for name, v := range values {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, v)
			if found := secretsIn(out, serverSecret, saslSecret); len(found) > 0 {
				t.Errorf("Sprintf(%q, %s) shows %q:\n%s", verb, name, found, out)
			}
			for _, k := range keyForms {
				if strings.Contains(out, k) {
					t.Errorf("Sprintf(%q, %s) shows the private key:\n%s", verb, name, out)
				}
			}
		}
		for hname, mk := range map[string]func(*bytes.Buffer) slog.Handler{
			"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			slog.New(mk(&buf)).Info("cfg", slog.Any("v", v), "arg", v)
			if found := secretsIn(buf.String(), serverSecret, saslSecret); len(found) > 0 {
				t.Errorf("slog %s of %s shows %q:\n%s", hname, name, found, buf.String())
			}
		}
	}

	// The redacted output still says what it is and that a password is
	// set, and keeps what is not secret.
	for verb, want := range map[string]string{
		"%v":  "***",
		"%+v": "Password:***",
		"%#v": `client.Config{Addr:"127.0.0.1:6697"`,
	} {
		if out := fmt.Sprintf(verb, cfg); !strings.Contains(out, want) || !strings.Contains(out, "acct") {
			t.Errorf("Sprintf(%q, cfg) = %s, want it to contain %q and the username", verb, out, want)
		}
	}
	if out := fmt.Sprintf("%#v", cfg.SASL); !strings.HasPrefix(out, "client.SASL{") {
		t.Errorf("%%#v of SASL = %s", out)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "cfg", cfg)
	if !strings.Contains(buf.String(), `"addr":"127.0.0.1:6697"`) || !strings.Contains(buf.String(), `"password":"***"`) {
		t.Errorf("slog JSON of cfg = %s", buf.String())
	}
	// The caller's values are untouched.
	if cfg.Password != serverSecret || cfg.SASL.Password != saslSecret {
		t.Error("formatting changed the config")
	}
}

// A failed login with a server password and a SASL password shows
// neither in the trace, the events or Run's error.
func TestSecretsNotInTraceOrErrors(t *testing.T) {
	p := listenPeer(t)
	c := newTClient(t, "secret", client.Config{Addr: p.addr(), Nick: "sc", Password: serverSecret,
		Reconnect: client.Reconnect{Disabled: true},
		SASL:      client.SASL{Username: "acct", Password: saslSecret, Mechanisms: []string{"PLAIN"}, Required: true}}).start()
	p.accept()
	if l := p.expect("PASS "); l != "PASS "+serverSecret {
		t.Fatalf("the server got %q, want the password", l)
	}
	p.expect("CAP LS 302")
	p.expect("NICK ")
	p.expect("USER ")
	p.send(":srv CAP * LS :sasl=PLAIN")
	p.expect("CAP REQ ")
	p.send(":srv CAP sc ACK :sasl")
	p.expect("AUTHENTICATE PLAIN")
	p.send("AUTHENTICATE +")
	if got := unb64(t, p.expect("AUTHENTICATE ")); got != "\x00acct\x00"+saslSecret {
		t.Fatalf("PLAIN response %q", got)
	}
	p.send(":srv 904 sc :SASL authentication failed")
	p.expect("QUIT ")
	err := c.result()
	if !errors.Is(err, client.ErrSASLFailed) {
		t.Fatalf("Run = %v, want ErrSASLFailed", err)
	}
	plainResp := base64.StdEncoding.EncodeToString([]byte("\x00acct\x00" + saslSecret))
	check := func(what, out string) {
		if found := secretsIn(out, serverSecret, saslSecret, plainResp); len(found) > 0 {
			t.Errorf("%s shows %q:\n%s", what, found, out)
		}
	}
	check("the trace", c.traceText())
	check("Run's error", fmt.Sprintf("%v %+v %#v", err, err, err))
	c.mu.Lock()
	evs := c.events
	c.mu.Unlock()
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	for _, ev := range evs {
		check("event "+ev.Kind.String(), fmt.Sprintf("%v %+v %#v %v", ev, ev, ev, ev.Err))
	}
	check("the client", fmt.Sprintf("%v %+v %#v", c.Client, c.Client, c.Client))
}

func TestSecretsNotInJSON(t *testing.T) {
	cert, _ := testCert(t)
	cfg := client.Config{Addr: "a:1", Nick: "n", Password: serverSecret,
		TLS:  &tls.Config{ServerName: "irc.test", Certificates: []tls.Certificate{cert}},
		SASL: client.SASL{Username: "acct", Password: saslSecret}}
	for name, v := range map[string]any{"Config": cfg, "*Config": &cfg, "SASL": cfg.SASL, "[]Config": []client.Config{cfg}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("Marshal %s: %v", name, err)
		}
		if found := secretsIn(string(b), serverSecret, saslSecret); len(found) > 0 {
			t.Errorf("JSON of %s shows %q: %s", name, found, b)
		}
		if !strings.Contains(string(b), `"Username":"acct"`) || !strings.Contains(string(b), `"Password":"***"`) {
			t.Errorf("JSON of %s = %s, want the username and a redacted password", name, b)
		}
	}
}
