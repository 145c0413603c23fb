package irc

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func st(mod func(*Style)) Style {
	s := Plain
	if mod != nil {
		mod(&s)
	}
	return s
}

// The ircdocs formatting document's examples, with its rendering.
func TestParseFormattingIRCDocs(t *testing.T) {
	cases := []struct {
		in   string
		want []Span
	}{
		{"I love \x033IRC! \x03It is the \x037best protocol ever!", []Span{
			{Plain, "I love "},
			{st(func(s *Style) { s.Fg = 3 }), "IRC! "},
			{Plain, "It is the "},
			{st(func(s *Style) { s.Fg = 7 }), "best protocol ever!"},
		}},
		{"This is a \x1d\x0313,9cool \x03message", []Span{
			{Plain, "This is a "},
			{st(func(s *Style) { s.Italics, s.Fg, s.Bg = true, 13, 9 }), "cool "},
			{st(func(s *Style) { s.Italics = true }), "message"},
		}},
		{"IRC \x02is \x034,12so \x16great\x0f!", []Span{
			{Plain, "IRC "},
			{st(func(s *Style) { s.Bold = true }), "is "},
			{st(func(s *Style) { s.Bold, s.Fg, s.Bg = true, 4, 12 }), "so "},
			{st(func(s *Style) { s.Bold, s.Fg, s.Bg, s.Reverse = true, 4, 12, true }), "great"},
			{Plain, "!"},
		}},
		{"Rules: Don't spam 5\x0313,8,6\x03,7,8, and especially not \x029\x02\x1d!", []Span{
			{Plain, "Rules: Don't spam 5"},
			{st(func(s *Style) { s.Fg, s.Bg = 13, 8 }), ",6"},
			{Plain, ",7,8, and especially not "},
			{st(func(s *Style) { s.Bold = true }), "9"},
			{st(func(s *Style) { s.Italics = true }), "!"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ParseFormatting(tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseFormattingCodes(t *testing.T) {
	cases := []struct {
		name, in string
		want     []Span
	}{
		{"fg keeps bg", "\x031,2a\x033b", []Span{
			{st(func(s *Style) { s.Fg, s.Bg = 1, 2 }), "a"},
			{st(func(s *Style) { s.Fg, s.Bg = 3, 2 }), "b"},
		}},
		{"two digits always read", "\x03123", []Span{{st(func(s *Style) { s.Fg = 12 }), "3"}}},
		{"comma without digit is text", "\x035,x", []Span{{st(func(s *Style) { s.Fg = 5 }), ",x"}}},
		{"bare code then comma", "\x03,5", []Span{{Plain, ",5"}}},
		{"99 colours", "\x0399,98x", []Span{{st(func(s *Style) { s.Fg, s.Bg = 99, 98 }), "x"}}},
		{"hex", "\x04FF00aa,00ff00x\x04y", []Span{
			{st(func(s *Style) { s.Fg, s.Bg = RGB(0xff, 0, 0xaa), RGB(0, 0xff, 0) }), "x"},
			{Plain, "y"},
		}},
		{"hex fg only", "\x04123456,12x", []Span{{st(func(s *Style) { s.Fg = RGB(0x12, 0x34, 0x56) }), ",12x"}}},
		{"short hex is text", "\x0412345x", []Span{{Plain, "12345x"}}},
		{"toggles", "\x1ei\x1e\x11m\x11\x1fu", []Span{
			{st(func(s *Style) { s.Strikethrough = true }), "i"},
			{st(func(s *Style) { s.Monospace = true }), "m"},
			{st(func(s *Style) { s.Underline = true }), "u"},
		}},
		{"merged", "a\x02\x02b", []Span{{Plain, "ab"}}},
		{"only codes", "\x02\x0304,05\x0f", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ParseFormatting(tc.in)); diff != "" {
				t.Errorf("ParseFormatting(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestStripFormatting(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"\x02bold\x02 \x1ditalic\x1d \x1funder\x1f \x1estrike\x1e \x11mono\x11 \x16rev\x16\x0f", "bold italic under strike mono rev"},
		{"\x0304,12red\x03 \x0399x \x03,5 \x0312345", "red x ,5 345"},
		{"\x04FF00AA,00ff00hex\x04 \x04nothex", "hex nothex"},
		{"", ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := StripFormatting(tc.in); got != tc.want {
				t.Errorf("StripFormatting(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if n := testing.AllocsPerRun(100, func() { _ = StripFormatting("no codes at all here") }); n != 0 {
		t.Errorf("StripFormatting(plain) allocates %v times", n)
	}
}

func TestColorHex(t *testing.T) {
	cases := []struct {
		c    Color
		want string
	}{
		{White, "#ffffff"}, {Black, "#000000"}, {Red, "#ff0000"}, {Color(98), "#ffffff"},
		{RGB(1, 2, 3), "#010203"}, {DefaultColor, ""}, {NoColor, ""}, {Color(100), ""},
	}
	for _, tc := range cases {
		if got := tc.c.Hex(); got != tc.want {
			t.Errorf("%v.Hex() = %q, want %q", tc.c, got, tc.want)
		}
	}
	if RGB(0, 0, 0).IsRGB() != true || Black.IsRGB() || NoColor.IsRGB() {
		t.Error("IsRGB wrong")
	}
	if s := NoColor.String() + " " + Red.String() + " " + RGB(255, 0, 1).String(); s != "none 4 #ff0001" {
		t.Errorf("String() = %q", s)
	}
}

func TestBuilderDigitsNotEaten(t *testing.T) {
	cases := []struct {
		name  string
		build func(*Builder)
		want  []Span
	}{
		{"digit after colour", func(b *Builder) { b.Color(Red, NoColor).Text("5 apples") },
			[]Span{{st(func(s *Style) { s.Fg = Red }), "5 apples"}}},
		{"comma digit after fg", func(b *Builder) { b.Color(Red, NoColor).Text(",5 apples") },
			[]Span{{st(func(s *Style) { s.Fg = Red }), ",5 apples"}}},
		{"digit after bare code", func(b *Builder) { b.Color(Red, Blue).Text("x").NoColor().Text("42") },
			[]Span{{st(func(s *Style) { s.Fg, s.Bg = Red, Blue }), "x"}, {Plain, "42"}}},
		{"hex after hex", func(b *Builder) { b.Color(RGB(1, 2, 3), NoColor).Text(",abcdef!") },
			[]Span{{st(func(s *Style) { s.Fg = RGB(1, 2, 3) }), ",abcdef!"}}},
		{"palette with rgb", func(b *Builder) { b.Color(Red, RGB(0, 0, 255)).Text("x") },
			[]Span{{st(func(s *Style) { s.Fg, s.Bg = RGB(255, 0, 0), RGB(0, 0, 255) }), "x"}}},
		{"bg only", func(b *Builder) { b.Color(NoColor, Green).Text("1") },
			[]Span{{st(func(s *Style) { s.Fg, s.Bg = DefaultColor, Green }), "1"}}},
		{"toggles", func(b *Builder) {
			b.Bold().Italics().Text("a").Reset().Underline().Strikethrough().Monospace().Reverse().Text("b")
		},
			[]Span{{st(func(s *Style) { s.Bold, s.Italics = true, true }), "a"},
				{st(func(s *Style) { s.Underline, s.Strikethrough, s.Monospace, s.Reverse = true, true, true, true }), "b"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b Builder
			tc.build(&b)
			if b.Err() != nil {
				t.Fatal(b.Err())
			}
			if diff := cmp.Diff(tc.want, ParseFormatting(b.String())); diff != "" {
				t.Errorf("ParseFormatting(%q) (-want +got):\n%s", b.String(), diff)
			}
		})
	}
	var b Builder
	b.Color(Color(100), NoColor).Color(NoColor, RGB(1, 1, 1))
	if !errors.Is(b.Err(), ErrColorInvalid) {
		t.Errorf("Err() = %v, want ErrColorInvalid", b.Err())
	}
}

// TestBuilderRandom builds random formatted texts and checks that they
// parse back into the styles the builder was asked for.
func TestBuilderRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	texts := []string{"1", "23", ",4", ",56", "abc", " ", "ff00ff", ",ABCDEF", "é"}
	colors := []Color{NoColor, White, Red, 15, 42, 99, RGB(0x12, 0x34, 0x56)}
	for i := range 2000 {
		var b Builder
		model := Plain
		var want []Span
		for range r.IntN(12) {
			switch r.IntN(4) {
			case 0:
				s := texts[r.IntN(len(texts))]
				b.Text(s)
				if k := len(want) - 1; k >= 0 && want[k].Style == model {
					want[k].Text += s
				} else {
					want = append(want, Span{model, s})
				}
			case 1:
				b.Bold()
				model.Bold = !model.Bold
			case 2:
				fg, bg := colors[r.IntN(len(colors))], colors[r.IntN(len(colors))]
				if (fg.IsRGB() || bg.IsRGB()) && (fg.Hex() == "" || (bg != NoColor && bg.Hex() == "")) {
					continue
				}
				b.Color(fg, bg)
				if fg.IsRGB() || bg.IsRGB() {
					fg, bg = hexed(fg), hexed(bg)
				}
				switch {
				case fg == NoColor && bg == NoColor:
					model.Fg, model.Bg = NoColor, NoColor
				case fg == NoColor:
					model.Fg, model.Bg = DefaultColor, bg
				default:
					model.Fg = fg
					if bg != NoColor {
						model.Bg = bg
					}
				}
			case 3:
				b.Reset()
				model = Plain
			}
		}
		if b.Err() != nil {
			t.Fatal(b.Err())
		}
		if diff := cmp.Diff(want, ParseFormatting(b.String())); diff != "" {
			t.Fatalf("case %d: ParseFormatting(%q) (-want +got):\n%s", i, b.String(), diff)
		}
	}
}

func hexed(c Color) Color {
	if c == NoColor || c.IsRGB() {
		return c
	}
	h := c.Hex()
	var v [3]byte
	for i := range v {
		hi, _ := unhex(h[1+2*i])
		lo, _ := unhex(h[2+2*i])
		v[i] = hi<<4 | lo
	}
	return RGB(v[0], v[1], v[2])
}

func BenchmarkStripFormatting(b *testing.B) {
	text := strings.Repeat("lorem \x02ipsum\x02 \x0304,12dolor\x03 sit ", 20)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		_ = StripFormatting(text)
	}
}

func BenchmarkParseFormatting(b *testing.B) {
	text := strings.Repeat("lorem \x02ipsum\x02 \x0304,12dolor\x03 sit ", 20)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		_ = ParseFormatting(text)
	}
}
