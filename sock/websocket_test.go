package sock

import (
	"testing"
	"unicode/utf8"
)

// checkPieces feeds b to a utf8Stream cut at the given offsets.
func checkPieces(b []byte, cuts []int) bool {
	var v utf8Stream
	prev := 0
	for _, c := range cuts {
		if c < prev || c > len(b) {
			continue
		}
		if !v.feed(b[prev:c]) {
			return false
		}
		prev = c
	}
	return v.feed(b[prev:]) && v.complete()
}

func TestUTF8Stream(t *testing.T) {
	cases := []struct {
		name string
		in   string
	}{
		{"ascii", "PRIVMSG #a :hello"},
		{"two-byte", "héllo"},
		{"three-byte", "€uro"},
		{"four-byte", "emoji 😀 end"},
		{"invalid byte", "bad \xff here"},
		{"cut sequence at end", "cut \xe2\x82"},
		{"overlong", "\xc0\xaf"},
		{"surrogate", "\xed\xa0\x80"},
		{"lone continuation", "\x80abc"},
		{"empty", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.in)
			want := utf8.Valid(b)
			for i := 0; i <= len(b); i++ {
				for j := i; j <= len(b); j++ {
					if got := checkPieces(b, []int{i, j}); got != want {
						t.Fatalf("%q cut at %d and %d: valid = %v, want %v", tc.in, i, j, got, want)
					}
				}
			}
		})
	}
}

// FuzzUTF8Stream checks that validating a message in pieces agrees with
// utf8.Valid on the whole, wherever it is cut.
func FuzzUTF8Stream(f *testing.F) {
	f.Add([]byte("héllo 😀"), uint8(3), uint8(7))
	f.Add([]byte("\xf0\x9f\x98"), uint8(1), uint8(2))
	f.Add([]byte("a\xffb"), uint8(0), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, c1, c2 uint8) {
		i, j := int(c1), int(c2)
		if i > j {
			i, j = j, i
		}
		if got, want := checkPieces(b, []int{min(i, len(b)), min(j, len(b))}), utf8.Valid(b); got != want {
			t.Fatalf("%q cut at %d, %d: valid = %v, want %v", b, i, j, got, want)
		}
	})
}
