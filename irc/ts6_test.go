package irc

import (
	"errors"
	"sync"
	"testing"
)

func TestTS6Valid(t *testing.T) {
	sids := map[string]bool{"42X": true, "0AA": true, "999": true, "A42": false, "42x": false, "42": false, "4200": false, "": false}
	for s, want := range sids {
		if got := ValidSID(s); got != want {
			t.Errorf("ValidSID(%q) = %v, want %v", s, got, want)
		}
	}
	uids := map[string]bool{"42XAAAAAB": true, "0AAZ99999": true, "42X0AAAAA": false, "42XAAAAAb": false, "42XAAAAA": false, "X42AAAAAA": false, "42XAAAAAAA": false}
	for s, want := range uids {
		if got := ValidUID(s); got != want {
			t.Errorf("ValidUID(%q) = %v, want %v", s, got, want)
		}
	}
	if sid, ok := UIDServer("42XAAAAAB"); sid != "42X" || !ok {
		t.Errorf("UIDServer = %q, %v", sid, ok)
	}
	if _, ok := UIDServer("nope"); ok {
		t.Error("UIDServer(nope) ok")
	}
	if _, err := NewUIDGenerator("X42"); !errors.Is(err, ErrTS6Invalid) {
		t.Errorf("NewUIDGenerator(X42) err = %v", err)
	}
}

func TestUIDGeneratorOrder(t *testing.T) {
	g, err := NewUIDGenerator("42X")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		0: "42XAAAAAA", 1: "42XAAAAAB", 25: "42XAAAAAZ", 26: "42XAAAAA0",
		35: "42XAAAAA9", 36: "42XAAAABA", 36 * 36: "42XAAABAA",
	}
	seen := map[string]bool{}
	for i := 0; i <= 36*36; i++ {
		uid, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ValidUID(uid) {
			t.Fatalf("Next() #%d = %q, not a valid UID", i, uid)
		}
		if seen[uid] {
			t.Fatalf("Next() #%d = %q again", i, uid)
		}
		seen[uid] = true
		if w, ok := want[i]; ok && uid != w {
			t.Errorf("Next() #%d = %q, want %q", i, uid, w)
		}
	}
}

func TestUIDGeneratorExhausted(t *testing.T) {
	g, _ := NewUIDGenerator("42X")
	g.next = [6]byte{'Z', '9', '9', '9', '9', '8'}
	for _, want := range []string{"42XZ99998", "42XZ99999"} {
		if uid, err := g.Next(); uid != want || err != nil {
			t.Fatalf("Next() = %q, %v, want %q", uid, err, want)
		}
	}
	if _, err := g.Next(); !errors.Is(err, ErrUIDsExhausted) {
		t.Errorf("Next() after the last = %v, want ErrUIDsExhausted", err)
	}
}

func TestUIDGeneratorConcurrent(t *testing.T) {
	g, _ := NewUIDGenerator("1AB")
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				uid, err := g.Next()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[uid] {
					t.Errorf("%q handed out twice", uid)
				}
				seen[uid] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 4000 {
		t.Errorf("%d distinct UIDs, want 4000", len(seen))
	}
}
