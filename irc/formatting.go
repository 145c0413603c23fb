package irc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Formatting control codes, as the ircdocs formatting document lists them.
// The first seven toggle (Reset clears everything); ColorCode and HexColorCode
// take arguments.
const (
	Bold          = '\x02'
	Italics       = '\x1D'
	Underline     = '\x1F'
	Strikethrough = '\x1E'
	Monospace     = '\x11'
	Reverse       = '\x16'
	Reset         = '\x0F'
	// ColorCode is followed by a foreground colour and optionally a comma
	// and a background colour, each one or two digits (0-99); alone it
	// resets both colours.
	ColorCode = '\x03'
	// HexColorCode is followed by RRGGBB and optionally a comma and RRGGBB;
	// alone it resets both colours.
	HexColorCode = '\x04'
)

// A Color is an IRC colour: a palette number 0-99 (99 is the client's
// default), an RGB colour from a \x04 code, or [NoColor].
type Color int32

// Palette colours 0-15 by their ircdocs names; 16-98 are the extended
// palette, 99 the client's default.
const (
	NoColor      Color = -1 // no colour set: the client's default
	White        Color = 0
	Black        Color = 1
	Blue         Color = 2
	Green        Color = 3
	Red          Color = 4
	Brown        Color = 5
	Magenta      Color = 6
	Orange       Color = 7
	Yellow       Color = 8
	LightGreen   Color = 9
	Cyan         Color = 10
	LightCyan    Color = 11
	LightBlue    Color = 12
	Pink         Color = 13
	Grey         Color = 14
	LightGrey    Color = 15
	DefaultColor Color = 99
)

const rgbFlag = 1 << 24

// RGB returns the colour of a \x04 code.
func RGB(r, g, b uint8) Color { return Color(rgbFlag | int32(r)<<16 | int32(g)<<8 | int32(b)) }

// IsRGB reports whether c came from a \x04 code (or [RGB]).
func (c Color) IsRGB() bool { return c >= 0 && c&rgbFlag != 0 }

// palette holds the usual RGB values of colours 0-98 (ircdocs: 0-15 are
// the common ones, 16-98 the extended set many clients share). Clients
// choose their own; these are what a renderer such as an HTML bridge can
// use.
var palette = [99]int32{
	0xffffff, 0x000000, 0x00007f, 0x009300, 0xff0000, 0x7f0000, 0x9c009c, 0xfc7f00,
	0xffff00, 0x00fc00, 0x009393, 0x00ffff, 0x0000fc, 0xff00ff, 0x7f7f7f, 0xd2d2d2,
	0x470000, 0x472100, 0x474700, 0x324700, 0x004700, 0x00472c, 0x004747, 0x002747,
	0x000047, 0x2e0047, 0x470047, 0x47002a, 0x740000, 0x743a00, 0x747400, 0x517400,
	0x007400, 0x007449, 0x007474, 0x004074, 0x000074, 0x4b0074, 0x740074, 0x740045,
	0xb50000, 0xb56300, 0xb5b500, 0x7db500, 0x00b500, 0x00b571, 0x00b5b5, 0x0063b5,
	0x0000b5, 0x7500b5, 0xb500b5, 0xb5006b, 0xff0000, 0xff8c00, 0xffff00, 0xb2ff00,
	0x00ff00, 0x00ffa0, 0x00ffff, 0x008cff, 0x0000ff, 0xa500ff, 0xff00ff, 0xff0098,
	0xff5959, 0xffb459, 0xffff71, 0xcfff60, 0x6fff6f, 0x65ffc9, 0x6dffff, 0x59b4ff,
	0x5959ff, 0xc459ff, 0xff66ff, 0xff59bc, 0xff9c9c, 0xffd39c, 0xffff9c, 0xe2ff9c,
	0x9cff9c, 0x9cffdb, 0x9cffff, 0x9cd3ff, 0x9c9cff, 0xdc9cff, 0xff9cff, 0xff94d3,
	0x000000, 0x131313, 0x282828, 0x363636, 0x4d4d4d, 0x656565, 0x818181, 0x9f9f9f,
	0xbcbcbc, 0xe2e2e2, 0xffffff,
}

