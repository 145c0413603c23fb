package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestDescribeBuild(t *testing.T) {
	cases := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{
			name: "tagged release",
			bi: debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "3624ba6e5f0c9a1b"}, {Key: "vcs.time", Value: "2026-12-02T16:21:00Z"}, {Key: "vcs.modified", Value: "false"},
			}},
			want: "v1.2.0 revision 3624ba6e5f0c9a1b (2026-12-02T16:21:00Z)",
		},
		{
			name: "modified checkout",
			bi: debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"},
			}},
			want: "(devel) revision abc (modified)",
		},
		{
			name: "no vcs",
			bi:   debug.BuildInfo{},
			want: "(devel) no VCS revision (built with -buildvcs=false or outside a checkout)",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := describeBuild(&tc.bi); got != tc.want {
				t.Errorf("describeBuild() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestVersionRevision builds the real program from this checkout with VCS
// stamping on and checks that "ircsock version" prints the checkout's HEAD.
func TestVersionRevision(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	head, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git rev-parse HEAD: %v (CI runs from a git clone)", err)
		}
		t.Skipf("not in a git checkout (git rev-parse HEAD: %v)", err)
	}
	top, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse --show-toplevel: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err == nil && !fi.IsDir() {
		// go build stamps only a checkout whose .git is a directory.
		t.Skip("a linked git worktree (.git is a file): go build records no VCS revision here")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "ircsock")
	if out, err := exec.CommandContext(ctx, goTool, "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil {
		t.Fatalf("ircsock version: %v", err)
	}
	want := "revision " + strings.TrimSpace(string(head))
	if !strings.HasPrefix(string(out), "ircsock ") || !strings.Contains(string(out), want) {
		t.Errorf("ircsock version printed %q, want it to name %q", out, want)
	}
}
