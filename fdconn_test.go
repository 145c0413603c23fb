package ircsock

import (
	"bufio"
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/ircsock/ircsock/ircmsg"
	"github.com/ircsock/ircsock/sock"
	"go.uber.org/goleak"
)

// TestPlainConnsAreFDConns: on Linux the Backend serves a plaintext
// connection as a sock.FDConn (the bare descriptor, without the
// runtime's per-socket state), and it carries lines both ways with the
// peer's address intact.
func TestPlainConnsAreFDConns(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("FDConns are Linux-only; elsewhere a *net.TCPConn serves")
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	b := New(Config{})
	opened := make(chan *Conn, 1)
	inputs := make(chan *ircmsg.Message, 1)
	go func() {
		for ev := range b.Events() {
			switch ev := ev.(type) {
			case ListenerOpen:
				opened <- ev.Conn
			case Input:
				inputs <- ev.Msg()
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer func() {
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown = %v", err)
		}
	}()
	l, err := b.CreateListener(ListenerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", l.AddrPort().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var conn *Conn
	select {
	case conn = <-opened:
	case <-ctx.Done():
		t.Fatal("no ListenerOpen within 10s")
	}
	if _, ok := conn.w.Conn().(*sock.FDConn); !ok {
		t.Fatalf("the Backend serves a plaintext connection as %T, want *sock.FDConn", conn.w.Conn())
	}
	if got, want := conn.Peer(), c.LocalAddr().(*net.TCPAddr).AddrPort(); got != want {
		t.Errorf("Peer() = %v, want %v", got, want)
	}
	if got, want := conn.Local(), c.RemoteAddr().(*net.TCPAddr).AddrPort(); got != want {
		t.Errorf("Local() = %v, want %v", got, want)
	}
	if _, err := c.Write([]byte("PING :fd\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-inputs:
		if m.Command != "PING" || len(m.Params) != 1 || m.Params[0] != "fd" {
			t.Fatalf("Input %v, want PING :fd", m)
		}
	case <-ctx.Done():
		t.Fatal("no Input within 10s")
	}
	if err := b.Send(&ircmsg.Message{Command: "PONG", Params: []string{"fd"}}, conn.ID()); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "PONG fd\r\n" {
		t.Fatalf("client read %q, %v; want \"PONG fd\\r\\n\"", line, err)
	}
}