// Hex returns c as "#rrggbb" for an RGB colour or a palette colour 0-98,
// and "" for [NoColor], [DefaultColor] or any other value.
func (c Color) Hex() string {
	var v int32
	switch {
	case c.IsRGB():
		v = int32(c) &^ rgbFlag
	case c >= 0 && int(c) < len(palette):
		v = palette[c]
	default:
		return ""
	}
	return fmt.Sprintf("#%06x", v)
}

// String returns the palette number ("4"), "#rrggbb" for an RGB colour,
// or "none".
func (c Color) String() string {
	switch {
	case c == NoColor:
		return "none"
	case c.IsRGB():
		return c.Hex()
	}
	return strconv.Itoa(int(c))
}

// A Style is the formatting in effect at a point of a text.
type Style struct {
	Bold, Italics, Underline, Strikethrough, Monospace bool
	// Reverse swaps the foreground and background when rendering.
	Reverse bool
	// Fg and Bg are the colours; [NoColor] when unset.
	Fg, Bg Color
}

// Plain is the style of unformatted text.
var Plain = Style{Fg: NoColor, Bg: NoColor}

// A Span is a run of text in one style.
type Span struct {
	Style
	Text string
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { _, ok := unhex(c); return ok }

// colorArgs returns the length of the colour arguments after a \x03 at
// s[i-1]: up to two digits ("two digits are always read when
// available"), then, only if digits came, a comma with one or two digits
// after it. A comma without a digit after it is text.
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
	case ColorCode:
		return 1 + colorArgs(s, i+1)
	case HexColorCode:
		return 1 + hexArgs(s, i+1)
	}
	return 0
}

func isCodeByte(c byte) bool {
	switch c {
	case Bold, Italics, Underline, Strikethrough, Monospace, Reverse, Reset, ColorCode, HexColorCode:
		return true
	}
	return false
}

// StripFormatting returns s without any formatting code or colour
// argument. It returns s itself, without allocating, when s has none.
func StripFormatting(s string) string {
	i := 0
	for i < len(s) && !isCodeByte(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if n := codeLen(s, i); n > 0 {
			i += n
			continue
		}
		j := i + 1
		for j < len(s) && !isCodeByte(s[j]) {
			j++
		}
		b.WriteString(s[i:j])
		i = j
	}
	return b.String()
}

// parseColor reads a decimal colour of one or two digits.
func parseColor(s string) Color {
	n, _ := strconv.Atoi(s)
	return Color(n)
}

func parseHex(s string) Color {
	v, _ := strconv.ParseUint(s, 16, 32)
	return Color(rgbFlag | int32(v))
}

// apply updates st with the code at s[i:i+n].
func (st *Style) apply(code string) {
	switch code[0] {
	case Bold:
		st.Bold = !st.Bold
	case Italics:
		st.Italics = !st.Italics
	case Underline:
		st.Underline = !st.Underline
	case Strikethrough:
		st.Strikethrough = !st.Strikethrough
	case Monospace:
		st.Monospace = !st.Monospace
	case Reverse:
		st.Reverse = !st.Reverse
	case Reset:
		*st = Plain
	case ColorCode:
		if len(code) == 1 {
			st.Fg, st.Bg = NoColor, NoColor
			return
		}
		fg, bg, hasBg := strings.Cut(code[1:], ",")
		st.Fg = parseColor(fg)
		if hasBg {
			st.Bg = parseColor(bg)
		}
	case HexColorCode:
		if len(code) == 1 {
			st.Fg, st.Bg = NoColor, NoColor
			return
		}
		st.Fg = parseHex(code[1:7])
		if len(code) == 14 {
			st.Bg = parseHex(code[8:14])
		}
	}
}

// ParseFormatting splits s into spans of text, each with the style in
// effect, as the ircdocs formatting document describes it: the seven
// single-byte codes toggle (Reset clears all), \x03 and \x04 set colours
// (a foreground alone keeps the background; the code alone clears both;
// two digits are read whenever they are there). Codes do not appear in
// the spans' text; neighbouring text in the same style is one span, and
// spans are never empty. Joining the spans' texts gives
// [StripFormatting](s).
func ParseFormatting(s string) []Span {
	var spans []Span
	st := Plain
	for i := 0; i < len(s); {
		if n := codeLen(s, i); n > 0 {
			st.apply(s[i : i+n])
			i += n
			continue
		}
		j := i + 1
		for j < len(s) && !isCodeByte(s[j]) {
			j++
		}
		if k := len(spans) - 1; k >= 0 && spans[k].Style == st {
			spans[k].Text += s[i:j]
		} else {
			spans = append(spans, Span{Style: st, Text: s[i:j]})
		}
		i = j
	}
	return spans
}

