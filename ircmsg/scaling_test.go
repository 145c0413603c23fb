package ircmsg_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ircsock/ircsock/ircmsg"
)

// tagLine is "@p0;p1;...;pN-1 CMD" (or one key N times with dup).
func tagLine(n int, prefix string, dup bool) []byte {
	var b strings.Builder
	b.WriteByte('@')
	for i := range n {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(prefix)
		if !dup {
			b.WriteString(strconv.Itoa(i))
		}
	}
	b.WriteString(" CMD")
	return []byte(b.String())
}

// TestParseTagsScaleLinearly parses a tag section of n and of 10n tags
// (unique, duplicated and client-only keys) and compares the times: a
// linear parse takes about 10 times as long for 10 times the tags, a
// quadratic duplicate check 100 times. The comparison is a ratio within
// one run, not a time limit: the two sizes alternate and each keeps its
// fastest of several tries, so load on a shared machine slows both alike
// and a descheduled try is discarded. The bound, 40, sits between the two.
func TestParseTagsScaleLinearly(t *testing.T) {
	const small, factor, tries, bound = 10_000, 10, 15, 40
	lim := ircmsg.Limits{TagBytes: -1, ClientTagBytes: -1}
	rows := []struct {
		name   string
		prefix string
		dup    bool
		tags   func(n int) int
	}{
		{"unique keys", "t", false, func(n int) int { return n }},
		{"one key repeated", "t", true, func(int) int { return 1 }},
		{"client-only keys", "+c", false, func(n int) int { return n }},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			sizes := []int{small, small * factor}
			lines := [][]byte{tagLine(sizes[0], tc.prefix, tc.dup), tagLine(sizes[1], tc.prefix, tc.dup)}
			best := []time.Duration{-1, -1}
			var m ircmsg.Message
			for range tries {
				for i, line := range lines {
					start := time.Now()
					err := lim.ParseInto(&m, line)
					d := time.Since(start)
					if err != nil {
						t.Fatalf("ParseInto(%d tags): %v", sizes[i], err)
					}
					if got, want := len(m.Tags), tc.tags(sizes[i]); got != want {
						t.Fatalf("ParseInto(%d tags) kept %d tags, want %d", sizes[i], got, want)
					}
					if best[i] < 0 || d < best[i] {
						best[i] = d
					}
				}
			}
			ratio := float64(best[1]) / float64(max(best[0], time.Microsecond))
			t.Logf("%d tags: %v, %d tags: %v, ratio %.1f", sizes[0], best[0], sizes[1], best[1], ratio)
			if ratio > bound {
				t.Errorf("%d times the tags took %.1f times as long (%v vs %v), want at most %d: the parse grows faster than linearly",
					factor, ratio, best[1], best[0], bound)
			}
		})
	}
}
