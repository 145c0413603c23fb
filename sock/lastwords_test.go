package sock

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The last words of a peer: when a write fails, what the peer had sent
// before is still delivered, then EventClosed with the write error.

// lastWordsCase is one way of running and writing a wheel.
type lastWordsCase struct {
	name  string
	tls   bool
	start bool // Start (parks on Linux for plaintext TCP) rather than Run
	queue bool // Queue and Flush (the shared writers for plaintext TCP)
}

var lastWordsCases = []lastWordsCase{
	{"Run Write", false, false, false},
	{"Run Queue Flush", false, false, true},
	{"Start Write", false, true, false},
	{"Start Queue Flush", false, true, true},
	{"TLS Run Write", true, false, false},
	{"TLS Start Queue Flush", true, true, true},
}

// lastWordsPeer is a loopback connection with the wheel's end (srv) and
// the peer's: tcp is the peer's socket, peer what it writes through
// (tcp itself, or a TLS client over it).
type lastWordsPeer struct {
	srv  net.Conn
	tcp  *net.TCPConn
	peer net.Conn
	sock net.Conn // the wheel's socket, under TLS if any
}

func newLastWordsPeer(t *testing.T, withTLS bool) *lastWordsPeer {
	t.Helper()
	s, c := tcpPair(t)
	p := &lastWordsPeer{srv: s, tcp: c, peer: c, sock: s}
	t.Cleanup(func() { c.Close() })
	if !withTLS {
		return p
	}
	// No session tickets: TLS 1.3 sends them after the handshake, and a
	// peer that closes with them unread resets the connection instead
	// of ending its stream.
	srv := tls.Server(s, &tls.Config{Certificates: []tls.Certificate{selfSignedCert(t)}, SessionTicketsDisabled: true})
	cli := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	handshake(t, srv, cli)
	p.srv, p.peer = srv, cli
	return p
}

// writeUntilFailed writes to w, as tc says, until a write has failed and
// the wheel refuses more.
func writeUntilFailed(t *testing.T, w *Wheel, tc lastWordsCase) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if tc.queue {
			err = w.Queue([]byte("PING :still there?"))
			w.Flush()
		} else {
			err = w.Write([]byte("PING :still there?"))
		}
		if errors.Is(err, ErrClosing) {
			return
		}
		if err != nil {
			t.Fatalf("write = %v, want nil or ErrClosing", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no write failed within 10s of the peer's close")
		}
		time.Sleep(time.Millisecond) // polling with a bound
	}
}

// waitUnread waits until the kernel holds at least n bytes unread on c.
func waitUnread(t *testing.T, c net.Conn, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, ok := kernelUnread(c)
		if !ok {
			t.Skip("the kernel's receive queue cannot be read on this system")
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kernel holds %d bytes unread after 10s, want %d", got, n)
		}
		time.Sleep(time.Millisecond) // polling with a bound
	}
}

// blockFirst makes r's handler hold the reader in its first record until
// release is closed, so that what the peer sends next stays unread in the
// kernel while the wheel's write fails.
func blockFirst(r *recorder) (release chan struct{}) {
	release = make(chan struct{})
	var once sync.Once
	r.onRec = func(*Wheel, []byte) { once.Do(func() { <-release }) }
	return release
}

// restOf drains what r recorded without waiting: called after EventClosed,
// which comes after every record the wheel handed over.
func restOf(r *recorder) (recs []string, errs []error) {
	for {
		select {
		case s := <-r.recs:
			recs = append(recs, s)
		case err := <-r.errs:
			errs = append(errs, err)
		default:
			return recs, errs
		}
	}
}

func wantWriteError(t *testing.T, ci closeInfo, is ...error) {
	t.Helper()
	var oe *OpError
	if !strings.HasPrefix(ci.reason, "Write error: ") || !errors.As(ci.err, &oe) || oe.Op != OpWrite {
		t.Fatalf("Closed(%q, %v), want a reason %q... and an *OpError of Op %q", ci.reason, ci.err, "Write error: ", OpWrite)
	}
	for _, e := range is {
		if errors.Is(ci.err, e) {
			return
		}
	}
	t.Errorf("Closed with cause %v, want it to wrap one of %v", ci.err, is)
}

