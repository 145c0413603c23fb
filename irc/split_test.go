package irc

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ircsock/ircsock/ircmsg"
)

const testSource = "gopher!~gopher@user/gopher/host.example.net"

// checkPieces checks the promises of Splitter.Split: each piece fits the
// line as the receiver sees it, joins give the text back, every cut is at
// an atom boundary, and a cut is after a space whenever the piece had a
// space to end at.
func checkPieces(t *testing.T, s Splitter, command, target, text string, pieces []string) {
	t.Helper()
	lineLen := s.LineLen
	if lineLen <= 0 { // as Splitter.room reads it
		lineLen = 512
	}
	src := s.Source
	if src == "" {
		src = strings.Repeat("s", DefaultSourceLen)
	}
	for i, p := range pieces {
		if p == "" {
			t.Fatalf("piece %d is empty", i)
		}
		m := &ircmsg.Message{Source: src, Command: command, Params: []string{target, p}}
		line, err := ircmsg.Format{Colonify: true, Limits: ircmsg.Limits{BodyBytes: -1}}.Append(nil, m)
		if err != nil {
			t.Fatalf("piece %d does not format: %v", i, err)
		}
		if n := len(line) + 2; n > lineLen {
			t.Fatalf("piece %d makes a %d-byte line, more than %d: %q", i, n, lineLen, line)
		}
	}
	if got := strings.Join(pieces, ""); got != text {
		t.Fatalf("joined pieces = %q, want %q", got, text)
	}
	bounds := map[int]bool{0: true}
	for i := 0; i < len(text); {
		i += atomLen(text, i)
		bounds[i] = true
	}
	off := 0
	for i, p := range pieces[:max(len(pieces)-1, 0)] {
		off += len(p)
		if !bounds[off] {
			t.Fatalf("piece %d ends at byte %d, inside a character or formatting code", i, off)
		}
		if !strings.HasSuffix(p, " ") && strings.Contains(p, " ") {
			t.Fatalf("piece %d has a space but does not end after one: %q", i, p)
		}
	}
}

func TestSplitFits(t *testing.T) {
	words := strings.Repeat("lorem ipsum dolor sit amet ", 200)
	cases := []struct {
		name string
		s    Splitter
		text string
	}{
		{"short", Splitter{Source: testSource}, "hello"},
		{"words", Splitter{Source: testSource}, words},
		{"no spaces", Splitter{Source: testSource}, strings.Repeat("x", 3000)},
		{"utf-8 no spaces", Splitter{Source: testSource}, strings.Repeat("héllo→世界🙂", 300)},
		{"colours", Splitter{Source: testSource}, strings.Repeat("\x0304,12red on blue\x03 \x02bold\x02 \x04FF00AA,00ff00hex\x04", 80)},
		{"colour codes only", Splitter{Source: testSource}, strings.Repeat("\x0312,05", 500)},
		{"unknown source", Splitter{}, words},
		{"long line", Splitter{Source: testSource, LineLen: 2048}, words},
		{"invalid utf-8", Splitter{Source: testSource}, strings.Repeat("\xff\xfe ab\xe2\x82", 400)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pieces, err := tc.s.Split("PRIVMSG", "#channel", tc.text)
			if err != nil {
				t.Fatal(err)
			}
			checkPieces(t, tc.s, "PRIVMSG", "#channel", tc.text, pieces)
			if len(tc.text) > 512 && len(pieces) < 2 {
				t.Errorf("%d bytes in %d piece(s)", len(tc.text), len(pieces))
			}
		})
	}
}

func TestSplitExactRoom(t *testing.T) {
	s := Splitter{Source: testSource}
	room := s.room("PRIVMSG", "#c")
	for _, n := range []int{room - 1, room, room + 1} {
		text := strings.Repeat("a", n)
		pieces, err := s.Split("PRIVMSG", "#c", text)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if n > room {
			want = 2
		}
		if len(pieces) != want {
			t.Errorf("%d bytes with %d of room: %d pieces, want %d", n, room, len(pieces), want)
		}
		checkPieces(t, s, "PRIVMSG", "#c", text, pieces)
	}
	// A line of exactly LineLen bytes is allowed: measure it.
	pieces, _ := s.Split("PRIVMSG", "#c", strings.Repeat("a", room))
	line, _ := ircmsg.Format{Colonify: true}.Append(nil, &ircmsg.Message{Source: testSource, Command: "PRIVMSG", Params: []string{"#c", pieces[0]}})
	if len(line)+2 != 512 {
		t.Errorf("a full piece makes a %d-byte line, want 512", len(line)+2)
	}
}

func TestSplitDoesNotCutColour(t *testing.T) {
	s := Splitter{Source: testSource}
	room := s.room("PRIVMSG", "#c")
	// Put "\x0345,67" across the room boundary at every offset.
	for k := 1; k < len("\x0345,67"); k++ {
		text := strings.Repeat("a", room-k) + "\x0345,67tail"
		pieces, err := s.Split("PRIVMSG", "#c", text)
		if err != nil {
			t.Fatal(err)
		}
		if len(pieces) != 2 || !strings.HasPrefix(pieces[1], "\x0345,67") {
			t.Errorf("offset %d: pieces %q", k, pieces)
		}
	}
}

