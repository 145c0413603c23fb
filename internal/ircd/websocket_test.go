package ircd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// TestServeSecureWebSocket connects to serve's wss:// listener with a
// client certificate: the connection counts as secure (WHOIS 671) and its
// certificate is seen under the WebSocket.
func TestServeSecureWebSocket(t *testing.T) {
	cert, _, err := LoadOrCreateCert(filepath.Join(t.TempDir(), "server"))
	if err != nil {
		t.Fatalf("LoadOrCreateCert: %v", err)
	}
	clientCert, _, err := LoadOrCreateCert(filepath.Join(t.TempDir(), "client"), "client.example")
	if err != nil {
		t.Fatalf("LoadOrCreateCert (client): %v", err)
	}
	srv := startServer(t, Config{
		Listen:             "none",
		WebSocketTLSListen: "127.0.0.1:0",
		WebSocketPath:      "/webirc",
		TLS:                &tls.Config{Certificates: []tls.Certificate{cert}},
	})
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	asked := make(chan struct{}, 1)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost",
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			asked <- struct{}{}
			return &clientCert, nil
		}}}
	t.Cleanup(tr.CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "wss://"+srv.WebSocketTLSAddr().String()+"/webirc", &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: tr}, Subprotocols: []string{"binary.ircv3.net"}})
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	defer ws.CloseNow()
	select {
	case <-asked:
	default:
		t.Errorf("the wss listener did not request a client certificate")
	}
	for _, line := range []string{"NICK sec", "USER s 0 * :Secure", "WHOIS sec"} {
		if err := ws.Write(ctx, websocket.MessageBinary, []byte(line)); err != nil {
			t.Fatalf("write %q: %v", line, err)
		}
	}
	var seen []string
	for {
		typ, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for 671: %v; saw %q", err, seen)
		}
		if typ != websocket.MessageBinary {
			t.Fatalf("got a %v message, want binary", typ)
		}
		seen = append(seen, string(b))
		if strings.Contains(string(b), " 671 sec sec ") {
			return
		}
		if strings.Contains(string(b), " 318 ") {
			t.Fatalf("WHOIS ended without 671; saw %q", seen)
		}
	}
}
