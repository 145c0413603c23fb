package fuzz

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests: the Backend of
// FuzzBackendWire is shut down when the target ends.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
