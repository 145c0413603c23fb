package ircsock

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ircsock/ircsock/ircmsg"
)

// TestSendCoalescing sends while more events wait for the controller, so
// that Send queues without waking the writer, and then sends nothing
// more: the line must still arrive (the coalescing timer flushes it).
// Then, with the channel empty, a Send flushes at once both its own line
// and the ones deferred before it, in order.
func TestSendCoalescing(t *testing.T) {
	defer goleak.VerifyNone(t)
	b := New(Config{})
	defer b.Close()
	l, err := b.CreateListener(ListenerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Port())))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(raw)

	next := func(what string) Event {
		t.Helper()
		select {
		case ev := <-b.Events():
			return ev
		case <-time.After(10 * time.Second):
			t.Fatalf("no event while waiting for %s", what)
			return nil
		}
	}
	input := func(what string) *Conn {
		t.Helper()
		for {
			if in, ok := next(what).(Input); ok && in.Msg().Command == what {
				return in.Conn()
			}
		}
	}
	// waitPending waits, within a bound, until the reader has put the
	// next event in the channel.
	waitPending := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(b.Events()) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the second line never reached the events channel")
			}
			time.Sleep(time.Millisecond)
		}
	}
	send := func(c *Conn, text string) {
		t.Helper()
		if err := b.Send(&ircmsg.Message{Command: "NOTICE", Params: []string{"x", text}}, c.ID()); err != nil {
			t.Fatal(err)
		}
	}
	readLine := func(want string) {
		t.Helper()
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if got := strings.TrimRight(l, "\r\n"); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}

	// A Send made while an event waits is deferred, and with nothing sent
	// after it the timer writes it. The timer may flush before the check
	// if this goroutine is descheduled for coalesceDelay, so a check that
	// took that long proves nothing and the round is tried again.
	var c *Conn
	for round := 0; ; round++ {
		if round == 20 {
			t.Fatal("20 rounds each took longer than the coalescing delay: the machine is too loaded to observe the deferral")
		}
		a, bb := fmt.Sprintf("A%d", round), fmt.Sprintf("B%d", round)
		if _, err := raw.Write([]byte(a + "\r\n" + bb + "\r\n")); err != nil {
			t.Fatal(err)
		}
		c = input(a)
		waitPending()
		start := time.Now()
		send(c, "deferred")
		dirty := b.hasDirty.Load()
		took := time.Since(start)
		readLine("NOTICE x deferred")
		input(bb)
		if dirty {
			break
		}
		if took < coalesceDelay {
			t.Fatal("Send with an event waiting did not defer its write")
		}
	}

	if _, err := raw.Write([]byte("C\r\nD\r\n")); err != nil {
		t.Fatal(err)
	}
	c = input("C")
	waitPending()
	send(c, "one")
	send(c, "two")
	input("D")
	for len(b.Events()) > 0 {
		next("the channel to empty")
	}
	send(c, "three")
	if b.hasDirty.Load() {
		t.Error("a Send with no event waiting left wheels dirty")
	}
	readLine("NOTICE x one")
	readLine("NOTICE x two")
	readLine("NOTICE x three")
}