// TestWheelLastWords: a peer writes a final line and ends the connection,
// by a reset (SO_LINGER 0) or by a FIN, while the wheel's reader is busy;
// the wheel's writes then fail (ECONNRESET, or EPIPE once our bytes have
// met the peer's reset). The final line, unread in the kernel when the
// write failed, is still delivered, once, and then EventClosed with the
// write error. Linux hands over the queued bytes of a reset or finished
// connection before it reports the reset or the end.
func TestWheelLastWords(t *testing.T) {
	const final = "ERROR :Closing Link: 127.0.0.1 (Killed (oper (bye)))"
	for _, how := range []string{"RST", "FIN"} {
		for _, tc := range lastWordsCases {
			t.Run(how+"/"+tc.name, func(t *testing.T) {
				p := newLastWordsPeer(t, tc.tls)
				r := newRecorder()
				release := blockFirst(r)
				w := NewWheel(p.srv, &nlFilter{max: 1000}, &nlFilter{}, r, WheelConfig{})
				wait := goWheel(w, tc.start)
				defer wait()
				defer w.Close("test end", nil)

				if _, err := p.peer.Write([]byte("hello\n")); err != nil {
					t.Fatal(err)
				}
				select {
				case got := <-r.recs:
					if got != "hello" {
						t.Fatalf("first record %q, want %q", got, "hello")
					}
				case <-time.After(10 * time.Second):
					t.Fatal("first record not handled within 10s")
				}
				// The reader is held in the handler: the final line stays
				// in the kernel.
				before, _ := kernelUnread(p.sock)
				if _, err := p.peer.Write([]byte(final + "\n")); err != nil {
					t.Fatal(err)
				}
				waitUnread(t, p.sock, before+len(final)+1)
				if how == "RST" {
					_ = p.tcp.SetLinger(0)
					p.tcp.Close()
				} else {
					if n, _ := kernelUnread(p.tcp); n != 0 {
						t.Fatalf("peer holds %d bytes unread: its close would be a reset", n)
					}
					p.peer.Close() // a TLS peer sends close_notify first
				}
				writeUntilFailed(t, w, tc)
				close(release)

				ci := waitClosed(t, r)
				wantWriteError(t, ci, syscall.ECONNRESET, syscall.EPIPE)
				recs, errs := restOf(r)
				if len(recs) != 1 || recs[0] != final {
					t.Errorf("records after the write error %q, want just %q", recs, final)
				}
				if len(errs) != 0 {
					t.Errorf("record errors %v, want none", errs)
				}
			})
		}
	}
}

// TestWheelLastWordsSilentPeer: a write error on a peer that is still
// there but sends nothing (a write timeout) closes the wheel at once,
// though DrainTimeout is an hour: a reader with nothing to read does not
// wait for more. A plaintext Start wheel is parked on the poller when the
// write fails.
func TestWheelLastWordsSilentPeer(t *testing.T) {
	for _, tc := range lastWordsCases {
		t.Run(tc.name, func(t *testing.T) {
			p := newLastWordsPeer(t, tc.tls)
			r := newRecorder()
			w := NewWheel(p.srv, &nlFilter{max: 1000}, &nlFilter{}, r, WheelConfig{DrainTimeout: time.Hour})
			wait := goWheel(w, tc.start)
			defer wait()
			defer w.Close("test end", nil)
			if tc.start && !tc.tls && canPark {
				waitParked(t, w)
			}
			_ = w.Conn().SetWriteDeadline(aLongTimeAgo)
			writeUntilFailed(t, w, tc)
			ci := waitClosed(t, r)
			wantWriteError(t, ci, os.ErrDeadlineExceeded)
			if recs, errs := restOf(r); len(recs) != 0 || len(errs) != 0 {
				t.Errorf("records %q and errors %v from a silent peer, want none", recs, errs)
			}
		})
	}
}

// TestWheelLastWordsCut: a peer that goes on sending after the write error
// is read for DrainTimeout at most; the records delivered are the first
// ones, in order, then ErrFinalReadCut says the limit ended the reading,
// then EventClosed with the write error.
func TestWheelLastWordsCut(t *testing.T) {
	for _, tc := range lastWordsCases {
		t.Run(tc.name, func(t *testing.T) {
			p := newLastWordsPeer(t, tc.tls)
			r := newRecorder()
			release := blockFirst(r)
			// The limit has run out by the first read after the error.
			w := NewWheel(p.srv, &nlFilter{max: 1000}, &nlFilter{}, r, WheelConfig{DrainTimeout: time.Nanosecond})
			wait := goWheel(w, tc.start)
			defer wait()
			defer w.Close("test end", nil)

			if _, err := p.peer.Write([]byte("line 0\n")); err != nil {
				t.Fatal(err)
			}
			select {
			case got := <-r.recs:
				if got != "line 0" {
					t.Fatalf("first record %q, want %q", got, "line 0")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("first record not handled within 10s")
			}
			// The peer keeps sending until its connection is closed.
			sent := make(chan int, 1)
			go func() {
				i := 1
				for ; ; i++ {
					if _, err := fmt.Fprintf(p.peer, "line %d\n", i); err != nil {
						break
					}
				}
				sent <- i
			}()
			waitUnread(t, p.sock, 4096)
			_ = w.Conn().SetWriteDeadline(aLongTimeAgo)
			writeUntilFailed(t, w, tc)
			close(release)

			ci := waitClosed(t, r)
			wantWriteError(t, ci, os.ErrDeadlineExceeded)
			recs, errs := restOf(r)
			for i, rec := range recs {
				if want := fmt.Sprintf("line %d", i+1); rec != want {
					t.Fatalf("record %d after the error %q, want %q", i, rec, want)
				}
			}
			if len(errs) != 1 || !errors.Is(errs[0], ErrFinalReadCut) || !strings.Contains(errs[0].Error(), "DrainTimeout") {
				t.Errorf("record errors %v, want one ErrFinalReadCut naming DrainTimeout", errs)
			}
			select {
			case <-sent: // the wheel's close ended the peer's writes
			case <-time.After(10 * time.Second):
				t.Fatal("peer still writing 10s after the wheel closed")
			}
		})
	}
}