func TestSplitCTCPAction(t *testing.T) {
	s := Splitter{Source: testSource}
	words := strings.Repeat("dances wildly ", 100)
	text := "\x01ACTION " + words + "\x01"
	pieces, err := s.Split("PRIVMSG", "#c", text)
	if err != nil {
		t.Fatal(err)
	}
	if len(pieces) < 3 {
		t.Fatalf("%d pieces", len(pieces))
	}
	var joined strings.Builder
	for i, p := range pieces {
		c, ok := ParseCTCP(p)
		if !ok || c.Command != "ACTION" || !strings.HasSuffix(p, "\x01") {
			t.Fatalf("piece %d is not a closed ACTION frame: %q", i, p)
		}
		joined.WriteString(c.Params)
	}
	if joined.String() != words {
		t.Errorf("joined ACTION text differs")
	}
	for i, p := range pieces {
		if n := len(":"+testSource+" PRIVMSG #c :"+p) + 2; n > 512 {
			t.Errorf("piece %d makes a %d-byte line", i, n)
		}
	}
	// A short frame is not touched.
	pieces, _ = s.Split("PRIVMSG", "#c", "\x01ACTION waves\x01")
	if len(pieces) != 1 || pieces[0] != "\x01ACTION waves\x01" {
		t.Errorf("short ACTION: %q", pieces)
	}
}

func TestSplitErrors(t *testing.T) {
	s := Splitter{Source: testSource}
	for _, text := range []string{"a\r\nQUIT", "a\nb", "a\x00"} {
		if _, err := s.Split("PRIVMSG", "#c", text); !errors.Is(err, ircmsg.ErrBadByte) {
			t.Errorf("Split(%q) err = %v, want ErrBadByte", text, err)
		}
	}
	long := strings.Repeat("t", 500)
	if _, err := s.Split("PRIVMSG", long, "hello"); !errors.Is(err, ErrSplitNoRoom) {
		t.Errorf("Split with a 500-byte target: err = %v, want ErrSplitNoRoom", err)
	}
	tight := Splitter{Source: testSource, LineLen: 1 + len(testSource) + 1 + len("PRIVMSG #c :") + 1 + 2}
	if got := tight.room("PRIVMSG", "#c"); got != 1 {
		t.Fatalf("room = %d, want 1", got)
	}
	if pieces, err := tight.Split("PRIVMSG", "#c", "ab"); err != nil || len(pieces) != 2 {
		t.Errorf("1 byte of room, 2 ASCII bytes: %q, %v", pieces, err)
	}
	if _, err := tight.Split("PRIVMSG", "#c", "éé"); !errors.Is(err, ErrSplitNoRoom) {
		t.Errorf("1 byte of room for a 2-byte rune: err = %v, want ErrSplitNoRoom", err)
	}
	if pieces, err := s.Split("PRIVMSG", "#c", ""); err != nil || len(pieces) != 0 {
		t.Errorf("Split(empty) = %q, %v", pieces, err)
	}
	if _, err := s.Split("PRIVMSG", "#c", "\x01"+strings.Repeat("A", 600)+"\x01"); !errors.Is(err, ErrSplitNoRoom) {
		t.Errorf("huge CTCP command: err = %v, want ErrSplitNoRoom", err)
	}
}

func TestSplitMessage(t *testing.T) {
	s := Splitter{Source: testSource}
	text := strings.Repeat("word ", 300)
	m := &ircmsg.Message{Tags: []ircmsg.Tag{{Key: "+draft/reply", Value: "1"}}, Command: "NOTICE", Params: []string{"#c", text}}
	msgs, err := s.SplitMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	var joined strings.Builder
	for _, sm := range msgs {
		if sm.Command != "NOTICE" || sm.Params[0] != "#c" || len(sm.Tags) != 1 {
			t.Fatalf("split message %v", sm)
		}
		joined.WriteString(sm.Params[1])
	}
	if joined.String() != text {
		t.Error("joined texts differ")
	}
	join := &ircmsg.Message{Command: "JOIN", Params: []string{"#c"}}
	if msgs, err := s.SplitMessage(join); err != nil || len(msgs) != 1 || msgs[0] != join {
		t.Errorf("SplitMessage(JOIN) = %v, %v", msgs, err)
	}
}

func TestSplitRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", " ", "  ", "é", "世", "🙂", "\x02", "\x03", "\x034", "\x0312,3", "\x04ABCDEF", ",", "1", "\xff", "\x01"}
	for i := range 500 {
		var b strings.Builder
		n := r.IntN(3000)
		for b.Len() < n {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		text := b.String()
		s := Splitter{Source: testSource, LineLen: 200 + r.IntN(400)}
		pieces, err := s.Split("PRIVMSG", "#c", text)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if c, ok := ParseCTCP(text); ok && len(pieces) > 1 && strings.HasSuffix(text, "\x01") {
			_ = c
			continue // a frame, checked by TestSplitCTCPAction
		}
		checkPieces(t, s, "PRIVMSG", "#c", text, pieces)
		if utf8.ValidString(text) {
			for _, p := range pieces {
				if !utf8.ValidString(p) {
					t.Fatalf("case %d: a piece of valid UTF-8 is not valid: %q", i, p)
				}
			}
		}
	}
}

func BenchmarkSplit(b *testing.B) {
	s := Splitter{Source: testSource}
	text := strings.Repeat("lorem ipsum \x02dolor\x02 sit \x0304amet\x03, ", 125) // 5,000 bytes
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := s.Split("PRIVMSG", "#channel", text); err != nil {
			b.Fatal(err)
		}
	}
}
