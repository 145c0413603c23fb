package interop

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine of the tests or of the Backend
// outlives the suite, and removes the binary built for it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if buildDir != "" {
			os.RemoveAll(buildDir)
		}
		os.Exit(code)
	}))
}
