package irc

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// TestNumericsTable checks that every constant declared in numerics.go is
// in the lookup table once, under its own name, and that the lookups
// invert each other.
func TestNumericsTable(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "numerics.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			lit, ok := vs.Values[0].(*ast.BasicLit)
			if !ok {
				continue // the alias
			}
			v, _ := strconv.Unquote(lit.Value)
			declared[vs.Names[0].Name] = v
		}
	}
	if len(declared) != len(numerics) {
		t.Fatalf("numerics.go declares %d numerics, the table has %d", len(declared), len(numerics))
	}
	if len(declared) < 150 {
		t.Fatalf("only %d numerics declared", len(declared))
	}
	for name, code := range declared {
		if len(code) != 3 {
			t.Errorf("%s = %q, not three digits", name, code)
		}
		if got, ok := NumericName(code); !ok || got != name {
			t.Errorf("NumericName(%q) = %q, %v, want %q", code, got, ok, name)
		}
		if got, ok := NumericCode(name); !ok || got != code {
			t.Errorf("NumericCode(%q) = %q, %v, want %q", name, got, ok, code)
		}
	}
}

func TestNumericLookups(t *testing.T) {
	cases := []struct{ code, name string }{
		{"001", "RPL_WELCOME"}, {"005", "RPL_ISUPPORT"}, {"433", "ERR_NICKNAMEINUSE"},
		{"900", "RPL_LOGGEDIN"}, {"901", "RPL_LOGGEDOUT"}, {"902", "ERR_NICKLOCKED"},
		{"903", "RPL_SASLSUCCESS"}, {"904", "ERR_SASLFAIL"}, {"905", "ERR_SASLTOOLONG"},
		{"906", "ERR_SASLABORTED"}, {"907", "ERR_SASLALREADY"}, {"908", "RPL_SASLMECHS"},
		{"330", "RPL_WHOISACCOUNT"}, {"353", "RPL_NAMREPLY"},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			if got, ok := NumericName(tc.code); !ok || got != tc.name {
				t.Errorf("NumericName(%q) = %q, %v, want %q", tc.code, got, ok, tc.name)
			}
		})
	}
	if code, ok := NumericCode("ERR_ALREADYREGISTRED"); !ok || code != "462" {
		t.Errorf("NumericCode(ERR_ALREADYREGISTRED) = %q, %v", code, ok)
	}
	if _, ok := NumericName("999"); ok {
		t.Error("NumericName(999) ok, want unknown")
	}
	if _, ok := NumericCode("RPL_NOPE"); ok {
		t.Error("NumericCode(RPL_NOPE) ok, want unknown")
	}
}
