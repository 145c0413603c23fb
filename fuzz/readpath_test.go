package fuzz

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ircsock/ircsock/filter"
	"github.com/ircsock/ircsock/ircmsg"
)

// readPath decodes chunks the way a connection does: a Stack holding one
// Line of the given Max, each record parsed by the IRCv3 codec. It returns
// one entry per record: the message (%q of its fields) or the error.
func readPath(t *testing.T, max int, chunks [][]byte) []string {
	st := filter.NewStack(&filter.Line{Max: max})
	codec := filter.IRCv3{}
	var out []string
	for _, c := range chunks {
		st.Feed(c)
		for {
			rec, ok, err := st.Next()
			if err != nil {
				if !filter.IsRecordError(err) || !errors.Is(err, filter.ErrLineTooLong) {
					t.Fatalf("Next: %v, want only per-record ErrLineTooLong", err)
				}
				out = append(out, "too long")
				continue
			}
			if !ok {
				break
			}
			m, err := codec.Decode(rec)
			if err != nil {
				if !filter.IsRecordError(err) {
					t.Fatalf("Decode(%q): fatal %v, want a per-record error", rec, err)
				}
				out = append(out, "error: "+err.Error())
				continue
			}
			checkMessage(t, rec, m)
			out = append(out, fmt.Sprintf("%q %q %q %q", m.Tags, m.Source, m.Command, m.Params))
		}
	}
	return out
}

// checkMessage holds for every message hostile bytes can produce: no CR,
// LF or NUL outside tag values, no NUL in them (IRCv3 escapes CR and LF
// in values, but has no escape for NUL), and if it can be written at all,
// it reads back the same.
func checkMessage(t *testing.T, rec []byte, m *ircmsg.Message) {
	fields := []string{m.Source, m.Command}
	fields = append(fields, m.Params...)
	for _, tg := range m.Tags {
		fields = append(fields, tg.Key)
		if strings.Contains(tg.Value, "\x00") {
			t.Fatalf("line %q gave tag %q a value with NUL", rec, tg.Key)
		}
	}
	for _, f := range fields {
		if strings.ContainsAny(f, "\r\n\x00") {
			t.Fatalf("line %q gave a field %q with CR, LF or NUL", rec, f)
		}
	}
	wire, err := ircmsg.Format{Limits: ircmsg.Limits{TagBytes: -1, ClientTagBytes: -1, BodyBytes: -1}}.Append(nil, m)
	if err != nil {
		return // refusing to write is allowed (a middle param with a space cannot come from a parse, but a key can be invalid)
	}
	back, err := ircmsg.ParseString(string(wire))
	if err != nil {
		// The default limits may refuse what unlimited formatting wrote.
		return
	}
	if fmt.Sprint(back) != fmt.Sprint(m) {
		t.Fatalf("line %q: parse, format %q, parse = %+v, want %+v", rec, wire, back, m)
	}
}

// FuzzReadPath feeds arbitrary bytes through a connection's read path
// (Stack[Line] then the IRCv3 codec) whole and in random chunks: every
// chunking gives the same messages and errors, nothing panics, no message
// carries CR, LF or NUL, and a MessageReader over the same bytes agrees.
func FuzzReadPath(f *testing.F) {
	seeds := []string{
		"PRIVMSG #t :hello\r\n",
		"@a=b;c=\\s\\:\\\\;d=\\ :n!u@h PRIVMSG #t :x y\r\nPING\n\r\n",
		"@\r\n \r\n:\r\n: X\r\n@a PING\rPONG\n\x00\r\n",
		"\xff\xfe PRIVMSG \xc3\x28 :\xed\xa0\x80\n",
		strings.Repeat("a", 300) + "\nPING x\n",
		"@" + strings.Repeat("k;", 100) + " CMD\r\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint64(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		max := 16 + int(seed%300)
		whole := readPath(t, max, [][]byte{data})
		rng := rand.New(rand.NewPCG(seed, seed>>7))
		var chunks [][]byte
		for rest := data; len(rest) > 0; {
			n := 1 + rng.IntN(len(rest))
			if rng.IntN(3) == 0 {
				n = 1
			}
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		if got := readPath(t, max, chunks); !slices.Equal(got, whole) {
			t.Fatalf("chunked %d ways: %q\nwhole: %q", len(chunks), got, whole)
		}

		// The io face: a MessageReader skips empty lines, returns an
		// unterminated last line as a last record (as bufio.Scanner
		// does), and stops at the end; what it returns matches the Stack
		// path over the same bytes with that line ended.
		ended := whole
		if len(data) > 0 && data[len(data)-1] != '\n' {
			ended = readPath(t, max, [][]byte{append(bytes.Clone(data), '\n')})
		}
		var want []string
		for _, w := range ended {
			if !strings.Contains(w, ircmsg.ErrEmpty.Error()) {
				want = append(want, w)
			}
		}
		mr := filter.NewMessageReader(bytes.NewReader(data), filter.NewStack(&filter.Line{Max: max}), filter.IRCv3{})
		mr.Reader().ReadSize = 1 + int(seed%64)
		var got []string
		for {
			m, err := mr.ReadMessage()
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			if err != nil {
				if !filter.IsRecordError(err) {
					t.Fatalf("ReadMessage: fatal %v", err)
				}
				if errors.Is(err, filter.ErrLineTooLong) {
					got = append(got, "too long")
				} else {
					got = append(got, "error: "+err.Error())
				}
				continue
			}
			got = append(got, fmt.Sprintf("%q %q %q %q", m.Tags, m.Source, m.Command, m.Params))
		}
		if len(got) != len(want) {
			t.Fatalf("MessageReader gave %d results, Stack path %d:\n%q\n%q", len(got), len(want), got, want)
		}

		// ReadInto, into one reused Message through the reader's one
		// reused line buffer, gives exactly what ReadMessage gave.
		mr = filter.NewMessageReader(bytes.NewReader(data), filter.NewStack(&filter.Line{Max: max}), filter.IRCv3{})
		mr.Reader().ReadSize = 1 + int(seed>>8%64)
		var into []string
		var m ircmsg.Message
		for {
			err := mr.ReadInto(&m)
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			switch {
			case err == nil:
				into = append(into, fmt.Sprintf("%q %q %q %q", m.Tags, m.Source, m.Command, m.Params))
			case !filter.IsRecordError(err):
				t.Fatalf("ReadInto: fatal %v", err)
			case errors.Is(err, filter.ErrLineTooLong):
				into = append(into, "too long")
			default:
				into = append(into, "error: "+err.Error())
			}
		}
		if !slices.Equal(into, got) {
			t.Fatalf("ReadInto and ReadMessage disagree:\n%q\n%q", into, got)
		}
		for i := range got {
			// Error texts may differ by wrapping; compare kinds and messages.
			if strings.HasPrefix(got[i], "error: ") != strings.HasPrefix(want[i], "error: ") ||
				(!strings.HasPrefix(got[i], "error: ") && got[i] != want[i]) {
				t.Fatalf("result %d: MessageReader %q, Stack path %q", i, got[i], want[i])
			}
		}
	})
}
