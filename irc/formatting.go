package irc

// Formatting control codes, as the ircdocs formatting document lists them.
const (
	Bold          = '\x02'
	Italics       = '\x1D'
	Underline     = '\x1F'
	Strikethrough = '\x1E'
	Monospace     = '\x11'
	Reverse       = '\x16'
	Reset         = '\x0F'
	Color         = '\x03' // followed by a foreground and optional background, each one or two digits
	HexColor      = '\x04' // followed by RRGGBB and optional ,RRGGBB
)

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { _, ok := unhex(c); return ok }

// colorArgs returns the length of the colour arguments after a \x03 at
// s[i-1]: up to two digits, then, only if digits came, a comma with one or
// two digits after it.
func colorArgs(s string, i int) int {
	n := 0
	for n < 2 && i+n < len(s) && isDigit(s[i+n]) {
		n++
	}
	if n == 0 {
		return 0
	}
	if i+n+1 < len(s) && s[i+n] == ',' && isDigit(s[i+n+1]) {
		m := 1
		if i+n+2 < len(s) && isDigit(s[i+n+2]) {
			m = 2
		}
		n += 1 + m
	}
	return n
}

// hexArgs returns the length of the arguments after a \x04 at s[i-1]:
// six hex digits, then, only if they came, a comma and six more.
func hexArgs(s string, i int) int {
	six := func(j int) bool {
		if j+6 > len(s) {
			return false
		}
		for k := j; k < j+6; k++ {
			if !isHex(s[k]) {
				return false
			}
		}
		return true
	}
	if !six(i) {
		return 0
	}
	if i+6 < len(s) && s[i+6] == ',' && six(i+7) {
		return 13
	}
	return 6
}

// codeLen returns the length of the formatting code at s[i] with its
// arguments, or 0 when s[i] starts no code.
func codeLen(s string, i int) int {
	switch s[i] {
	case Bold, Italics, Underline, Strikethrough, Monospace, Reverse, Reset:
		return 1
	case Color:
		return 1 + colorArgs(s, i+1)
	case HexColor:
		return 1 + hexArgs(s, i+1)
	}
	return 0
}
