package ircsock

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestRemovedListenersForgotten checks that a Backend that keeps adding
// and removing listeners keeps a bounded list of them to wait for.
func TestRemovedListenersForgotten(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	b := New(Config{})
	go func() {
		for range b.Events() {
		}
	}()
	for i := 0; i < 50; i++ {
		l, err := b.CreateListener(ListenerConfig{Addr: "127.0.0.1:0"})
		if err != nil {
			t.Fatalf("CreateListener #%d = %v", i, err)
		}
		if err := b.RemoveListener(l.ID()); err != nil {
			t.Fatalf("RemoveListener #%d = %v", i, err)
		}
	}
	b.mu.RLock()
	n := len(b.socks)
	b.mu.RUnlock()
	if n > 2 {
		t.Errorf("after 50 create/remove cycles the Backend holds %d listeners, want at most 2", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
}
