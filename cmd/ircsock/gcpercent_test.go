package main

import "testing"

func TestServeGCPercent(t *testing.T) {
	cases := []struct {
		name    string
		value   int
		set     bool
		gogc    string
		want    int
		wantSet bool
	}{
		{"default", defaultServeGCPercent, false, "", defaultServeGCPercent, true},
		{"flag", 80, true, "", 80, true},
		{"GOGC alone wins over the default", defaultServeGCPercent, false, "200", 0, false},
		{"flag wins over GOGC", 30, true, "200", 30, true},
		{"zero keeps the runtime's", 0, true, "", 0, false},
		{"negative keeps the runtime's", -1, true, "", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := serveGCPercent(tc.value, tc.set, tc.gogc)
			if got != tc.want || ok != tc.wantSet {
				t.Errorf("serveGCPercent(%d, %v, %q) = %d, %v; want %d, %v", tc.value, tc.set, tc.gogc, got, ok, tc.want, tc.wantSet)
			}
		})
	}
}
