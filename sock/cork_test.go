package sock

import (
	"bufio"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestUncorkWritesBeforeReturning: Write on a corked wheel only queues,
// and on a plaintext TCP wheel with no writer at work Uncork writes it all
// before it returns, so the queue is empty the moment it does and the
// peer reads every record with no later call.
func TestUncorkWritesBeforeReturning(t *testing.T) {
	srv, cli := tcpPair(t)
	defer cli.Close()
	w, stop := startWheel(t, srv, newRecorder(), WheelConfig{})
	defer stop()

	w.Cork()
	for i := range 20 {
		if err := w.Write(numbered(i)); err != nil {
			t.Fatalf("Write(%d) = %v", i, err)
		}
	}
	if n := w.SendQ(); n != 20*(len(numbered(0))+1) {
		t.Fatalf("SendQ() = %d after 20 Writes on a corked wheel, want all of them queued", n)
	}
	w.Uncork()
	if n := w.SendQ(); n != 0 {
		t.Fatalf("SendQ() = %d right after Uncork, want 0: the write was left to another goroutine", n)
	}
	readNumbered(t, cli, 20)
}

// TestUncorkLeavesTheRestToTheWriter: what the socket will not take
// goes to the wheel's writer, Uncork returns without waiting for the
// peer, and every record arrives in order once the peer reads.
func TestUncorkLeavesTheRestToTheWriter(t *testing.T) {
	srv, cli := tcpPair(t)
	defer cli.Close()
	if err := setWriteBuffer(srv, 4096); err != nil {
		t.Fatal(err)
	}
	w, stop := startWheel(t, srv, newRecorder(), WheelConfig{})
	defer stop()

	const n = 2000 // 800 KB: far past a 4 KiB send buffer and the peer's first receive window
	for i := range n {
		if err := w.Queue(numbered(i)); err != nil {
			t.Fatalf("Queue(%d) = %v", i, err)
		}
	}
	returned := make(chan struct{})
	go func() {
		w.Uncork()
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("Uncork still waiting after 10s with a peer that does not read")
	}
	if w.SendQ() == 0 {
		t.Fatal("SendQ() = 0 with a peer that does not read: 800 KB cannot all be in the kernel")
	}
	readNumbered(t, cli, n)
}

// TestCorkHoldsAtMostCorkMax: a corked wheel whose queue passes corkMax
// is written without an Uncork, so the peer gets every record of a long
// turn while the turn goes on.
func TestCorkHoldsAtMostCorkMax(t *testing.T) {
	srv, cli := tcpPair(t)
	defer cli.Close()
	w, stop := startWheel(t, srv, newRecorder(), WheelConfig{})
	defer stop()

	w.Cork()
	n := corkMax/len(numbered(0)) + 1 // the last Write passes corkMax
	for i := range n {
		if err := w.Write(numbered(i)); err != nil {
			t.Fatalf("Write(%d) = %v", i, err)
		}
	}
	readNumbered(t, cli, n)
	w.Uncork()
}

// TestCorkFromOtherGoroutines: one goroutine corks and uncorks the wheel
// over and over, as a reader does around each read, while another writes
// one record at a time and waits for the peer to get it: every record
// gets out by itself, wherever its Write falls against the cork.
func TestCorkFromOtherGoroutines(t *testing.T) {
	srv, cli := tcpPair(t)
	defer cli.Close()
	w, stop := startWheel(t, srv, newRecorder(), WheelConfig{})
	defer stop()
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(done)
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			w.Cork()
			runtime.Gosched()
			w.Uncork()
		}
	})
	_ = cli.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(cli)
	for i := range 3000 {
		if err := w.Write(numbered(i)); err != nil {
			t.Fatalf("Write(%d) = %v", i, err)
		}
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if want := string(numbered(i)) + "\n"; line != want {
			t.Fatalf("record %d = %.20q, want %.20q", i, line, want)
		}
	}
}

// TestUncorkOverOtherConns: a connection that is not plaintext TCP (a
// net.Pipe here) gets what was queued through its writer, as with Flush.
func TestUncorkOverOtherConns(t *testing.T) {
	srv, cli := net.Pipe()
	defer cli.Close()
	w, stop := runWheel(t, srv, newRecorder(), WheelConfig{})
	defer stop()
	for i := range 5 {
		if err := w.Queue(numbered(i)); err != nil {
			t.Fatalf("Queue(%d) = %v", i, err)
		}
	}
	w.Uncork()
	_ = cli.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(cli)
	for i := range 5 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if want := string(numbered(i)) + "\n"; line != want {
			t.Fatalf("record %d = %.20q, want %.20q", i, line, want)
		}
	}
}
