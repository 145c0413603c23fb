package client_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ircsock/ircsock/client"
	"github.com/ircsock/ircsock/ircmsg"
)

// tclient runs a client.Client for a test: it records every event and
// message so the test can wait for them, and stops the client at
// cleanup.
type tclient struct {
	t *testing.T
	*client.Client
	name    string
	timeout time.Duration // of each wait; zero means step
	cancel  context.CancelFunc
	done    chan struct{}
	runErr  error

	mu      sync.Mutex
	events  []client.Event
	msgs    []*ircmsg.Message
	changed chan struct{}
	trace   []string
}

// step bounds every wait of the tests.
const step = 20 * time.Second

func newTClient(t *testing.T, name string, cfg client.Config) *tclient {
	t.Helper()
	tc := &tclient{t: t, name: name, changed: make(chan struct{}), done: make(chan struct{})}
	userEvent := cfg.OnEvent
	cfg.OnEvent = func(ev client.Event) {
		tc.mu.Lock()
		tc.events = append(tc.events, ev)
		tc.notifyLocked()
		tc.mu.Unlock()
		if userEvent != nil {
			userEvent(ev)
		}
	}
	cfg.Trace = func(out bool, line string) {
		dir := "<-"
		if out {
			dir = "->"
		}
		tc.mu.Lock()
		tc.trace = append(tc.trace, dir+" "+line)
		tc.mu.Unlock()
	}
	if cfg.Reconnect.MinDelay == 0 {
		cfg.Reconnect.MinDelay = 100 * time.Millisecond
		cfg.Reconnect.MaxDelay = time.Second
	}
	if cfg.Flood.Burst == 0 && cfg.Flood.Interval == 0 && !cfg.Flood.Disabled {
		cfg.Flood.Burst, cfg.Flood.Interval = 20, 10*time.Millisecond
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tc.Client = c
	c.HandleFunc("*", func(_ *client.Client, m *ircmsg.Message) {
		tc.mu.Lock()
		tc.msgs = append(tc.msgs, m)
		tc.notifyLocked()
		tc.mu.Unlock()
	})
	return tc
}

func (tc *tclient) notifyLocked() {
	close(tc.changed)
	tc.changed = make(chan struct{})
}

// start runs the client until cleanup.
func (tc *tclient) start() *tclient {
	ctx, cancel := context.WithCancel(context.Background())
	tc.cancel = cancel
	go func() {
		err := tc.Run(ctx)
		tc.mu.Lock()
		tc.runErr = err
		tc.mu.Unlock()
		close(tc.done)
	}()
	tc.t.Cleanup(func() {
		tc.stop()
		if tc.t.Failed() {
			tc.mu.Lock()
			tc.t.Logf("%s trace:\n%s", tc.name, strings.Join(tc.trace, "\n"))
			tc.mu.Unlock()
		}
	})
	return tc
}

// stop cancels Run and waits for it (bounded).
func (tc *tclient) stop() {
	tc.cancel()
	select {
	case <-tc.done:
	case <-time.After(step):
		buf := make([]byte, 1<<20)
		tc.t.Errorf("%s: Run did not return within %v of cancel; goroutines:\n%s", tc.name, step, buf[:runtime.Stack(buf, true)])
	}
}

// wait waits until cond holds over the recorded events and messages.
func (tc *tclient) wait(what string, cond func(evs []client.Event, msgs []*ircmsg.Message) bool) {
	tc.t.Helper()
	d := tc.timeout
	if d == 0 {
		d = step
	}
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		tc.mu.Lock()
		ok := cond(tc.events, tc.msgs)
		ch := tc.changed
		tc.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-tc.done:
			tc.mu.Lock()
			ok := cond(tc.events, tc.msgs)
			err := tc.runErr
			tc.mu.Unlock()
			if !ok {
				tc.t.Fatalf("%s: Run returned (%v) before %s", tc.name, err, what)
			}
			return
		case <-deadline.C:
			tc.t.Fatalf("%s: no %s within %v", tc.name, what, d)
		}
	}
}

// waitPoll waits until cond holds, checking on every event or message.
func (tc *tclient) waitPoll(what string, cond func() bool) {
	tc.t.Helper()
	tc.wait(what, func([]client.Event, []*ircmsg.Message) bool { return cond() })
}

func (tc *tclient) waitEvent(kind client.EventKind) client.Event {
	tc.t.Helper()
	var got client.Event
	tc.wait(kind.String()+" event", func(evs []client.Event, _ []*ircmsg.Message) bool {
		for _, ev := range evs {
			if ev.Kind == kind {
				got = ev
				return true
			}
		}
		return false
	})
	return got
}

func (tc *tclient) waitMsg(what string, match func(m *ircmsg.Message) bool) *ircmsg.Message {
	tc.t.Helper()
	var got *ircmsg.Message
	tc.wait(what, func(_ []client.Event, msgs []*ircmsg.Message) bool {
		for _, m := range msgs {
			if match(m) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

func (tc *tclient) hasMatch(match func(*ircmsg.Message) bool) bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return slices.ContainsFunc(tc.msgs, match)
}

func (tc *tclient) hasCommand(cmd string) bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	for _, m := range tc.msgs {
		if m.Command == cmd {
			return true
		}
	}
	return false
}

// result waits for Run to return and gives its error.
func (tc *tclient) result() error {
	tc.t.Helper()
	select {
	case <-tc.done:
	case <-time.After(step):
		buf := make([]byte, 1<<20)
		tc.t.Fatalf("%s: Run still running after %v; goroutines:\n%s", tc.name, step, buf[:runtime.Stack(buf, true)])
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.runErr
}

func (tc *tclient) traceText() string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return strings.Join(tc.trace, "\n")
}

func isCmd(cmd string) func(*ircmsg.Message) bool {
	return func(m *ircmsg.Message) bool { return m.Command == cmd }
}

func fromNick(m *ircmsg.Message) string {
	n, _, _ := ircmsg.SplitSource(m.Source)
	return n
}

// registerAccount registers account with password through NickServ, as
// a user does, and waits for Atheme to confirm.
func registerAccount(t *testing.T, n *network, account, password string) {
	t.Helper()
	c := newTClient(t, "register-"+account, client.Config{Addr: n.addr(), Nick: account, Reconnect: client.Reconnect{Disabled: true}}).start()
	c.waitEvent(client.EventRegistered)
	if c.Nick() != account {
		t.Fatalf("registering %s: got nick %s", account, c.Nick())
	}
	if err := c.Privmsg("NickServ", fmt.Sprintf("REGISTER %s %s@example.test", password, account)); err != nil {
		t.Fatal(err)
	}
	c.waitMsg("NickServ's REGISTER reply", func(m *ircmsg.Message) bool {
		return m.Command == "NOTICE" && fromNick(m) == "NickServ" && strings.Contains(last(m), "registered")
	})
	c.stop()
}

func last(m *ircmsg.Message) string {
	if len(m.Params) == 0 {
		return ""
	}
	return m.Params[len(m.Params)-1]
}
