package fuzz

import (
	"bufio"
	"compress/zlib"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
)

// Bounds of FuzzBackendWire.
const (
	wireMaxLine  = 512              // Config.MaxLine of the Backend under test
	wireMaxInput = 64 << 10         // longer fuzz inputs are cut
	wireTimeout  = 20 * time.Second // each step of one input
	// wireMaxHeap is the live heap allowed after one input has been
	// served and collected: the Backend, its listener and the test's own
	// buffers need a few MiB; a connection that kept what it was sent, or
	// inflated a bomb, would pass it.
	wireMaxHeap = 64 << 20
)

// The ways FuzzBackendWire sends its bytes.
const (
	modePlain    = iota // TCP, as they are
	modeTLS             // through TLS
	modeZlib            // compressed by compress/zlib after the server's ZIP
	modeZlibJunk        // as they are, after the server's ZIP: a corrupt stream
	numModes
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool that
// trusts it, made for this run.
func selfSigned(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fuzz"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// wireServer is one Backend with a plain and a TLS listener on loopback,
// shared by every input of a fuzzing process.
type wireServer struct {
	b     *ircsock.Backend
	plain netip.AddrPort
	tls   netip.AddrPort
	roots *x509.CertPool
}

func newWireServer(tb testing.TB) *wireServer {
	cert, roots := selfSigned(tb)
	b := ircsock.New(ircsock.Config{MaxLine: wireMaxLine})
	s := &wireServer{b: b, roots: roots}
	pl, err := b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		tb.Fatal(err)
	}
	tl, err := b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0",
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}}})
	if err != nil {
		tb.Fatal(err)
	}
	s.plain, s.tls = pl.AddrPort(), tl.AddrPort()
	return s
}

func (s *wireServer) close(tb testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), wireTimeout)
	defer cancel()
	go func() {
		for range s.b.Events() { // drain until the Backend closes the channel
		}
	}()
	if err := s.b.Shutdown(ctx); err != nil {
		tb.Errorf("Shutdown: %v", err)
	}
}

// wireModel is what the Backend must deliver for data: for each line the
// peer sent whole (up to an LF), in order, either the message it parses
// to or "error". A line longer than MaxLine (after one CR before its LF is
// dropped) is an error; so is one the parser refuses. An unterminated
// last piece is one more error: too long, or cut by the end of the input
// (sock.ErrPartialRecord).
func wireModel(data []byte) []string {
	var want []string
	pieces := strings.Split(string(data), "\n")
	for _, l := range pieces[:len(pieces)-1] {
		l = strings.TrimSuffix(l, "\r")
		var m ircmsg.Message
		var lim ircmsg.Limits // the Backend's: Config.Format.Limits is zero
		if len(l) > wireMaxLine || lim.ParseInto(&m, []byte(l)) != nil {
			want = append(want, "error")
			continue
		}
		want = append(want, m.String())
	}
	if pieces[len(pieces)-1] != "" {
		want = append(want, "error")
	}
	return want
}

// send is the peer: it dials, waits for ZIP in the zlib modes, writes
// data in the given pieces, shuts its writing side and reads until the
// server closes.
func (s *wireServer) send(mode int, pieces [][]byte) error {
	d := net.Dialer{Timeout: wireTimeout}
	var c net.Conn
	var err error
	if mode == modeTLS {
		c, err = tls.DialWithDialer(&d, "tcp", s.tls.String(), &tls.Config{RootCAs: s.roots, ServerName: "127.0.0.1"})
	} else {
		c, err = d.Dial("tcp", s.plain.String())
	}
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(wireTimeout)); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	var zw *zlib.Writer
	if mode == modeZlib || mode == modeZlibJunk {
		line, err := br.ReadString('\n')
		if err != nil || line != "ZIP\r\n" {
			return fmt.Errorf("waiting for ZIP: %q, %v", line, err)
		}
		if mode == modeZlib {
			zw = zlib.NewWriter(c)
		}
	}
	for _, p := range pieces {
		if zw != nil {
			_, err = zw.Write(p)
			if err == nil {
				err = zw.Flush()
			}
		} else {
			_, err = c.Write(p)
		}
		if err != nil {
			// The server may drop the link first (a corrupt stream,
			// an inflate limit); what it received is still checked.
			break
		}
	}
	switch c := c.(type) {
	case *net.TCPConn:
		c.CloseWrite()
	case *tls.Conn:
		c.CloseWrite()
	}
	io.Copy(io.Discard, br)
	return nil
}

