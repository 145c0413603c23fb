//go:build !race

// The race detector adds allocations of its own, so these counts hold only
// without it.

package ircmsg_test

import (
	"testing"

	"github.com/ircsock/ircsock/ircmsg"
)

// TestAllocs pins the allocation counts the package documents: one per
// parse into a reused Message, none per Parser.Parse once its buffer has
// grown, none per Append into a buffer with room.
// Counts, not times: they do not depend on the machine's load.
func TestAllocs(t *testing.T) {
	lines, _ := benchCorpus()
	var m ircmsg.Message
	// A Parser and its Message grown on the whole corpus first: from then
	// on a parse allocates nothing.
	var p ircmsg.Parser
	var pm ircmsg.Message
	for _, l := range lines {
		if err := p.Parse(&pm, l); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range lines[:200] {
		if got := testing.AllocsPerRun(20, func() {
			if err := m.Parse(l); err != nil {
				t.Fatal(err)
			}
		}); got != 1 {
			t.Errorf("Parse(%.50q...) allocations = %v, want 1", l, got)
		}
		if got := testing.AllocsPerRun(20, func() {
			if err := p.Parse(&pm, l); err != nil {
				t.Fatal(err)
			}
		}); got != 0 {
			t.Errorf("Parser.Parse(%.50q...) allocations = %v, want 0", l, got)
		}
		buf := make([]byte, 0, 16384)
		for _, f := range []ircmsg.Format{{}, {Colonify: true}} {
			if got := testing.AllocsPerRun(20, func() {
				var err error
				if buf, err = f.Append(buf[:0], &m); err != nil && !f.Colonify {
					t.Fatal(err)
				}
			}); got != 0 {
				t.Errorf("%+v.Append(%.50q...) allocations = %v, want 0", f, l, got)
			}
		}
	}
}
