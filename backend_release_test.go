package ircsock_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/ircmsg"
)

// releaseLines are lines of every block size the Backend pools (and one
// too long for any), with tags and with more than four parameters, in
// the form Format writes them back, so an echo must equal its line.
func releaseLines(client, i int) []string {
	n := fmt.Sprintf("%d-%06d", client, i)
	return []string{
		"PRIVMSG #c :short " + n,
		"@msgid=" + n + ";+typing=active :nick!user@host PRIVMSG #c :" + strings.Repeat("m", 150) + " " + n,
		"MODE #c +ovvvb a b c d e :mode " + n,
		"@k=" + strings.Repeat("v", 400) + " NOTICE #c :tag400 " + n,
		"@k=" + strings.Repeat("w", 900) + " NOTICE #c :tag900 " + n,
	}
}

// TestInputReleaseEcho runs an echo whose controller releases every
// Input right after sending it, so that the readers of three connections
// reuse the blocks while the controller and the other connections'
// readers still use theirs. Every echo must come back exactly, in order;
// a malformed line in the middle is an InputError that spoils nothing
// after it. Under -race this also checks that a released block is handed
// from the controller to a reader with a happens-before edge.
func TestInputReleaseEcho(t *testing.T) {
	checkLeaks(t)
	const clients, rounds = 3, 150
	b := ircsock.New(ircsock.Config{})
	done := make(chan struct{})
	var kept []string // the last parameter of every Input, cloned
	go func() {
		defer close(done)
		for ev := range b.Events() {
			switch ev := ev.(type) {
			case ircsock.Input:
				ps := ev.Msg().Params
				kept = append(kept, strings.Clone(ps[len(ps)-1]))
				if err := b.Send(ev.Msg(), ev.Conn().ID()); err != nil && !errors.Is(err, ircsock.ErrClosed) {
					t.Errorf("send: %v", err)
				}
				ev.Release()
			case ircsock.InputError:
				b.Send(&ircmsg.Message{Command: "BAD"}, ev.Conn.ID())
			}
		}
	}()
	defer func() {
		b.Close()
		<-done
	}()
	l, err := b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", l.Port()))
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			defer c.Close()
			dl, _ := ctx.Deadline()
			c.SetDeadline(dl)
			var want []string
			var out strings.Builder
			for i := range rounds {
				for _, line := range releaseLines(cl, i) {
					want = append(want, line)
					out.WriteString(line + "\r\n")
				}
				if i == rounds/2 {
					want = append(want, "BAD")
					out.WriteString("PRIVMSG #c :nul\x00 inside\r\n")
				}
			}
			werr := make(chan error, 1)
			go func() { _, err := c.Write([]byte(out.String())); werr <- err }()
			r := bufio.NewReaderSize(c, 64<<10)
			for i, w := range want {
				got, err := r.ReadString('\n')
				if err != nil {
					t.Errorf("client %d: read echo %d of %d: %v", cl, i, len(want), err)
					return
				}
				if got = strings.TrimSuffix(got, "\r\n"); got != w {
					t.Errorf("client %d: echo %d = %.60q..., want %.60q...", cl, i, got, w)
					return
				}
			}
			if err := <-werr; err != nil {
				t.Errorf("client %d: write: %v", cl, err)
			}
		}()
	}
	wg.Wait()
	b.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("events channel still open 5s after Close")
	}
	// The clones kept across Release are intact: every line's last
	// parameter (each names its client and line) once.
	perClient := map[string]int{}
	for _, p := range kept {
		perClient[p]++
	}
	for cl := range clients {
		for i := range rounds {
			for _, line := range releaseLines(cl, i) {
				m, err := ircmsg.ParseString(line)
				if err != nil {
					t.Fatal(err)
				}
				last := m.Params[len(m.Params)-1]
				if perClient[last] == 0 {
					t.Fatalf("kept parameters miss %.40q", last)
				}
				perClient[last]--
			}
		}
	}
}
