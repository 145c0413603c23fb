package client

import "strings"

// Until the toolkit's casemapping is used here, fold implements the two
// mappings servers announce (RFC 1459's, which also folds []\~ to {}|^,
// and plain ASCII).
func foldWith(casemap, s string) string {
	rfc := casemap != "ascii"
	strict := casemap == "strict-rfc1459"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case 'A' <= ch && ch <= 'Z':
			ch += 'a' - 'A'
		case rfc && (ch == '[' || ch == ']' || ch == '\\'):
			ch += 32
		case rfc && !strict && ch == '~':
			ch = '^'
		}
		b.WriteByte(ch)
	}
	return b.String()
}
