package filter

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// python3 runs a Python 3 program with stdin and returns its standard
// output. Python's zlib module is the C zlib, the other end the filters
// must agree with. Outside CI a missing python3 skips the test with a
// message; under CI=true it fails it.
func python3(t testing.TB, prog string, stdin []byte) []byte {
	t.Helper()
	path, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 is needed as the zlib peer under CI=true: %v", err)
		}
		t.Skipf("python3 not found, skipping the Python zlib peer: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-c", prog)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.Bytes())
	}
	return out
}
