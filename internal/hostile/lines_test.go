package hostile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ircsock/ircsock"
	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
)

// msgLine is a PRIVMSG whose echo comes back byte for byte: its last
// parameter holds a space, so the formatter keeps the ':'.
func msgLine(tag string) string { return "PRIVMSG #t :hello " + tag }

// lineRow is one row of the lines matrix: bytes a hostile client sends,
// then what the controller must have seen from it.
type lineRow struct {
	name string
	send func(c *client)
	// echoes are lines the offending client must get back, in order, after
	// its hostile bytes (the row's own good lines); "after" is added.
	echoes []string
	// wantErrs are the sentinels of the InputErrors, in order.
	wantErrs []error
	// wantInputs is the number of Input events, the final good line
	// included.
	wantInputs int
	// heap bounds the heap growth while the row runs (0: 8 MiB), settled
	// what stays after a GC (0: 2 MiB; the controller keeps the messages).
	heap, settled uint64
	check         func(t *testing.T, r connRec)
}

// runLineRow runs one row on a fresh Backend with cfg: a healthy client is
// probed during and after, the heap watched, goroutines checked.
func runLineRow(t *testing.T, cfg ircsock.Config, tc lineRow, onInput func(*ircsock.Conn, *ircmsg.Message) bool) {
	checkLeaks(t)
	s := newServer(t, cfg, ircsock.ListenerConfig{Idle: -1})
	s.hook(func(h *hooks) { h.onInput = onInput })
	s.hook(func(h *hooks) { h.keepMsgs = true })
	good := dial(t, s.ctx, "good", s.addr())
	good.healthy("before")
	bad := dial(t, s.ctx, "bad", s.addr())
	s.rec(bad)

	hw := watchHeap(t)
	p := startProber(good)
	tc.send(bad)
	after := msgLine("after the hostile bytes")
	bad.send(after + "\r\n")
	var got []string
	for _, want := range append(append([]string(nil), tc.echoes...), after) {
		l, err := bad.readLine()
		if err != nil {
			t.Fatalf("offending client: reading echo %q: %v (got %q)", trunc(want), err, got)
		}
		got = append(got, l)
		if l != want {
			t.Fatalf("offending client: echo %d = %q, want %q", len(got)-1, trunc(l), trunc(want))
		}
	}
	p.stopProbe(t)
	limit := tc.heap
	if limit == 0 {
		limit = 8 << 20
	}
	settled := tc.settled
	if settled == 0 {
		settled = 2 << 20
	}
	hw.check(t, tc.name, limit, settled)
	good.healthy("after")

	r := s.snapshot(bad)
	if r.disc != nil {
		t.Errorf("offending client disconnected (%q, %v), want the connection to go on", r.disc.Reason, r.disc.Err)
	}
	if r.inputs != tc.wantInputs {
		t.Errorf("Input events = %d, want %d", r.inputs, tc.wantInputs)
	}
	if r.nInErrs != len(tc.wantErrs) {
		t.Errorf("InputError events = %d (%v), want %d (%v)", r.nInErrs, r.inErrs, len(tc.wantErrs), tc.wantErrs)
	} else {
		for i, want := range tc.wantErrs {
			if !errors.Is(r.inErrs[i], want) {
				t.Errorf("InputError %d = %v, want one wrapping %v", i, r.inErrs[i], want)
			}
		}
	}
	if tc.check != nil {
		tc.check(t, r)
	}
}

