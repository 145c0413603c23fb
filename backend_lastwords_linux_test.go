package ircsock_test

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
)

// unacked returns the bytes c's kernel holds that its peer has not
// acknowledged (SIOCOUTQ).
func unacked(t *testing.T, c *net.TCPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int32
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n)))
	}); err != nil || errno != 0 {
		t.Fatalf("SIOCOUTQ: %v %v", err, errno)
	}
	return int(n)
}

// TestBackendLastWords: a server (the raw peer) sends a line, its ERROR
// line and hangs up, by a reset or a FIN, while the Backend's reader waits
// for room in the events channel; the controller's Sends then fail. The
// controller still gets every line, the ERROR last, before the Disconnect
// that gives the write error as its reason.
func TestBackendLastWords(t *testing.T) {
	const final = "ERROR :Closing Link: 127.0.0.1 (Ping timeout: 180 seconds)"
	for _, how := range []string{"RST", "FIN"} {
		t.Run(how, func(t *testing.T) {
			checkLeaks(t)
			// One event of room: a reader with a second line to hand
			// over waits, and what the peer sends next stays unread.
			b := ircsock.New(ircsock.Config{Events: 1})
			defer b.Close()
			deadline := time.Now().Add(testTimeout)
			next := func(what string) ircsock.Event {
				t.Helper()
				select {
				case ev := <-b.Events():
					return ev
				case <-time.After(time.Until(deadline)):
					t.Fatalf("no event within %v, waiting for %s", testTimeout, what)
					return nil
				}
			}
			l, err := b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			nc, err := net.DialTimeout("tcp", listenAddr(l), 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			peer := nc.(*net.TCPConn)
			defer peer.Close()
			_ = peer.SetDeadline(deadline)
			var conn *ircsock.Conn
			for conn == nil {
				if ev, ok := next("ListenerOpen").(ircsock.ListenerOpen); ok {
					conn = ev.Conn
				}
			}
			if _, err := peer.Write([]byte("NOTICE * :one\r\nNOTICE * :two\r\n")); err != nil {
				t.Fatal(err)
			}
			if _, err := peer.Write([]byte(final + "\r\n")); err != nil {
				t.Fatal(err)
			}
			// Everything is in the Backend's kernel before the peer goes.
			for unacked(t, peer) > 0 {
				if time.Now().After(deadline) {
					t.Fatal("peer's lines not acknowledged in time")
				}
				time.Sleep(time.Millisecond) // polling with a bound
			}
			if how == "RST" {
				_ = peer.SetLinger(0)
			}
			peer.Close()
			for !conn.Disconnecting() {
				err := b.Send(&ircmsg.Message{Command: "PING", Params: []string{"still there?"}}, conn.ID())
				if err != nil && !errors.Is(err, ircsock.ErrDisconnecting) {
					t.Fatalf("Send = %v", err)
				}
				if time.Now().After(deadline) {
					t.Fatal("no write failed in time")
				}
				time.Sleep(time.Millisecond) // polling with a bound
			}

			var got []string
			for {
				switch ev := next("the Disconnect").(type) {
				case ircsock.Input:
					got = append(got, ev.Msg().String())
				case ircsock.InputError:
					t.Errorf("InputError %v, want none", ev.Err)
				case ircsock.Disconnect:
					want := []string{"NOTICE * one", "NOTICE * two", final}
					if strings.Join(got, "\n") != strings.Join(want, "\n") {
						t.Errorf("inputs %q, want %q", got, want)
					}
					var oe *sock.OpError
					if !strings.HasPrefix(ev.Reason, "Write error: ") || !errors.As(ev.Err, &oe) || oe.Op != sock.OpWrite {
						t.Errorf("Disconnect(%q, %v), want a write error", ev.Reason, ev.Err)
					}
					if !errors.Is(ev.Err, syscall.ECONNRESET) && !errors.Is(ev.Err, syscall.EPIPE) {
						t.Errorf("Disconnect cause %v, want ECONNRESET or EPIPE", ev.Err)
					}
					return
				}
			}
		})
	}
}
