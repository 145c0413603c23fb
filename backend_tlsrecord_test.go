package ircsock_test

import (
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/ircsock/ircsock"
)

// captureConn keeps a copy of every byte read from the TCP connection
// under a *tls.Conn, so the test can read the TLS record headers the
// Backend sent.
type captureConn struct {
	net.Conn
	mu   sync.Mutex
	got  []byte
	from int // records that start before this offset are not counted
}

// mark leaves out of the count every record read so far: the handshake's.
func (c *captureConn) mark() {
	c.mu.Lock()
	c.from = len(c.got)
	c.mu.Unlock()
}

func (c *captureConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.got = append(c.got, p[:n]...)
	c.mu.Unlock()
	return n, err
}

// largestRecord walks the TLS records in what c read and returns the
// largest length (payload, header excluded) among those that started at
// or after the mark, and how many those were.
func (c *captureConn) largestRecord(t *testing.T) (largest, records int) {
	t.Helper()
	c.mu.Lock()
	b, from := c.got, c.from
	c.mu.Unlock()
	for off := 0; off+5 <= len(b); {
		n := int(b[off+3])<<8 | int(b[off+4])
		if off+5+n > len(b) {
			break // a record still arriving: not counted
		}
		if off >= from {
			largest = max(largest, n)
			records++
		}
		off += 5 + n
	}
	return largest, records
}

// TestBackendMaxTLSRecord: ListenerConfig.MaxTLSRecord and
// ConnectorConfig.MaxTLSRecord bound the plaintext of every TLS record the
// Backend sends on that connection; with the zero value a burst of lines
// leaves in records far bigger (dynamic record sizing is turned off on the
// Backend's side, so that only the cap keeps records small).
func TestBackendMaxTLSRecord(t *testing.T) {
	p := pki()
	// RFC 8446 allows a record at most 256 bytes more than its plaintext.
	const limit, overhead = 1024, 256
	for _, side := range []string{"listener", "connector"} {
		for _, maxRec := range []int{limit, 0} {
			name := side + "/capped"
			if maxRec == 0 {
				name = side + "/zero"
			}
			t.Run(name, func(t *testing.T) {
				h := newHarness(t, ircsock.Config{})
				serverTLS := &tls.Config{Certificates: []tls.Certificate{p.server}, DynamicRecordSizingDisabled: true}
				var conn *ircsock.Conn
				var capt *captureConn
				var peer *rawConn
				if side == "listener" {
					l := h.listen(ircsock.ListenerConfig{Idle: -1, TLS: serverTLS, MaxTLSRecord: maxRec})
					var d net.Dialer
					raw, err := d.DialContext(h.ctx, "tcp", listenAddr(l))
					if err != nil {
						t.Fatalf("dial: %v", err)
					}
					capt = &captureConn{Conn: raw}
					tc := tls.Client(capt, &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"})
					if err := tc.HandshakeContext(h.ctx); err != nil {
						t.Fatalf("client handshake: %v", err)
					}
					capt.mark()
					peer = wrapRaw(t, h, tc)
					// The raw side's local address is what the Backend
					// sees as the peer.
					conn = h.accepted(raw)
				} else {
					ln, err := net.Listen("tcp", "127.0.0.1:0")
					if err != nil {
						t.Fatal(err)
					}
					defer ln.Close()
					acc := make(chan *tls.Conn, 1)
					go func() {
						raw, err := ln.Accept()
						if err != nil {
							close(acc)
							return
						}
						capt = &captureConn{Conn: raw}
						tc := tls.Server(capt, &tls.Config{Certificates: []tls.Certificate{p.server}})
						if err := tc.HandshakeContext(h.ctx); err != nil {
							t.Errorf("server handshake: %v", err)
						}
						capt.mark()
						acc <- tc
					}()
					conn = h.connect(ircsock.ConnectorConfig{Addr: ln.Addr().String(), Idle: -1, MaxTLSRecord: maxRec,
						TLS: &tls.Config{RootCAs: p.pool, DynamicRecordSizingDisabled: true}})
					tc := <-acc
					if tc == nil {
						t.Fatal("accept failed")
					}
					peer = wrapRaw(t, h, tc)
				}
				const n = 300
				text := strings.Repeat("x", 380)
				for i := range n {
					h.send(msg("PRIVMSG", "#t", numbered(text, i)), conn.ID())
				}
				for i := range n {
					line, err := peer.readLine()
					if err != nil {
						t.Fatalf("line %d: %v", i, err)
					}
					if want := "PRIVMSG #t " + numbered(text, i); line != want {
						t.Fatalf("line %d = %.30q..., want %.30q...", i, line, want)
					}
				}
				largest, records := capt.largestRecord(t)
				t.Logf("%d records, the largest %d bytes", records, largest)
				if maxRec > 0 && largest > maxRec+overhead {
					t.Errorf("largest TLS record = %d bytes with MaxTLSRecord %d, want at most %d", largest, maxRec, maxRec+overhead)
				}
				if maxRec == 0 && largest <= limit+overhead {
					t.Errorf("largest TLS record = %d bytes with no cap, want bigger records than %d from a burst of %d lines", largest, limit+overhead, n)
				}
				h.shutdown()
			})
		}
	}
}
