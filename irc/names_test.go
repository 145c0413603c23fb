package irc

import (
	"strings"
	"testing"
)

func TestValidNick(t *testing.T) {
	var is ISupport
	cases := map[string]bool{
		"nick": true, "Nick[aw]": true, "`tick": true, "_under": true, "{x}|y^": true, "a-b": true, "a9": true,
		"": false, "9lives": false, "-dash": false, "has space": false, "a!b": false, "a@b": false, "é": false,
		"ninechars": true, "tenchars10": false, // NICKLEN defaults to 9
	}
	for nick, want := range cases {
		if got := is.ValidNick(nick); got != want {
			t.Errorf("ValidNick(%q) = %v, want %v", nick, got, want)
		}
	}
	must(t, is.Add([]string{"NICKLEN=30"}))
	if !is.ValidNick("tenchars10") || is.ValidNick(strings.Repeat("a", 31)) {
		t.Error("NICKLEN=30 not applied")
	}
}

func TestValidChannel(t *testing.T) {
	var is ISupport
	cases := map[string]bool{
		"#go": true, "&local": true, "#a~^[]": true, "#é": true,
		"#": false, "go": false, "!x": false, "#a b": false, "#a,b": false, "#a\x07": false, "": false,
		"#" + strings.Repeat("c", 199): true, "#" + strings.Repeat("c", 200): false,
	}
	for ch, want := range cases {
		if got := is.ValidChannel(ch); got != want {
			t.Errorf("ValidChannel(%q) = %v, want %v", ch, got, want)
		}
	}
	must(t, is.Add([]string{"CHANTYPES=#!", "CHANNELLEN=5"}))
	if !is.ValidChannel("!x") || is.ValidChannel("&x") || is.ValidChannel("#abcde") {
		t.Error("CHANTYPES/CHANNELLEN not applied")
	}
}