// FuzzBackendWire sends random bytes into a Backend connection on
// loopback, plain, through TLS, compressed with zlib, and as a corrupt
// zlib stream. The process must not panic; every line the peer sent
// whole must come out, in order, as an Input with the message it parses
// to or as an InputError (except in the corrupt-stream mode, where the
// bytes mean nothing); the connection ends with one Disconnect; and the
// live heap stays bounded.
func FuzzBackendWire(f *testing.F) {
	f.Add([]byte("NICK a\r\nUSER a 0 * :A\r\nPING :x\r\n"), uint8(modePlain), uint64(1))
	f.Add([]byte("@a=b;c PRIVMSG #c :hi\r\n\r\n\x00\r\n"+strings.Repeat("x", 600)+"\nPING\n"), uint8(modeTLS), uint64(2))
	f.Add([]byte("PRIVMSG #z :compressed\r\n"+strings.Repeat("PING :again\r\n", 50)+"partial"), uint8(modeZlib), uint64(3))
	f.Add([]byte("x\x9c\x00\x00\xff\xffgarbage\r\n"), uint8(modeZlibJunk), uint64(4))
	f.Add([]byte(strings.Repeat("y", 2000)), uint8(modePlain), uint64(5))
	s := newWireServer(f)
	f.Cleanup(func() { s.close(f) })
	setupEvents(f, s.b)
	f.Fuzz(func(t *testing.T, data []byte, modeByte uint8, seed uint64) {
		data = data[:min(len(data), wireMaxInput)]
		mode := int(modeByte) % numModes
		sent := make(chan error, 1)
		go func() { sent <- s.send(mode, chunk(data, seed)) }()

		var got []string
		var id ircsock.ConnID
		timeout := time.NewTimer(wireTimeout)
		defer timeout.Stop()
	loop:
		for {
			select {
			case ev := <-s.b.Events():
				switch ev := ev.(type) {
				case ircsock.ListenerOpen:
					id = ev.Conn.ID()
					if mode == modeZlib || mode == modeZlibJunk {
						if err := s.b.CompressInputNow(id); err != nil {
							t.Fatalf("CompressInputNow: %v", err)
						}
						if err := s.b.Send(&ircmsg.Message{Command: "ZIP"}, id); err != nil {
							t.Fatalf("Send ZIP: %v", err)
						}
					}
				case ircsock.ListenerFailure:
					t.Fatalf("listener failure: %s %v", ev.Op, ev.Err)
				case ircsock.Input:
					got = append(got, ev.Msg().String())
				case ircsock.InputError:
					if !filter.IsRecordError(ev.Err) {
						t.Fatalf("InputError that is not per-record: %v", ev.Err)
					}
					got = append(got, "error")
				case ircsock.Disconnect:
					if ev.Conn.ID() != id {
						t.Fatalf("Disconnect of connection %d, want %d", ev.Conn.ID(), id)
					}
					break loop
				}
			case <-timeout.C:
				t.Fatalf("no Disconnect within %v; %d results so far", wireTimeout, len(got))
			}
		}
		select {
		case err := <-sent:
			if err != nil {
				t.Fatalf("peer: %v", err)
			}
		case <-timeout.C:
			t.Fatal("peer did not finish")
		}

		if mode != modeZlibJunk {
			if want := wireModel(data); !slices.Equal(got, want) {
				t.Fatalf("mode %d: delivered %d results %q\nwant %d %q", mode, len(got), got, len(want), want)
			}
		}

		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > wireMaxHeap {
			t.Fatalf("live heap %d bytes after the connection ended, more than %d", ms.HeapAlloc, wireMaxHeap)
		}
	})
}

// setupEvents takes the events a new Backend with two listeners sends
// first: Registered and ListenerCreated twice.
func setupEvents(tb testing.TB, b *ircsock.Backend) {
	timeout := time.After(wireTimeout)
	for i := range 3 {
		select {
		case ev := <-b.Events():
			switch ev.(type) {
			case ircsock.Registered, ircsock.ListenerCreated:
			default:
				tb.Fatalf("setup event %d is %T, want Registered or ListenerCreated", i, ev)
			}
		case <-timeout:
			tb.Fatalf("no setup event %d within %v", i, wireTimeout)
		}
	}
}