func TestLines(t *testing.T) {
	const maxLine = ircsock.DefaultMaxLine
	// tagSection returns a tag section ("@k=vvv ") of exactly n bytes,
	// '@' and the space included.
	tagSection := func(n int) string {
		return "@k=" + strings.Repeat("v", n-4) + " "
	}
	rows := []lineRow{
		{
			name: "endless line of 16 MiB without newline",
			send: func(c *client) {
				chunk := bytes.Repeat([]byte("a"), 64<<10)
				for range 256 {
					if err := c.write(chunk); err != nil {
						c.t.Fatalf("writing the endless line: %v", err)
					}
				}
				c.send("\r\n")
			},
			wantErrs:   []error{filter.ErrLineTooLong},
			wantInputs: 1,
			heap:       4 << 20,
		},
		{
			name: "line over the limit then normal lines",
			send: func(c *client) {
				c.send(strings.Repeat("x", maxLine+1) + "\r\n" +
					msgLine("1") + "\r\n" + msgLine("2") + "\n" + msgLine("3") + "\r\n")
			},
			echoes:     []string{msgLine("1"), msgLine("2"), msgLine("3")},
			wantErrs:   []error{filter.ErrLineTooLong},
			wantInputs: 4,
		},
		{
			name: "line of exactly the limit is not too long",
			send: func(c *client) {
				// Parsed, so it fails on the body limit, not the framer's.
				c.send("PRIVMSG #t :" + strings.Repeat("x", maxLine-12) + "\r\n")
			},
			wantErrs:   []error{ircmsg.ErrBodyTooLong},
			wantInputs: 1,
		},
		{
			name: "lone CR inside and before the terminator",
			send: func(c *client) {
				c.send("PRIVMSG #t :a\rb\r\n\r\r\nPING\rPONG\n")
			},
			wantErrs:   []error{ircmsg.ErrBadByte, ircmsg.ErrBadByte, ircmsg.ErrBadByte},
			wantInputs: 1,
		},
		{
			name: "NUL bytes",
			send: func(c *client) {
				c.send("PRIVMSG #t :a\x00b\r\n\x00\r\n@a=\x00 PING x\r\n")
			},
			wantErrs:   []error{ircmsg.ErrBadByte, ircmsg.ErrBadByte, ircmsg.ErrBadByte},
			wantInputs: 1,
		},
		{
			name: "invalid UTF-8 passes through as bytes",
			send: func(c *client) {
				c.send("PRIVMSG #t :\xff\xfe \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80\r\n")
			},
			echoes:     []string{"PRIVMSG #t :\xff\xfe \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80"},
			wantInputs: 2,
			check: func(t *testing.T, r connRec) {
				want := "\xff\xfe \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80"
				if got := r.msgs[0].Params; len(got) != 2 || got[1] != want {
					t.Errorf("Params = %q, want [#t %q]", got, want)
				}
			},
		},
		{
			name: "empty lines",
			send: func(c *client) {
				c.send("\r\n\n\r\n" + msgLine("between") + "\r\n\n")
			},
			echoes: []string{msgLine("between")},
			// Every empty line is reported, not silently dropped: the
			// Backend parses each record and ircmsg refuses empty ones.
			wantErrs:   []error{ircmsg.ErrEmpty, ircmsg.ErrEmpty, ircmsg.ErrEmpty, ircmsg.ErrEmpty},
			wantInputs: 2,
		},
		{
			name: "only spaces",
			send: func(c *client) {
				c.send("     \r\n \n")
			},
			wantErrs:   []error{ircmsg.ErrNoCommand, ircmsg.ErrNoCommand},
			wantInputs: 1,
		},
		{
			name: "tags only",
			send: func(c *client) {
				c.send("@a=b;c \r\n@a=b\r\n@\r\n@a=b :src\r\n")
			},
			wantErrs:   []error{ircmsg.ErrNoCommand, ircmsg.ErrNoCommand, ircmsg.ErrNoCommand, ircmsg.ErrNoCommand},
			wantInputs: 1,
		},
		{
			name: "tag section of 8191 bytes, 8192 bytes and 20000 bytes",
			send: func(c *client) {
				c.send(tagSection(8191) + msgLine("max tags") + "\r\n" +
					tagSection(8192) + msgLine("too many") + "\r\n" +
					tagSection(20000) + msgLine("far too many") + "\r\n")
			},
			echoes:     []string{tagSection(8191) + msgLine("max tags")},
			wantErrs:   []error{ircmsg.ErrTagsTooLong, filter.ErrLineTooLong},
			wantInputs: 2,
		},
		{
			name: "1400 tiny tags within the limit",
			send: func(c *client) {
				c.send(tinyTags(1400, "t", false) + " " + msgLine("tiny") + "\r\n")
			},
			echoes:     []string{tinyTags(1400, "t", false) + " " + msgLine("tiny")},
			wantInputs: 2,
			check: func(t *testing.T, r connRec) {
				if n := len(r.msgs[0].Tags); n != 1400 {
					t.Errorf("tags parsed = %d, want 1400", n)
				}
			},
		},
		{
			name: "malformed escapes",
			send: func(c *client) {
				c.send(`@a=\;b=x\s\:\\;c=\q;d=\;e=end\ ` + msgLine("escapes") + "\r\n")
			},
			echoes:     []string{`@a;b=x\s\:\\;c=q;d;e=end ` + msgLine("escapes")},
			wantInputs: 2,
			check: func(t *testing.T, r connRec) {
				// IRCv3 message-tags: \: ; \s space \\ backslash, any
				// other escaped character stands for itself, and a lone
				// backslash at the end is dropped.
				want := []ircmsg.Tag{{Key: "a"}, {Key: "b", Value: "x ;\\"}, {Key: "c", Value: "q"}, {Key: "d"}, {Key: "e", Value: "end"}}
				if got := r.msgs[0].Tags; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("Tags = %q, want %q", got, want)
				}
			},
		},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			runLineRow(t, ircsock.Config{}, tc, nil)
		})
	}
}

