package irc

import (
	"errors"
	"math/rand/v2"
	"testing"

	"golang.org/x/text/secure/precis"
)

func TestCasemapFold(t *testing.T) {
	cases := []struct {
		cm       Casemap
		in, want string
	}{
		{ASCII, "", ""},
		{ASCII, "Nick", "nick"},
		{ASCII, "[]\\~", "[]\\~"},
		{ASCII, "ÀB", "Àb"}, // non-ASCII bytes untouched
		{RFC1459, "Nick[]\\~", "nick{}|^"},
		{RFC1459, "already{}|^", "already{}|^"},
		{RFC1459, "#Chan^", "#chan^"},
		{StrictRFC1459, "Nick[]\\~", "nick{}|~"},
		{StrictRFC1459, "^", "^"},
		{Casemap(42), "A[", "a["}, // unknown values fold like ASCII
		{Casemap(-1), "A[", "a["},
	}
	for _, tc := range cases {
		t.Run(tc.cm.String()+"/"+tc.in, func(t *testing.T) {
			if got := tc.cm.Fold(tc.in); got != tc.want {
				t.Errorf("%v.Fold(%q) = %q, want %q", tc.cm, tc.in, got, tc.want)
			}
			if !tc.cm.Equal(tc.in, tc.want) {
				t.Errorf("%v.Equal(%q, %q) = false, want true", tc.cm, tc.in, tc.want)
			}
		})
	}
}

func TestCasemapEqualMatchesFold(t *testing.T) {
	// Equal(a, b) must be Fold(a) == Fold(b) for every pair of bytes.
	for _, cm := range []Casemap{ASCII, RFC1459, StrictRFC1459} {
		for a := range 256 {
			for b := range 256 {
				sa, sb := string([]byte{byte(a)}), string([]byte{byte(b)})
				want := cm.Fold(sa) == cm.Fold(sb)
				if got := cm.Equal(sa, sb); got != want {
					t.Fatalf("%v.Equal(%q, %q) = %v, want %v", cm, sa, sb, got, want)
				}
			}
		}
	}
	if RFC1459.Equal("ab", "abc") {
		t.Error(`Equal("ab", "abc") = true, want false`)
	}
}

func TestCasemapFoldNoAlloc(t *testing.T) {
	s := "already{folded}|nick^"
	for _, cm := range []Casemap{ASCII, RFC1459, StrictRFC1459, RFC7613} {
		if n := testing.AllocsPerRun(100, func() { _ = cm.Fold(s) }); n != 0 {
			t.Errorf("%v.Fold(folded) allocates %v times, want 0", cm, n)
		}
		if n := testing.AllocsPerRun(100, func() { _ = cm.Equal(s, "ALREADY[FOLDED]\\NICK~") }); n != 0 {
			t.Errorf("%v.Equal allocates %v times, want 0", cm, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = RFC1459.Fold("NotFolded") }); n != 1 {
		t.Errorf("Fold(unfolded) allocates %v times, want 1", n)
	}
}

func TestCasemapByName(t *testing.T) {
	cases := []struct {
		name string
		want Casemap
		ok   bool
	}{
		{"ascii", ASCII, true},
		{"rfc1459", RFC1459, true},
		{"RFC1459", RFC1459, true},
		{"strict-rfc1459", StrictRFC1459, true},
		{"rfc8265", RFC7613, true},
		{"rfc7613", RFC7613, true},
		{"PRECIS", RFC7613, true},
		{"rfc1459-strict", StrictRFC1459, true},
		{"binary", ASCII, false},
		{"", ASCII, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := CasemapByName(tc.name)
			if got != tc.want || ok != tc.ok {
				t.Errorf("CasemapByName(%q) = %v, %v, want %v, %v", tc.name, got, ok, tc.want, tc.ok)
			}
		})
	}
	if s := Casemap(7).String(); s != "Casemap(7)" {
		t.Errorf("Casemap(7).String() = %q", s)
	}
	for _, cm := range []Casemap{ASCII, RFC1459, StrictRFC1459, RFC7613} {
		if got, ok := CasemapByName(cm.String()); got != cm || !ok {
			t.Errorf("CasemapByName(%v.String()) = %v, %v", cm, got, ok)
		}
	}
}

