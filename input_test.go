package ircsock

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/ircsock/ircsock/ircmsg"
)

// TestInputBlockSizes checks that each sized block fills one of the
// runtime's size classes exactly, as input.go says.
func TestInputBlockSizes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"128", unsafe.Sizeof(inputBlock128{}), 288},
		{"256", unsafe.Sizeof(inputBlock256{}), 416},
		{"544", unsafe.Sizeof(inputBlock544{}), 704},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("Sizeof(inputBlock%s) = %d, want %d", tc.name, tc.got, tc.want)
			}
		})
	}
}

// parseBlock does what connHandler.record does with a record.
func parseBlock(t testing.TB, c *Conn, rec []byte) Input {
	blk, line := newInputBlock(rec)
	if err := (ircmsg.Limits{}).ParseOwnedInto(&blk.m, line); err != nil {
		t.Fatalf("parse %q: %v", rec, err)
	}
	blk.conn = c
	return Input{blk}
}

// TestInputRelease checks that a released block comes back for the next
// line of its size, parsed afresh with nothing left of the previous one,
// and that a line too long for any sized block is never pooled.
func TestInputRelease(t *testing.T) {
	c := &Conn{id: 7}
	for _, tc := range []struct {
		name        string
		first, next string
		pooled      bool
	}{
		{"128", "@a=1;b=2 :n!u@h PRIVMSG #c x y z w v :hello there", "PING :x", true},
		{"256", "PRIVMSG #c :" + strings.Repeat("a", 200), "@t=2 NOTICE b :" + strings.Repeat("b", 150), true},
		{"544", "@k=" + strings.Repeat("v", 450) + " PRIVMSG #c :a", "@k=" + strings.Repeat("w", 350) + " QUIT :q", true},
		{"plain", "@k=" + strings.Repeat("v", 600) + " PRIVMSG #c :x", "@k=" + strings.Repeat("w", 600) + " PRIVMSG #c :x", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := parseBlock(t, c, []byte(tc.first))
			first := in.blk
			in.Release()
			if tc.pooled && in.blk.conn != nil {
				t.Errorf("released block still holds its Conn")
			}
			// The race detector's sync.Pool drops a random share of
			// Puts, so the reuse itself is checked without it.
			var reused bool
			for range 8 {
				in2 := parseBlock(t, c, []byte(tc.next))
				reused = in2.blk == first
				want, err := ircmsg.ParseString(tc.next)
				if err != nil {
					t.Fatal(err)
				}
				got := in2.Msg()
				if got.Source != want.Source || got.Command != want.Command ||
					strings.Join(got.Params, "|") != strings.Join(want.Params, "|") || len(got.Tags) != len(want.Tags) {
					t.Fatalf("reparsed block holds %+v, want %+v", *got, *want)
				}
				for i := range want.Tags {
					if got.Tags[i] != want.Tags[i] {
						t.Fatalf("reparsed tags %v, want %v", got.Tags, want.Tags)
					}
				}
				if in2.Conn() != c {
					t.Errorf("Conn() = %p, want %p", in2.Conn(), c)
				}
				if reused || raceEnabled {
					in2.Release()
					break
				}
				in2.Release()
			}
			if !raceEnabled && reused != tc.pooled {
				t.Errorf("block reused = %v, want %v", reused, tc.pooled)
			}
		})
	}
	var zero Input
	zero.Release() // must not panic
}

// TestInputReleaseNoAlloc checks the point of Release: a controller that
// releases every Input makes the parse of a line allocate nothing.
func TestInputReleaseNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops a random share of Puts")
	}
	c := &Conn{id: 1}
	rec := []byte(perfLine)
	parseBlock(t, c, rec).Release()
	if n := testing.AllocsPerRun(1000, func() { parseBlock(t, c, rec).Release() }); n != 0 {
		t.Errorf("parse and Release of %d-byte line: %v allocations, want 0", len(rec), n)
	}
}

// TestInputReleaseTwicePanics checks that a second Release of one Input,
// which would hand one block to two later lines, is caught loudly.
func TestInputReleaseTwicePanics(t *testing.T) {
	in := parseBlock(t, &Conn{id: 3}, []byte(perfLine))
	in.Release()
	defer func() {
		if r := recover(); r != "ircsock: Input released twice" {
			t.Errorf("second Release: recovered %v, want the double-release panic", r)
		}
	}()
	in.Release()
}

// TestReleaseScribbles: under the race detector a released line reads
// "XXXX", so a string a controller keeps past Release fails its tests
// instead of changing only once a later line reuses the block; without
// it Release leaves the bytes alone (it costs nothing).
func TestReleaseScribbles(t *testing.T) {
	for _, n := range []int{0, 200, 400} {
		line := "PRIVMSG #c :" + strings.Repeat("t", n) + "kept"
		blk, buf := newInputBlock([]byte(line))
		if err := (ircmsg.Limits{}).ParseOwnedInto(&blk.m, buf); err != nil {
			t.Fatal(err)
		}
		kept := blk.m.Params[1] // wrongly: not copied before Release
		text := strings.Clone(kept)
		Input{blk}.Release()
		want := text
		if scribbleReleased {
			want = strings.Repeat("X", len(text))
		}
		if kept != want {
			t.Errorf("line of %d bytes: after Release the kept param reads %q, want %q (race detector: %v)", len(line), kept, want, scribbleReleased)
		}
	}
}
