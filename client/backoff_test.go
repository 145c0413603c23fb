package client

import (
	"testing"
	"time"
)

// The wait before a retry doubles per failed try from MinDelay, stops at
// MaxDelay, and loses a random part of up to half to jitter.
func TestBackoff(t *testing.T) {
	c, err := New(Config{Addr: "h:1", Nick: "n", Reconnect: Reconnect{MinDelay: 100 * time.Millisecond, MaxDelay: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		tries int
		full  time.Duration
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second},
		{50, time.Second},
	}
	for _, tc := range cases {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := c.backoff(tc.tries)
			if d < tc.full/2 || d > tc.full {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tc.tries, d, tc.full/2, tc.full)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("backoff(%d): only %d distinct waits in 200 draws: no jitter", tc.tries, len(seen))
		}
	}
	d, err := New(Config{Addr: "h:1", Nick: "n"})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.backoff(100); got > DefaultReconnectMax || got < DefaultReconnectMax/2 {
		t.Errorf("default cap: backoff(100) = %v, want within [%v, %v]", got, DefaultReconnectMax/2, DefaultReconnectMax)
	}
}
