package hostile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/sock"
)

// TestConnectionStorm opens 2,000 connections in one burst against two
// listeners, one with MaxConns and one with MaxConnsPerIP (every client
// comes from 127.0.0.1, so the per-IP limit is the one that bites there).
// Exactly the limit is admitted on each; every other connection is refused
// with a ListenerFailure of Op "limit" naming the limit; a healthy client
// on a third listener is served throughout; once the storm is gone, both
// listeners admit again.
func TestConnectionStorm(t *testing.T) {
	checkLeaks(t)
	const (
		burst    = 1000 // per listener
		maxConns = 100
		maxPerIP = 50
	)
	s := newServer(t, ircsock.Config{}, ircsock.ListenerConfig{Idle: -1})
	la, err := s.b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Idle: -1, MaxConns: maxConns})
	if err != nil {
		t.Fatal(err)
	}
	lb, err := s.b.CreateListener(ircsock.ListenerConfig{Addr: "127.0.0.1:0", Idle: -1, MaxConnsPerIP: maxPerIP})
	if err != nil {
		t.Fatal(err)
	}
	addrOf := func(l *ircsock.Listener) string { return l.AddrPort().String() }
	good := dial(t, s.ctx, "good", s.addr())
	good.healthy("before")

	hw := watchHeap(t)
	pr := startProber(good)
	var (
		mu     sync.Mutex
		conns  []net.Conn
		failed atomic.Int64
		wg     sync.WaitGroup
	)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	for i := range 2 * burst {
		addr := addrOf(la)
		if i%2 == 1 {
			addr = addrOf(lb)
		}
		wg.Go(func() {
			var d net.Dialer
			c, err := d.DialContext(s.ctx, "tcp", addr)
			if err != nil {
				failed.Add(1)
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	dialed := int64(len(conns))
	t.Logf("storm: %d connected, %d dials failed", dialed, failed.Load())

	// Every connection that got through is either admitted or refused.
	count := func() (openA, openB, refA, refB int) {
		for _, r := range s.byID {
			switch r.conn.Listener().ID() {
			case la.ID():
				openA++
			case lb.ID():
				openB++
			}
		}
		for _, f := range s.lfails {
			if f.Op != "limit" {
				continue
			}
			switch f.Listener.ID() {
			case la.ID():
				refA++
			case lb.ID():
				refB++
			}
		}
		return
	}
	s.waitFor("every storm connection admitted or refused", func() bool {
		a, b, ra, rb := count()
		return int64(a+b+ra+rb) >= dialed
	})
	pr.stopProbe(t)
	hw.check(t, "storm", 64<<20, 16<<20)
	s.mu.Lock()
	openA, openB, refA, refB := count()
	var wrong []ircsock.ListenerFailure
	for _, f := range s.lfails {
		want := sock.ErrMaxConns
		if f.Listener.ID() == lb.ID() {
			want = sock.ErrMaxConnsPerIP
		}
		if f.Op != "limit" || !errors.Is(f.Err, want) {
			wrong = append(wrong, f)
		}
	}
	s.mu.Unlock()
	if openA != maxConns || openB != maxPerIP {
		t.Errorf("admitted %d and %d, want MaxConns %d and MaxConnsPerIP %d", openA, openB, maxConns, maxPerIP)
	}
	if int64(openA+openB+refA+refB) != dialed {
		t.Errorf("admitted %d + refused %d = %d, want the %d that connected", openA+openB, refA+refB, openA+openB+refA+refB, dialed)
	}
	for i, f := range wrong {
		if i < 5 {
			t.Errorf("ListenerFailure Op %q, Err %v: want Op \"limit\" naming the limit hit", f.Op, f.Err)
		}
	}

	// The storm leaves; both listeners admit again.
	mu.Lock()
	for _, c := range conns {
		_ = c.Close()
	}
	conns = nil
	mu.Unlock()
	s.waitFor("Disconnect of every admitted storm connection", func() bool {
		n := 0
		for _, r := range s.byID {
			if r.disc != nil {
				n++
			}
		}
		return n >= maxConns+maxPerIP
	})
	for _, l := range []*ircsock.Listener{la, lb} {
		c := dial(t, s.ctx, "after the storm", addrOf(l))
		c.healthy("recovered")
	}
	good.healthy("after")
}

// countingListener counts Accept calls, to tell a backoff from a spin.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	l.n.Add(1)
	return l.Listener.Accept()
}

const emfileChildEnv = "HOSTILE_EMFILE_CHILD"

// TestAcceptEMFILE runs a Backend in a child process (this test binary
// again) with RLIMIT_NOFILE lowered and every descriptor used up, while
// this process connects clients to it. The listener must back off (a
// handful of Accept calls per second and little CPU, not a spin), report
// the failure once as a ListenerFailure of Op "accept" with errno EMFILE,
// and serve the waiting clients once descriptors are freed.
func TestAcceptEMFILE(t *testing.T) {
	if os.Getenv(emfileChildEnv) == "1" {
		emfileChild(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), rowTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAcceptEMFILE$", "-test.v")
	cmd.Env = append(os.Environ(), emfileChildEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(stdout)
	// until reads the child's output up to a line starting with prefix.
	until := func(prefix string) string {
		t.Helper()
		for sc.Scan() {
			out = append(out, sc.Text())
			if strings.HasPrefix(sc.Text(), prefix) {
				return strings.TrimPrefix(sc.Text(), prefix)
			}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child ended before %q: %q\nstderr: %s", prefix, out, stderr.String())
		return ""
	}
	say := func(s string) {
		if _, err := fmt.Fprintln(stdin, s); err != nil {
			t.Errorf("telling the child %q: %v", s, err)
		}
	}
	addr := until("ADDR ")
	until("FULL")
	var clients []*client
	for i := range 3 {
		c := dial(t, ctx, fmt.Sprintf("waiting %d", i), addr)
		c.send(msgLine(fmt.Sprint("queued ", i)) + "\r\n")
		clients = append(clients, c)
	}
	say("MEASURE")
	res := until("MEASURED ")
	var accepts int
	var cpuUS int64
	if _, err := fmt.Sscanf(res, "accepts=%d cpu_us=%d", &accepts, &cpuUS); err != nil {
		t.Fatalf("child's measure %q: %v", res, err)
	}
	cpu := time.Duration(cpuUS) * time.Microsecond
	t.Logf("out of descriptors for 1s: %d accept calls, %v CPU", accepts, cpu)
	// Backoff doubles from 5 ms to 1 s: about 8 calls in the first second.
	// A spinning loop makes hundreds of thousands.
	if accepts > 50 || cpu > 500*time.Millisecond {
		t.Errorf("listener out of descriptors made %d accept calls and used %v CPU in 1s, want a backoff (<= 50 calls, < 500ms)", accepts, cpu)
	}
	say("FREE")
	until("FREED")
	for i, c := range clients {
		if l, err := c.readLine(); err != nil || l != msgLine(fmt.Sprint("queued ", i)) {
			t.Errorf("client %d after descriptors were freed read %q, %v; want its echo", i, l, err)
		}
	}
	say("DONE")
	_ = stdin.Close()
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("child failed: %v\n%s\nstderr: %s", err, strings.Join(out, "\n"), stderr.String())
	}
}

// emfileChild is the child side of TestAcceptEMFILE.
func emfileChild(t *testing.T) {
	checkLeaks(t)
	lim := syscall.Rlimit{Cur: 256, Max: 256}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim.Max = old.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: ln}
	s := newServer(t, ircsock.Config{}, ircsock.ListenerConfig{Listener: cl, Idle: -1})
	in := bufio.NewScanner(os.Stdin)
	wait := func(want string) {
		if !in.Scan() || in.Text() != want {
			t.Fatalf("child: parent said %q, want %q", in.Text(), want)
		}
	}
	var fillers []*os.File
	defer func() {
		for _, f := range fillers {
			_ = f.Close()
		}
	}()
	fmt.Printf("ADDR %s\n", ln.Addr())
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				t.Fatalf("filling descriptors: %v", err)
			}
			break
		}
		fillers = append(fillers, f)
	}
	fmt.Println("FULL")
	wait("MEASURE")
	// The parent's clients are in the accept queue now. Watch the
	// listener for one second with no descriptor to give it.
	var r0, r1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	a0 := cl.n.Load()
	time.Sleep(time.Second) // the measuring window itself, not a synchronisation
	a1 := cl.n.Load()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
	cpu := time.Duration(syscall.TimevalToNsec(r1.Utime)+syscall.TimevalToNsec(r1.Stime)) -
		time.Duration(syscall.TimevalToNsec(r0.Utime)+syscall.TimevalToNsec(r0.Stime))
	fmt.Printf("MEASURED accepts=%d cpu_us=%d\n", a1-a0, cpu.Microseconds())
	wait("FREE")
	for _, f := range fillers {
		_ = f.Close()
	}
	fillers = nil
	fmt.Println("FREED")
	s.waitFor("the parent's 3 clients served", func() bool {
		n := 0
		for _, r := range s.byID {
			if r.inputs > 0 {
				n++
			}
		}
		return n == 3
	})
	s.mu.Lock()
	var accept []ircsock.ListenerFailure
	for _, f := range s.lfails {
		if f.Op == "accept" {
			accept = append(accept, f)
		}
	}
	s.mu.Unlock()
	if len(accept) == 0 || accept[0].Errno != int(syscall.EMFILE) || !errors.Is(accept[0].Err, syscall.EMFILE) {
		t.Errorf("child: accept failures %v, want at least one with Errno EMFILE", accept)
	}
	wait("DONE")
}
