package irc

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const parserTests = "../ircmsg/testdata/parser-tests"

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parserTests, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// TestMaskMatchVectors runs every case of ircdocs parser-tests
// mask-match.yaml: 6 masks, 14 names that must match, 12 that must not.
func TestMaskMatchVectors(t *testing.T) {
	var file struct {
		Tests []struct {
			Mask    string   `yaml:"mask"`
			Matches []string `yaml:"matches"`
			Fails   []string `yaml:"fails"`
		} `yaml:"tests"`
	}
	readYAML(t, "mask-match.yaml", &file)
	var masks, matches, fails int
	for i, tc := range file.Tests {
		masks++
		for _, cm := range []Casemap{ASCII, RFC1459, StrictRFC1459} {
			m := CompileMask(tc.Mask, cm)
			for _, name := range tc.Matches {
				t.Run(fmt.Sprintf("%d/%s/%s/match/%s", i, cm, tc.Mask, name), func(t *testing.T) {
					if !m.Match(name) || !MatchMask(tc.Mask, name, cm) {
						t.Errorf("MatchMask(%q, %q, %v) = false, want true", tc.Mask, name, cm)
					}
				})
			}
			for _, name := range tc.Fails {
				t.Run(fmt.Sprintf("%d/%s/%s/fail/%s", i, cm, tc.Mask, name), func(t *testing.T) {
					if m.Match(name) || MatchMask(tc.Mask, name, cm) {
						t.Errorf("MatchMask(%q, %q, %v) = true, want false", tc.Mask, name, cm)
					}
				})
			}
		}
		matches += len(tc.Matches)
		fails += len(tc.Fails)
	}
	if masks != 6 || matches != 14 || fails != 12 {
		t.Errorf("mask-match.yaml has %d masks, %d matches, %d fails; want 6, 14, 12", masks, matches, fails)
	}
}

// TestValidHostnameVectors runs every case of ircdocs parser-tests
// validate-hostname.yaml: 8 valid and 11 invalid hosts.
func TestValidHostnameVectors(t *testing.T) {
	var file struct {
		Tests []struct {
			Host  string `yaml:"host"`
			Valid bool   `yaml:"valid"`
		} `yaml:"tests"`
	}
	readYAML(t, "validate-hostname.yaml", &file)
	var valid, invalid int
	for i, tc := range file.Tests {
		if tc.Valid {
			valid++
		} else {
			invalid++
		}
		t.Run(fmt.Sprintf("%d/%q", i, tc.Host), func(t *testing.T) {
			if got := ValidHostname(tc.Host); got != tc.Valid {
				t.Errorf("ValidHostname(%q) = %v, want %v", tc.Host, got, tc.Valid)
			}
		})
	}
	if valid != 8 || invalid != 11 {
		t.Errorf("validate-hostname.yaml has %d valid and %d invalid hosts; want 8 and 11", valid, invalid)
	}
}

func TestValidHostname(t *testing.T) {
	cases := []struct {
		host string
		want bool
	}{
		{strings.Repeat("a", 63) + ".net", true},
		{strings.Repeat("a", 64) + ".net", false},
		{strings.Repeat("abcdefghi.", 25) + "com", true},   // 253 bytes
		{strings.Repeat("abcdefghi.", 25) + "comx", false}, // 254 bytes
		{"a..b", false},
		{".a.b", false},
		{"a.b..", false},
		{"ex.ample-.net", false},
		{"é.net", false},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			if got := ValidHostname(tc.host); got != tc.want {
				t.Errorf("ValidHostname(%q) = %v, want %v", tc.host, got, tc.want)
			}
		})
	}
}