// ErrColorInvalid is recorded by [Builder.Color] for a colour that
// cannot be written in the code it needs: a palette number outside 0-99,
// or, in a pair written as \x04 RRGGBB (because one of the pair is RGB),
// a colour with no RGB value ([NoColor] or [DefaultColor] as the
// foreground).
var ErrColorInvalid = errors.New("irc: colour cannot be written")

// A Builder writes formatted text safely: colour numbers are always two
// digits, and when text would otherwise be read as part of the code before
// it (a digit after a bare \x03, ",5" after a foreground colour, hex
// digits after a \x04 code) two Bold codes, which cancel out, are put in
// between, as the ircdocs formatting document suggests.
//
// The zero value is an empty builder. Methods return the builder so calls
// chain; the first error is kept and reported by [Builder.Err].
type Builder struct {
	b    strings.Builder
	last string // the code just written, if text has not followed it yet
	err  error
}

func (b *Builder) code(c string) *Builder {
	b.b.WriteString(c)
	b.last = c
	return b
}

// Text appends plain text.
func (b *Builder) Text(s string) *Builder {
	if b.last != "" && s != "" {
		probe := b.last + s[:min(len(s), 14)]
		if codeLen(probe, 0) > len(b.last) {
			b.b.WriteString("\x02\x02")
		}
	}
	b.last = ""
	b.b.WriteString(s)
	return b
}

// Bold toggles bold.
func (b *Builder) Bold() *Builder { return b.code(string(Bold)) }

// Italics toggles italics.
func (b *Builder) Italics() *Builder { return b.code(string(Italics)) }

// Underline toggles underline.
func (b *Builder) Underline() *Builder { return b.code(string(Underline)) }

// Strikethrough toggles strikethrough.
func (b *Builder) Strikethrough() *Builder { return b.code(string(Strikethrough)) }

// Monospace toggles monospace.
func (b *Builder) Monospace() *Builder { return b.code(string(Monospace)) }

// Reverse toggles reverse colours.
func (b *Builder) Reverse() *Builder { return b.code(string(Reverse)) }

// Reset clears all formatting.
func (b *Builder) Reset() *Builder { return b.code(string(Reset)) }

// NoColor clears both colours (a bare \x03).
func (b *Builder) NoColor() *Builder { return b.code(string(ColorCode)) }

// Color sets the foreground, and the background unless bg is
// [NoColor]. Palette colours are written as \x03FF[,BB]; when either is
// RGB the pair is written as \x04RRGGBB[,RRGGBB], palette colours given
// their usual RGB value. A foreground of [NoColor] with a background
// keeps the foreground at the default (99).
func (b *Builder) Color(fg, bg Color) *Builder {
	if fg.IsRGB() || bg.IsRGB() {
		f, g := fg.Hex(), bg.Hex()
		if f == "" || (bg != NoColor && g == "") {
			b.setErr(fmt.Errorf("%w: %v,%v as RGB", ErrColorInvalid, fg, bg))
			return b
		}
		c := "\x04" + f[1:]
		if bg != NoColor {
			c += "," + g[1:]
		}
		return b.code(c)
	}
	if fg == NoColor {
		if bg == NoColor {
			return b.NoColor()
		}
		fg = DefaultColor
	}
	if fg < 0 || fg > 99 || bg < NoColor || bg > 99 {
		b.setErr(fmt.Errorf("%w: %v,%v", ErrColorInvalid, fg, bg))
		return b
	}
	c := fmt.Sprintf("\x03%02d", int(fg))
	if bg != NoColor {
		c += fmt.Sprintf(",%02d", int(bg))
	}
	return b.code(c)
}

func (b *Builder) setErr(err error) {
	if b.err == nil {
		b.err = err
	}
}

// String returns the text built so far.
func (b *Builder) String() string { return b.b.String() }

// Err returns the first error of the calls so far, or nil.
func (b *Builder) Err() error { return b.err }