func BenchmarkCasemapFold(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"folded", "some{long}nick|name^here"},
		{"unfolded", "Some[Long]Nick\\Name~Here"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				_ = RFC1459.Fold(bc.in)
			}
		})
	}
}

func BenchmarkCasemapEqual(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = RFC1459.Equal("Some[Long]Nick\\Name~Here", "some{long}nick|name^here")
	}
}

func TestRFC7613(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Nick", "nick"},
		{"[A]~", "[a]~"}, // no RFC 1459 rules
		{"Éva", "éva"},
		{"ÉVA", "éva"},
		{"Ｅｖａ", "eva"}, // width mapping
		{"ΣΑΣ", "σασ"},
		{"e\u0301va", "éva"}, // NFC
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := RFC7613.Fold(tc.in); got != tc.want {
				t.Errorf("RFC7613.Fold(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !RFC7613.Equal(tc.in, tc.want) {
				t.Errorf("RFC7613.Equal(%q, %q) = false", tc.in, tc.want)
			}
			if got, err := RFC7613.FoldStrict(tc.in); got != tc.want || err != nil {
				t.Errorf("RFC7613.FoldStrict(%q) = %q, %v", tc.in, got, err)
			}
		})
	}
	if RFC7613.Equal("Éva", "eva") {
		t.Error(`Equal("Éva", "eva") = true`)
	}
	// Strings PRECIS refuses: FoldStrict says so, Fold maps them anyway.
	for bad, folded := range map[string]string{"A b": "a b", "Tab\there": "tab\there", "É\u0000": "é\u0000", "ÉVA!*@*": "éva!*@*"} {
		if _, err := RFC7613.FoldStrict(bad); !errors.Is(err, ErrPRECIS) {
			t.Errorf("FoldStrict(%q) err = %v, want ErrPRECIS", bad, err)
		}
		if got := RFC7613.Fold(bad); got != folded {
			t.Errorf("Fold(%q) = %q, want %q", bad, got, folded)
		}
	}
	if _, err := RFC1459.FoldStrict("a b"); err != nil {
		t.Errorf("RFC1459.FoldStrict(a b) = %v", err)
	}
}

// TestRFC7613ASCIIFastPath checks the shortcut for printable ASCII
// against x/text on every printable byte and random strings of them.
func TestRFC7613ASCIIFastPath(t *testing.T) {
	check := func(s string) {
		want, err := precis.UsernameCaseMapped.CompareKey(s)
		if err != nil {
			t.Fatalf("x/text refuses printable ASCII %q: %v", s, err)
		}
		if got := RFC7613.Fold(s); got != want {
			t.Fatalf("RFC7613.Fold(%q) = %q, x/text gives %q", s, got, want)
		}
	}
	for c := byte(0x21); c <= 0x7E; c++ {
		check(string([]byte{c}))
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		b := make([]byte, 1+r.IntN(20))
		for i := range b {
			b[i] = byte(0x21 + r.IntN(0x7E-0x21+1))
		}
		check(string(b))
	}
}

// TestRFC7613MatchesXText: wherever the profile accepts a string, Fold
// gives what x/text's CompareKey gives.
func TestRFC7613MatchesXText(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := []rune("aZ09_-[]ÉéßΣσςİıＡｚ\u0301ﬁǅ!*")
	n := 0
	for range 5000 {
		rs := make([]rune, 1+r.IntN(8))
		for i := range rs {
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
		s := string(rs)
		want, err := precis.UsernameCaseMapped.CompareKey(s)
		if err != nil {
			continue
		}
		n++
		if got := RFC7613.Fold(s); got != want {
			t.Fatalf("Fold(%q) = %q, x/text gives %q", s, got, want)
		}
	}
	if n < 1000 {
		t.Fatalf("only %d accepted strings", n)
	}
}
