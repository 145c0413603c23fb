package irc

import (
	"testing"
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
	for _, cm := range []Casemap{ASCII, RFC1459, StrictRFC1459} {
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
		{"rfc8265", ASCII, false},
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
	for _, cm := range []Casemap{ASCII, RFC1459, StrictRFC1459} {
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