func TestMatchMask(t *testing.T) {
	cases := []struct {
		mask, name string
		cm         Casemap
		want       bool
	}{
		{"", "", RFC1459, true},
		{"", "a", RFC1459, false},
		{"*", "", RFC1459, true},
		{"*", "anything!at@all", RFC1459, true},
		{"?", "", RFC1459, false},
		{"?", "a", RFC1459, true},
		{"a*b*c", "abc", RFC1459, true},
		{"a*b*c", "aXXbYYc", RFC1459, true},
		{"a*b*c", "aXXbYYcd", RFC1459, false},
		{"a*b*c*", "aXXbYYcd", RFC1459, true},
		{"*a", "aaaa", RFC1459, true},
		{"*ab", "aaab", RFC1459, true},
		{"*ab", "abab", RFC1459, true},
		{"*aab", "aaab", RFC1459, true},
		{"**a**", "xay", RFC1459, true},
		{"Nick!*@*", "nick!u@h", ASCII, true},
		{"Nick[a]!*@*", "nick{A}!u@h", RFC1459, true},
		{"Nick[a]!*@*", "nick{A}!u@h", ASCII, false},
		{"n~!*@*", "N^!u@h", RFC1459, true},
		{"n~!*@*", "N^!u@h", StrictRFC1459, false},
		{`a\*b`, "a*b", RFC1459, true},
		{`a\*b`, "aXb", RFC1459, false},
		{`a\?b`, "a?b", RFC1459, true},
		{`a\?b`, "aXb", RFC1459, false},
		{`a\\b`, `a\b`, RFC1459, true},
		{`a\b`, `a\b`, ASCII, true}, // a backslash before an ordinary byte is itself
		{`a\b`, `a|b`, RFC1459, true},
		{`a\`, `a\`, ASCII, true},
		{"[a-z]*", "b", RFC1459, false},
		{"[a-z]*", "[a-z]x", ASCII, true},
		{"é*", "éa", RFC1459, true},
		{"?", "é", RFC1459, false}, // '?' is one byte
		{"??", "é", RFC1459, true},
		{"éva*", "ÉVA!u@h", RFC7613, true},
		{"ÉVA!*@*", "éva!u@h", RFC7613, true},
		{"eva*", "ÉVA!u@h", RFC7613, false},
		{"[a]*", "[A]!u@h", RFC7613, true},
		{"[a]*", "{A}!u@h", RFC7613, false},
		{"*!*@192.0.2.0/24", "Éva!u@192.0.2.9", RFC7613, true},
		// CIDR host masks.
		{"*!*@192.0.2.0/24", "n!u@192.0.2.77", RFC1459, true},
		{"*!*@192.0.2.0/24", "n!u@192.0.3.1", RFC1459, false},
		{"nick!*@192.0.2.0/24", "other!u@192.0.2.1", RFC1459, false},
		{"Nick!*@192.0.2.0/24", "nick!u@192.0.2.1", RFC1459, true},
		{"*!*@192.0.2.1/32", "n!u@192.0.2.1", RFC1459, true},
		{"*!*@192.0.2.0/24", "n!u@host.example", RFC1459, false},
		{"*!*@192.0.2.0/24", "n!u@::ffff:192.0.2.5", RFC1459, true},
		{"*!*@2001:db8::/32", "n!u@2001:db8:1::5", RFC1459, true},
		{"*!*@2001:db8::/32", "n!u@2001:db9::5", RFC1459, false},
		{"*!*@2001:DB8::/32", "n!u@2001:db8::1", RFC1459, true},
		{"*!*@10.0.0.1/8", "n!u@10.200.0.1", RFC1459, true}, // prefix is masked
		{"*!*@192.0.2.0/24", "192.0.2.5", RFC1459, false},
	}
	for _, tc := range cases {
		t.Run(tc.cm.String()+"/"+tc.mask+"/"+tc.name, func(t *testing.T) {
			if got := MatchMask(tc.mask, tc.name, tc.cm); got != tc.want {
				t.Errorf("MatchMask(%q, %q, %v) = %v, want %v", tc.mask, tc.name, tc.cm, got, tc.want)
			}
		})
	}
}

// TestMatchMaskAgainstBacktracking compares the automaton with a plain
// recursive matcher on every mask and name over a small alphabet.
func TestMatchMaskAgainstBacktracking(t *testing.T) {
	var ref func(p, s string) bool
	ref = func(p, s string) bool {
		if p == "" {
			return s == ""
		}
		switch {
		case p[0] == '*':
			for i := 0; i <= len(s); i++ {
				if ref(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case s == "":
			return false
		case p[0] == '?' || p[0] == s[0]:
			return ref(p[1:], s[1:])
		}
		return false
	}
	var all func(alpha string, n int) []string
	all = func(alpha string, n int) []string {
		if n == 0 {
			return []string{""}
		}
		out := []string{""}
		for _, s := range all(alpha, n-1) {
			if len(s) == n-1 {
				for _, c := range alpha {
					out = append(out, s+string(c))
				}
			}
		}
		return dedupe(append(out, all(alpha, n-1)...))
	}
	masks := all("ab*?", 5)
	names := all("ab", 6)
	n := 0
	for _, mask := range masks {
		m := CompileMask(mask, ASCII)
		for _, name := range names {
			if got, want := m.Match(name), ref(mask, name); got != want {
				t.Fatalf("Match(%q, %q) = %v, backtracking says %v", mask, name, got, want)
			}
			n++
		}
	}
	if n < 100000 {
		t.Fatalf("only %d pairs compared", n)
	}
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// TestMatchMaskLongMask checks masks longer than one word of state and
// longer than the stack buffer.
func TestMatchMaskLongMask(t *testing.T) {
	for _, n := range []int{63, 64, 65, 127, 128, 511, 512, 1000} {
		name := strings.Repeat("ab", n)
		mask := strings.Repeat("a?", n)
		if !MatchMask(mask, name, ASCII) {
			t.Errorf("%d: a?a?… does not match abab…", n)
		}
		if MatchMask(mask+"x", name, ASCII) {
			t.Errorf("%d: a?a?…x matches abab…", n)
		}
		if !MatchMask("*"+strings.Repeat("b?", n-1)+"b", name, ASCII) {
			t.Errorf("%d: *b?b?…b does not match abab…", n)
		}
	}
}

// TestMatchMaskHostile: a 500-byte "*?*?…" mask against 500-byte names,
// which a backtracking matcher takes exponential time over when the name
// almost matches. The time it takes is in BenchmarkMatchMask/hostile500.
func TestMatchMaskHostile(t *testing.T) {
	mask := strings.Repeat("*?", 250)
	if !MatchMask(mask, strings.Repeat("a", 500), RFC1459) {
		t.Error("500 bytes do not match 250 \"*?\"")
	}
	if MatchMask(mask, strings.Repeat("a", 249), RFC1459) {
		t.Error("249 bytes match 250 \"*?\"")
	}
	if MatchMask(mask+"x", strings.Repeat("a", 500), RFC1459) {
		t.Error("matched a mask ending in x")
	}
}

func TestMatchMaskNoAlloc(t *testing.T) {
	m := CompileMask("*!*@*.Example.NET", RFC1459)
	if n := testing.AllocsPerRun(100, func() { m.Match("Nick!user@host.example.net") }); n != 0 {
		t.Errorf("Match allocates %v times, want 0", n)
	}
}

func TestNormalizeMask(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "*!*@*"},
		{"nick", "nick!*@*"},
		{"host.name", "*!*@host.name"},
		{"2001:db8::1", "*!*@2001:db8::1"},
		{"user@host", "*!user@host"},
		{"nick!user", "nick!user@*"},
		{"nick!@host", "nick!*@host"},
		{"!@", "*!*@*"},
		{"nick!user@host", "nick!user@host"},
		{"*!*@*", "*!*@*"},
		{"@host", "*!*@host"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := NormalizeMask(tc.in); got != tc.want {
				t.Errorf("NormalizeMask(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if n, u, h := SplitMask("nick!user@host"); n != "nick" || u != "user" || h != "host" {
		t.Errorf("SplitMask = %q %q %q", n, u, h)
	}
}

func BenchmarkMatchMask(b *testing.B) {
	for _, bc := range []struct{ name, mask, subject string }{
		{"ban", "*!*@*.example.net", "SomeNick!~user@host-1-2-3-4.example.net"},
		{"cidr", "*!*@192.0.2.0/24", "SomeNick!~user@192.0.2.77"},
		{"hostile500", strings.Repeat("*?", 250) + "x", strings.Repeat("a", 500)},
		{"literal500", strings.Repeat("a", 500), strings.Repeat("a", 500)},
	} {
		m := CompileMask(bc.mask, RFC1459)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Match(bc.subject)
			}
		})
		b.Run(bc.name+"/compile", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				MatchMask(bc.mask, bc.subject, RFC1459)
			}
		})
	}
}
