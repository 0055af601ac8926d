package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/libsource"
	"github.com/ovnrun/ovnrun/internal/libsource/gittest"
)

// TestGetAndPlan: ovnrun get locks a runbook's git library (served over
// file://), and the plan, text and JSON, names the commit it used; a
// tampered cache makes the plan fail at the runbook line of the load.
func TestGetAndPlan(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	repo := gittest.New(t, "lablib")
	commit := repo.Commit(map[string]string{"lib/switches.star": "def switches(n):\n    for i in range(n):\n        ls(\"ls%d\" % i)\n"})
	repo.Tag("v1.2.0")
	source := "git+" + repo.FileURL() + "@v1.2.0"
	runbook := filepath.Join(t.TempDir(), "lab.star")
	src := "# a lab\n" + `load("git+` + repo.FileURL() + `//lib/switches.star@v1.2.0", "switches")` + "\nswitches(2)\n"
	if err := os.WriteFile(runbook, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := ovnrun(t, "--dry-run", "--offline", runbook)
	if code != exitRunbook || !strings.Contains(stderr, runbook+":2:1: cannot load") || !strings.Contains(stderr, "run `ovnrun get "+runbook+"`") {
		t.Fatalf("plan before get: exit %d, stdout %q, stderr %q; want exit 3 saying to run get", code, stdout, stderr)
	}
	stdout, stderr, code = ovnrun(t, "get", runbook)
	if code != exitOK || stdout != source+": commit "+commit+"\nLocked 1 source(s) in "+libsource.LockPath(runbook)+".\n" {
		t.Fatalf("get: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	stdout, stderr, code = ovnrun(t, "--dry-run", "--offline", runbook)
	if code != exitOK || !strings.Contains(stdout, "  library "+source+" = commit "+commit+"\n") || !strings.Contains(stdout, "+ logical_switch ls1") {
		t.Errorf("plan: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	stdout, _, code = ovnrun(t, "--dry-run", "--offline", "--output", "json", runbook)
	var plan struct {
		Libraries []struct{ Source, Commit string }
	}
	if err := json.Unmarshal([]byte(stdout), &plan); code != exitOK || err != nil || len(plan.Libraries) != 1 ||
		plan.Libraries[0].Source != source || plan.Libraries[0].Commit != commit {
		t.Errorf("JSON plan: exit %d, %v, libraries %+v", code, err, plan.Libraries)
	}

	// Tamper with the cached library.
	var cached []string
	filepath.WalkDir(os.Getenv("XDG_CACHE_HOME"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "switches.star" {
			cached = append(cached, p)
		}
		return nil
	})
	if len(cached) != 1 {
		t.Fatalf("cached copies of the library: %v", cached)
	}
	if err := os.WriteFile(cached[0], []byte("def switches(n):\n    ls(\"evil\")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = ovnrun(t, "--dry-run", "--offline", runbook)
	if code != exitRunbook || stdout != "" || !strings.HasPrefix(stderr, "error: "+runbook+":2:1: cannot load git+"+repo.FileURL()+"//lib/switches.star@v1.2.0") ||
		!strings.Contains(stderr, "do not match "+libsource.LockPath(runbook)) {
		t.Errorf("plan with a tampered cache: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestGetErrors: bad syntax is refused with the runbook's file:line; a
// runbook without versioned sources gets no lock.
func TestGetErrors(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.star")
	if err := os.WriteFile(bad, []byte("ls(\"a\")\nload(\"git+https://host/repo.git/lib.star@v1\", \"x\")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"get", bad}, {"--dry-run", "--offline", bad}} {
		_, stderr, code := ovnrun(t, args...)
		if code != exitRunbook || !strings.Contains(stderr, "error: "+bad+":2:1: cannot load git+https://host/repo.git/lib.star@v1") ||
			!strings.Contains(stderr, "no // between the repository and the file: want git+SCHEME://HOST/REPO//FILE.star@REF") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	plain := filepath.Join(dir, "plain.star")
	if err := os.WriteFile(plain, []byte("ls(\"a\")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := ovnrun(t, "get", plain)
	if _, err := os.Stat(libsource.LockPath(plain)); code != exitOK || !strings.Contains(stdout, "nothing to lock") || err == nil {
		t.Errorf("get of a runbook without versioned sources: exit %d, stdout %q, stderr %q, lock written: %v", code, stdout, stderr, err == nil)
	}
}
