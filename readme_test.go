package ircsock_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goBlock matches a fenced Go code block of a Markdown file.
var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// TestREADMECodeBlocks checks that every Go code block of README.md is,
// verbatim, code of an example_test.go file of the module, so that it is
// compiled and run by an Example with an Output line and cannot drift from
// what the README shows.
func TestREADMECodeBlocks(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlock.FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go code block; the test is looking at the wrong file")
	}
	var examples []string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, "example_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if !strings.Contains(string(b), "// Output:") {
				t.Errorf("%s has no Example with an Output line", path)
			}
			examples = append(examples, string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range blocks {
		block := m[1]
		found := false
		for _, src := range examples {
			if strings.Contains(src, block) {
				found = true
				break
			}
		}
		if !found {
			first, _, _ := strings.Cut(block, "\n")
			t.Errorf("README.md Go block %d (%q...) is in no example_test.go file: keep the README and the examples in step", i+1, first)
		}
	}
}
