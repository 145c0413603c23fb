package client_test

import "testing"

// TestInspIRCd runs the cases that share one InspIRCd + Atheme pair, in
// parallel: each uses its own nicks, accounts and channels.
func TestInspIRCd(t *testing.T) {
	n := startNetwork(t, false)
	cases := []struct {
		name string
		run  func(*testing.T, *network)
	}{
		{"SASLPlain", saslPlain},
		{"SASLExternal", saslExternal},
		{"NickInUse", nickInUse},
		{"Tracking", tracking},
		{"LongMessage", longMessage},
		{"FloodControl", floodControl},
		{"IRCv3", ircv3Features},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, n)
		})
	}
}
