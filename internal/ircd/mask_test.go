package ircd

import (
	"regexp"
	"strings"
	"testing"
)

var maskCases = []struct {
	mask, s string
	want    bool
}{
	{"*", "", true},
	{"*", "anything", true},
	{"", "", true},
	{"", "a", false},
	{"a?c", "abc", true},
	{"a?c", "ac", false},
	{"*!*@127.0.0.1", "bob!bob@127.0.0.1", true},
	{"*!*@127.0.0.2", "bob!bob@127.0.0.1", false},
	{"BOB!*@*", "bob!x@h", true},
	{"bob!*@*", "bobby!x@h", false},
	{"b*b!*@*", "bobby!x@h", false},
	{"b*y!*@*", "bobby!x@h", true},
	{"*a*a*a*a*a*b", strings.Repeat("a", 200), false},
	{"a*", "a*", true},
	{"*\\*", "x\\y\\", true},
}

func TestMatchMask(t *testing.T) {
	for _, tc := range maskCases {
		t.Run(tc.mask+"~"+tc.s, func(t *testing.T) {
			if got := matchMask(tc.mask, tc.s); got != tc.want {
				t.Errorf("matchMask(%q, %q) = %v, want %v", tc.mask, tc.s, got, tc.want)
			}
		})
	}
}

func TestCanonMask(t *testing.T) {
	cases := map[string]string{
		"bob":          "bob!*@*",
		"bob!u":        "bob!u@*",
		"u@host":       "*!u@host",
		"@host":        "*!*@host",
		"n!u@h":        "n!u@h",
		"!@":           "*!*@*",
		"*!*@10.0.0.1": "*!*@10.0.0.1",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			if got := canonMask(in); got != want {
				t.Errorf("canonMask(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

// FuzzMatchMask checks the matcher against a regular expression built
// from the same mask, under the same case folding.
func FuzzMatchMask(f *testing.F) {
	for _, tc := range maskCases {
		f.Add(tc.mask, tc.s)
	}
	f.Fuzz(func(t *testing.T, mask, s string) {
		if len(mask) > 64 || len(s) > 256 {
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)\A`)
		fm := fold(mask)
		for i := 0; i < len(fm); i++ {
			switch fm[i] {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(fm[i : i+1])))
			}
		}
		re.WriteString(`\z`)
		// Bytes, not runes: '?' matches one byte, so compare on Latin-1
		// views of both strings.
		want := regexp.MustCompile(latin1(re.String())).MatchString(latin1(fold(s)))
		if got := matchMask(mask, s); got != want {
			t.Errorf("matchMask(%q, %q) = %v, regexp says %v", mask, s, got, want)
		}
	})
}

// latin1 maps each byte to the rune of the same value, so that regexp's
// '.' matches one byte.
func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}