// tinyTags returns "@p0;p1;...;pN-1" (or n times "@p;p;..." with dup),
// with an optional client-only '+'.
func tinyTags(n int, prefix string, dup bool) string {
	var b strings.Builder
	b.WriteByte('@')
	for i := range n {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(prefix)
		if !dup {
			fmt.Fprintf(&b, "%d", i)
		}
	}
	return b.String()
}

// TestLinesTinyTagFlood sends 100,000 tags in one line to a Backend whose
// limits allow it (unique, duplicated and client-only keys): every tag is
// parsed, the connection goes on and the heap stays bounded. That the
// parse grows linearly with the number of tags is proven in ircmsg
// (TestParseTagsScaleLinearly), by a ratio of two sizes within one run; a
// time limit here would measure the machine's load, so the time from
// write to Input is only logged.
func TestLinesTinyTagFlood(t *testing.T) {
	const n = 100_000
	cfg := ircsock.Config{
		MaxLine: 2 << 20,
		Format:  ircmsg.Format{Limits: ircmsg.Limits{TagBytes: -1, ClientTagBytes: -1}},
	}
	rows := []struct {
		name     string
		tags     string
		wantTags int
	}{
		{"unique keys", tinyTags(n, "t", false), n},
		{"one key repeated", tinyTags(n, "t", true), 1},
		{"client-only keys", tinyTags(n, "+c", false), n},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			var took, start atomic.Int64 // nanoseconds; set and read on different goroutines
			row := lineRow{
				name: tc.name,
				send: func(c *client) {
					start.Store(time.Now().UnixNano())
					c.send(tc.tags + " " + msgLine("flood") + "\r\n")
				},
				wantInputs: 2,
				heap:       64 << 20,
				settled:    16 << 20,
				check: func(t *testing.T, r connRec) {
					if got := len(r.msgs[0].Tags); got != tc.wantTags {
						t.Errorf("tags parsed = %d, want %d", got, tc.wantTags)
					}
				},
			}
			// Do not echo the flood: the time logged is the parse.
			runLineRow(t, cfg, row, func(c *ircsock.Conn, m *ircmsg.Message) bool {
				if len(m.Tags) > 0 {
					took.Store(time.Now().UnixNano() - start.Load())
					return false
				}
				return true
			})
			t.Logf("%d tags: %v from write to Input", n, time.Duration(took.Load()))
		})
	}
}
