package ircmsg_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/ircsock/ircsock/ircmsg"
)

// The ircdocs/parser-tests vectors (CC0), see testdata/parser-tests/NOTES.md.
const (
	wantSplitCases    = 35
	wantJoinCases     = 18
	wantUserhostCases = 7
)

// orderedTags keeps the YAML order of a tags mapping, so a join test writes
// the tags in the order the file lists them.
type orderedTags []ircmsg.Tag

func (o *orderedTags) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("tags: want a mapping, got kind %v", n.Kind)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		*o = append(*o, ircmsg.Tag{Key: n.Content[i].Value, Value: n.Content[i+1].Value})
	}
	return nil
}

type atoms struct {
	Tags   orderedTags `yaml:"tags"`
	Source string      `yaml:"source"`
	Verb   string      `yaml:"verb"`
	Params []string    `yaml:"params"`
}

func loadYAML(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "parser-tests", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func caseName(i int, s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return fmt.Sprintf("%02d/%q", i, s)
}

// tagMap turns tags into a map, failing on a duplicate key (parsed tags
// must be unique).
func tagMap(t *testing.T, tags []ircmsg.Tag) map[string]string {
	t.Helper()
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, tg := range tags {
		if _, dup := m[tg.Key]; dup {
			t.Errorf("duplicate tag key %q in %v", tg.Key, tags)
		}
		m[tg.Key] = tg.Value
	}
	return m
}

// checkAtoms compares a parsed message with the expected atoms. The verb is
// compared uppercased: Parse uppercases commands (POE::Filter::IRCv3 does).
func checkAtoms(t *testing.T, m *ircmsg.Message, want atoms) {
	t.Helper()
	if got, want := tagMap(t, m.Tags), tagMap(t, want.Tags); !cmp.Equal(got, want) {
		t.Errorf("tags: got %q, want %q", got, want)
	}
	if m.Source != want.Source {
		t.Errorf("source: got %q, want %q", m.Source, want.Source)
	}
	if w := strings.ToUpper(want.Verb); m.Command != w {
		t.Errorf("command: got %q, want %q", m.Command, w)
	}
	if len(m.Params) != 0 || len(want.Params) != 0 {
		if !slices.Equal(m.Params, want.Params) {
			t.Errorf("params: got %q, want %q", m.Params, want.Params)
		}
	}
}

func TestMsgSplit(t *testing.T) {
	var file struct {
		Tests []struct {
			Input string `yaml:"input"`
			Atoms atoms  `yaml:"atoms"`
		} `yaml:"tests"`
	}
	loadYAML(t, "msg-split.yaml", &file)
	if len(file.Tests) != wantSplitCases {
		t.Fatalf("msg-split.yaml: loaded %d cases, want %d", len(file.Tests), wantSplitCases)
	}
	for i, tc := range file.Tests {
		t.Run(caseName(i, tc.Input), func(t *testing.T) {
			m, err := ircmsg.ParseString(tc.Input)
			if err != nil {
				t.Fatalf("ParseString(%q) error: %v", tc.Input, err)
			}
			checkAtoms(t, m, tc.Atoms)

			// The []byte path and a reused Message agree.
			var reused ircmsg.Message
			reused.Parse([]byte("@junk=1;more=2 :old!u@h OLD a b c d e f g :h"))
			if err := reused.Parse([]byte(tc.Input)); err != nil {
				t.Fatalf("Parse(%q) error: %v", tc.Input, err)
			}
			checkAtoms(t, &reused, tc.Atoms)

			// The parses that make no copy of their own: in the
			// caller's buffer, and in a Parser's reused buffer (after
			// a longer line, so the buffer and Message are reused).
			var owned ircmsg.Message
			if err := (ircmsg.Limits{}).ParseOwnedInto(&owned, []byte(tc.Input)); err != nil {
				t.Fatalf("ParseOwnedInto(%q) error: %v", tc.Input, err)
			}
			checkAtoms(t, &owned, tc.Atoms)
			var p ircmsg.Parser
			if err := p.Parse(&reused, []byte("@junk=1;more=2 :old!u@h OLD a b c d e f g :h"+strings.Repeat("x", 600))); err == nil {
				t.Fatal("Parser.Parse accepted a body over 512 bytes")
			}
			if err := p.Parse(&reused, []byte("@junk=1;more=2 :old!u@h OLD a b c d e f g :"+strings.Repeat("x", 300))); err != nil {
				t.Fatal(err)
			}
			in := []byte(tc.Input)
			if err := p.Parse(&reused, in); err != nil {
				t.Fatalf("Parser.Parse(%q) error: %v", tc.Input, err)
			}
			checkAtoms(t, &reused, tc.Atoms)
			if string(in) != tc.Input {
				t.Errorf("Parser.Parse changed its line %q into %q", tc.Input, in)
			}
		})
	}
}

func TestMsgJoin(t *testing.T) {
	var file struct {
		Tests []struct {
			Desc    string   `yaml:"desc"`
			Atoms   atoms    `yaml:"atoms"`
			Matches []string `yaml:"matches"`
		} `yaml:"tests"`
	}
	loadYAML(t, "msg-join.yaml", &file)
	if len(file.Tests) != wantJoinCases {
		t.Fatalf("msg-join.yaml: loaded %d cases, want %d", len(file.Tests), wantJoinCases)
	}
	for i, tc := range file.Tests {
		t.Run(caseName(i, tc.Desc), func(t *testing.T) {
			if len(tc.Matches) == 0 {
				t.Fatal("case has no matches")
			}
			m := &ircmsg.Message{
				Tags:    tc.Atoms.Tags,
				Source:  tc.Atoms.Source,
				Command: tc.Atoms.Verb,
				Params:  tc.Atoms.Params,
			}
			for _, f := range []ircmsg.Format{{}, {Colonify: true}} {
				got, err := f.Append(nil, m)
				if err != nil {
					t.Fatalf("%+v.Append error: %v", f, err)
				}
				if !slices.Contains(tc.Matches, string(got)) {
					t.Errorf("%+v.Append = %q, want one of %q", f, got, tc.Matches)
				}
			}
		})
	}
}

func TestUserhostSplit(t *testing.T) {
	var file struct {
		Tests []struct {
			Source string `yaml:"source"`
			Atoms  struct {
				Nick string `yaml:"nick"`
				User string `yaml:"user"`
				Host string `yaml:"host"`
			} `yaml:"atoms"`
		} `yaml:"tests"`
	}
	loadYAML(t, "userhost-split.yaml", &file)
	if len(file.Tests) != wantUserhostCases {
		t.Fatalf("userhost-split.yaml: loaded %d cases, want %d", len(file.Tests), wantUserhostCases)
	}
	for i, tc := range file.Tests {
		t.Run(caseName(i, tc.Source), func(t *testing.T) {
			nick, user, host := ircmsg.SplitSource(tc.Source)
			got := [3]string{nick, user, host}
			want := [3]string{tc.Atoms.Nick, tc.Atoms.User, tc.Atoms.Host}
			if got != want {
				t.Errorf("SplitSource(%q) = %q, want %q", tc.Source, got, want)
			}
		})
	}
}
