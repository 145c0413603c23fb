package client_test

import (
	"slices"
	"testing"

	"github.com/ircsock/ircsock/client"
)

// New normalises the mechanism names in its own copy, not in the
// caller's slice.
func TestNewKeepsCallerMechanisms(t *testing.T) {
	mechs := []string{"plain", "scram-sha-256"}
	if _, err := client.New(client.Config{Addr: "127.0.0.1:1", Nick: "n", SASL: client.SASL{Password: "p", Mechanisms: mechs}}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"plain", "scram-sha-256"}; !slices.Equal(mechs, want) {
		t.Errorf("the caller's Mechanisms became %q", mechs)
	}
}
