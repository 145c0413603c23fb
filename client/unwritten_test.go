package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ircsock/ircsock/client"
)

// Messages the connection had accepted but not yet written when the
// server died go out again, in order and once, on the next connection,
// and the disconnect event counts them.
func TestUnwrittenRequeuedAfterLoss(t *testing.T) {
	p := listenPeer(t)
	const n = 1500
	c := newTClient(t, "unwritten", client.Config{Addr: p.addr(), Nick: "uw",
		// A small socket buffer keeps most of the stream in the
		// client's own send queue while the server does not read.
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				err = conn.(*net.TCPConn).SetWriteBuffer(4096)
			}
			return conn, err
		},
		Flood: client.Flood{Disabled: true, MaxQueue: n},
	}).start()
	register := func() {
		p.open()
		p.send(":srv CAP * LS :")
		p.expect("CAP END")
		p.welcome("uw")
	}
	register()
	c.waitEvent(client.EventRegistered)
	pad := strings.Repeat("x", 300)
	for i := range n {
		if err := c.Privmsg("#t", fmt.Sprintf("m%d %s", i, pad)); err != nil {
			t.Fatalf("Privmsg %d: %v", i, err)
		}
	}
	// Everything is handed to the connection, most of it unwritten: the
	// server has read nothing.
	deadline := time.Now().Add(step)
	for c.Queued() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still queued after %v", c.Queued(), step)
		}
		time.Sleep(5 * time.Millisecond) // polling, bounded above
	}
	first := p.c
	p.c = nil
	// Closing with unread input resets the connection: the server dies
	// mid-stream.
	_ = first.(*net.TCPConn).SetLinger(0)
	first.Close()

	ev := c.waitEvent(client.EventDisconnected)
	if ev.Requeued == 0 || ev.Requeued >= n {
		t.Fatalf("EventDisconnected requeued %d of %d messages; want some but not all (%v)", ev.Requeued, n, ev)
	}
	t.Logf("%v", ev)
	if len(ev.MaybeLost) > 1 || (len(ev.MaybeLost) == 1) != errors.Is(ev.Err, client.ErrMaybeLost) {
		t.Errorf("maybe lost %d, err %v: want at most the one record cut in the middle, reported in Err", len(ev.MaybeLost), ev.Err)
	}
	if len(ev.MaybeLost) == 1 && !strings.Contains(ev.MaybeLost[0], fmt.Sprintf(":m%d ", n-ev.Requeued-1)) {
		t.Errorf("maybe lost %.40q, want the message just before the requeued ones", ev.MaybeLost[0])
	}
	register()
	want := n - ev.Requeued
	for want < n {
		l := p.line()
		if !strings.HasPrefix(l, "PRIVMSG #t :m") {
			continue
		}
		num, _, _ := strings.Cut(strings.TrimPrefix(l, "PRIVMSG #t :m"), " ")
		if got, err := strconv.Atoi(num); err != nil || got != want {
			t.Fatalf("second connection got message %q, want m%d (the requeued ones in order)", num, want)
		}
		want++
	}
	// Nothing more: the queue is empty and the stream goes quiet.
	_ = p.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		l, err := p.r.ReadString('\n')
		if err != nil {
			break
		}
		if strings.HasPrefix(l, "PRIVMSG") {
			t.Fatalf("second connection got an extra %q", l)
		}
	}
	if q := c.Queued(); q != 0 {
		t.Errorf("Queued = %d after the resend", q)
	}
}

// A Quit while the server reads nothing ends in a drain cut: the
// messages the connection still held cannot be told apart from those the
// kernel held, so they are reported as maybe lost, by the event and by
// Run, not dropped in silence.
func TestUnwrittenReportedAtQuit(t *testing.T) {
	p := listenPeer(t)
	const n = 1500
	c := newTClient(t, "unwritten-quit", client.Config{Addr: p.addr(), Nick: "uq",
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				err = conn.(*net.TCPConn).SetWriteBuffer(4096)
			}
			return conn, err
		},
		Flood: client.Flood{Disabled: true, MaxQueue: n},
	}).start()
	p.open()
	p.send(":srv CAP * LS :")
	p.expect("CAP END")
	p.welcome("uq")
	c.waitEvent(client.EventRegistered)
	pad := strings.Repeat("x", 300)
	for i := range n {
		if err := c.Privmsg("#t", fmt.Sprintf("m%d %s", i, pad)); err != nil {
			t.Fatalf("Privmsg %d: %v", i, err)
		}
	}
	deadline := time.Now().Add(step)
	for c.Queued() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still queued after %v", c.Queued(), step)
		}
		time.Sleep(5 * time.Millisecond) // polling, bounded above
	}
	if err := c.Quit("bye"); err != nil {
		t.Fatal(err)
	}
	err := c.result()
	if !errors.Is(err, client.ErrMaybeLost) {
		t.Fatalf("Run = %v, want ErrMaybeLost", err)
	}
	ev := c.waitEvent(client.EventDisconnected)
	if len(ev.MaybeLost) == 0 || ev.Requeued != 0 || !errors.Is(ev.Err, client.ErrMaybeLost) {
		t.Fatalf("EventDisconnected %v: want messages maybe lost, none requeued", ev)
	}
	if last := ev.MaybeLost[len(ev.MaybeLost)-1]; !strings.Contains(last, fmt.Sprintf(":m%d ", n-1)) {
		t.Errorf("last maybe-lost message %.40q, want m%d", last, n-1)
	}
}
