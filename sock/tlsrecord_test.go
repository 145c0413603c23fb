package sock

import (
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"
)

// sizeConn records the size of every Write to the TCP connection under a
// *tls.Conn: crypto/tls writes each record of application data with one
// Write once the handshake is over.
type sizeConn struct {
	net.Conn
	mu    sync.Mutex
	sizes []int
}

func (c *sizeConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.sizes = append(c.sizes, len(p))
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *sizeConn) reset() {
	c.mu.Lock()
	c.sizes = nil
	c.mu.Unlock()
}

func (c *sizeConn) largest() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := 0
	for _, n := range c.sizes {
		m = max(m, n)
	}
	return m, len(c.sizes)
}

// tlsOverhead bounds what TLS adds to a record's plaintext: the 5-byte
// header, and for TLS 1.3 the inner content type, padding (none from
// crypto/tls) and the AEAD tag; RFC 8446 allows at most 256.
const tlsOverhead = 256

// TestWheelMaxTLSRecord: with MaxTLSRecord set, a batch far longer than it
// leaves as TLS records whose plaintext is at most that many bytes, and
// the peer reads every record whole and in order; with the zero value,
// crypto/tls makes records of up to 16 KiB of the same batch.
func TestWheelMaxTLSRecord(t *testing.T) {
	for _, tc := range []struct {
		name    string
		max     int
		wantMax int // the largest record allowed on the wire
		wantBig bool
	}{
		{"2048", 2048, 2048 + tlsOverhead, false},
		{"700", 700, 700 + tlsOverhead, false},
		{"zero", 0, DefaultMaxTLSRecord + tlsOverhead, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := tcpPair(t)
			defer c.Close()
			sc := &sizeConn{Conn: s}
			cert := selfSignedCert(t)
			// Dynamic record sizing would keep the first records small
			// whatever the cap: turned off, the zero case shows what the
			// cap prevents.
			srv := tls.Server(sc, &tls.Config{Certificates: []tls.Certificate{cert}, DynamicRecordSizingDisabled: true})
			cli := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
			handshake(t, srv, cli)
			_ = cli.SetDeadline(time.Now().Add(10 * time.Second)) // bounds the reads below
			sc.reset()

			w := NewWheel(srv, &nlFilter{}, &nlFilter{}, newRecorder(), WheelConfig{MaxSendQ: 16 << 20, MaxTLSRecord: tc.max})
			defer w.Close("test end", nil)
			// Queued, then flushed: one batch of about 200 KB.
			const n = 500
			for i := range n {
				if err := w.Queue(numbered(i)); err != nil {
					t.Fatalf("Queue(%d) = %v", i, err)
				}
			}
			w.Flush()
			readNumbered(t, cli, n)
			largest, writes := sc.largest()
			if largest > tc.wantMax {
				t.Errorf("largest TLS record on the wire = %d bytes, want at most %d", largest, tc.wantMax)
			}
			if tc.wantBig && largest <= 2048+tlsOverhead {
				t.Errorf("largest TLS record on the wire = %d bytes with no cap, want records of up to 16 KiB", largest)
			}
			t.Logf("%d records, the largest %d bytes", writes, largest)
		})
	}
}
