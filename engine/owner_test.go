package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
)

// TestOwnerOf checks where a run's owner comes from: --owner, else lab(),
// else the path, which gives copies in two directories two owners and one
// file one owner whatever the working directory.
func TestOwnerOf(t *testing.T) {
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one", "dgp.star"), filepath.Join(dir, "two", "dgp.star")
	withLab := &interp.Plan{Runbook: one, Settings: []interp.Field{interp.F(interp.OwnerSetting, "x")}}
	tests := []struct {
		name string
		plan *interp.Plan
		flag string
		want Ownership
	}{
		{"flag wins", withLab, "team", Ownership{Owner: "team", From: "--owner"}},
		{"lab()", withLab, "", Ownership{Owner: "x", From: "lab()"}},
		{"path", &interp.Plan{Runbook: one}, "", Ownership{Owner: PathOwner(one), Legacy: "dgp.star", From: "path"}},
	}
	for _, tc := range tests {
		if got := OwnerOf(tc.plan, tc.flag); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if PathOwner(one) == PathOwner(two) {
		t.Errorf("two copies share the owner %q", PathOwner(one))
	}
	if err := os.MkdirAll(filepath.Dir(one), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(one))
	if rel := PathOwner("dgp.star"); rel != PathOwner(one) {
		t.Errorf("relative path: %q, absolute %q", rel, PathOwner(one))
	}
}
