package libsource_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/libsource"
	"github.com/ovnrun/ovnrun/internal/libsource/gittest"
	"github.com/ovnrun/ovnrun/interp"
)

// lab is a runbook directory and cache for one test.
type lab struct {
	t       *testing.T
	runbook string
	cache   libsource.Cache
}

func newLab(t *testing.T, src string) *lab {
	t.Helper()
	dir := t.TempDir()
	l := &lab{t: t, runbook: filepath.Join(dir, "lab.star"), cache: libsource.Cache{Dir: filepath.Join(dir, "cache")}}
	if err := os.WriteFile(l.runbook, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *lab) get(update bool) ([]interp.Library, error) {
	return libsource.Get(l.runbook, interp.Options{}, l.cache, update, nil)
}

// eval evaluates the runbook reading its sources as runs do; the runbook
// sets `out` to what the libraries return.
func (l *lab) eval() (*interp.Plan, string, error) {
	var printed []string
	p, err := interp.Evaluate(l.runbook, nil, interp.Options{
		Sources: &libsource.Reader{Cache: l.cache, LockFile: libsource.LockPath(l.runbook), Runbook: l.runbook},
		Print:   func(msg string) { printed = append(printed, msg) },
	})
	return p, strings.Join(printed, "\n"), err
}

// libRepo is a library repository: lib.star loads its sibling util.star.
func libRepo(t *testing.T, version string) (*gittest.Repo, string) {
	r := gittest.New(t, "netlib")
	commit := r.Commit(map[string]string{
		"ovn/lib.star":  "load(\"util.star\", \"v\")\ndef version():\n    return v\n",
		"ovn/util.star": "v = \"" + version + "\"\n",
	})
	r.Tag("v1.0.0")
	return r, commit
}

// TestGetThenRunOverGitDaemon: get fetches over git:// from a daemon on
// 127.0.0.1 and locks the commit; with the daemon stopped, runs read the
// cache; a tag moved upstream moves nothing until get --update.
func TestGetThenRunOverGitDaemon(t *testing.T) {
	r, v1 := libRepo(t, "one")
	url, stop := r.Daemon()
	l := newLab(t, `load("git+`+url+`//ovn/lib.star@v1.0.0", "version")`+"\nprint(version())\n")
	libs, err := l.get(false)
	if err != nil {
		t.Fatal(err)
	}
	key := "git+" + url + "@v1.0.0"
	if len(libs) != 1 || libs[0].Source != key || libs[0].Commit != v1 {
		t.Fatalf("get locked %+v, want %s at %s", libs, key, v1)
	}
	lock, err := libsource.ReadLock(libsource.LockPath(l.runbook))
	if err != nil || lock[key].Commit != v1 || !strings.HasPrefix(lock[key].Hash, "sha256:") {
		t.Fatalf("lock %+v (%v), want %s at %s", lock, err, key, v1)
	}

	// Upstream moves the tag; the daemon then goes away.
	r.Commit(map[string]string{"ovn/util.star": "v = \"two\"\n"})
	r.Tag("v1.0.0")
	stop()
	p, out, err := l.eval()
	if err != nil {
		t.Fatalf("offline run: %v", err)
	}
	if out != "one" || len(p.Libraries) != 1 || p.Libraries[0] != (interp.Library{Source: key, Commit: v1}) {
		t.Errorf("offline run printed %q with libraries %+v, want one at %s", out, p.Libraries, v1)
	}
	// get again (offline too: the locked commit is in the cache) keeps it.
	if libs, err := l.get(false); err != nil || libs[0].Commit != v1 {
		t.Errorf("second get: %+v, %v; want the locked %s kept", libs, err, v1)
	}
	// --update needs the repository again; stopped, it says what failed.
	if _, err := l.get(true); err == nil || !strings.Contains(err.Error(), "lab.star:1:1: cannot load") {
		t.Errorf("get --update with the daemon stopped: %v, want an error at the load", err)
	}
}

// TestUpdateMovesToTheNewTag: over file://, get --update locks where the tag
// is now and runs follow.
func TestUpdateMovesToTheNewTag(t *testing.T) {
	r, _ := libRepo(t, "one")
	l := newLab(t, `load("git+`+r.FileURL()+`//ovn/lib.star@v1.0.0", "version")`+"\nprint(version())\n")
	if _, err := l.get(false); err != nil {
		t.Fatal(err)
	}
	v2 := r.Commit(map[string]string{"ovn/util.star": "v = \"two\"\n"})
	r.Tag("v1.0.0")
	if libs, err := l.get(true); err != nil || libs[0].Commit != v2 {
		t.Fatalf("get --update: %+v, %v; want %s", libs, err, v2)
	}
	if _, out, err := l.eval(); err != nil || out != "two" {
		t.Errorf("run after --update printed %q, %v; want two", out, err)
	}
}

// TestRefKinds: a branch, a full commit and an abbreviated one resolve.
func TestRefKinds(t *testing.T) {
	r, v1 := libRepo(t, "one")
	for _, ref := range []string{"main", v1, v1[:10]} {
		l := newLab(t, `load("git+`+r.FileURL()+`//ovn/lib.star@`+ref+`", "version")`+"\n")
		if libs, err := l.get(false); err != nil || libs[0].Commit != v1 {
			t.Errorf("@%s: %+v, %v; want %s", ref, libs, err, v1)
		}
	}
	l := newLab(t, `load("git+`+r.FileURL()+`//ovn/lib.star@v9", "version")`+"\n")
	if _, err := l.get(false); err == nil || !strings.Contains(err.Error(), `lab.star:1:1: cannot load`) ||
		!strings.Contains(err.Error(), `no tag, branch or commit "v9"`) {
		t.Errorf("@v9: %v, want no such ref at lab.star:1:1", err)
	}
}

// TestTransitiveSources: a library loads another versioned source, which
// loads a sibling from its repository's root; get locks both and a run reads both.
func TestTransitiveSources(t *testing.T) {
	base := gittest.New(t, "base")
	base.Commit(map[string]string{"a/base.star": "load(\"//top.star\", \"t\")\nb = t + 1\n", "top.star": "t = 41\n"})
	base.Tag("v2")
	mid := gittest.New(t, "mid")
	mid.Commit(map[string]string{"mid.star": `load("git+` + base.FileURL() + `//a/base.star@v2", "b")` + "\nm = b\n"})
	mid.Tag("v1")
	l := newLab(t, `load("git+`+mid.FileURL()+`//mid.star@v1", "m")`+"\nprint(m)\n")
	libs, err := l.get(false)
	if err != nil || len(libs) != 2 {
		t.Fatalf("get: %+v, %v; want both sources", libs, err)
	}
	p, out, err := l.eval()
	if err != nil || out != "42" || len(p.Libraries) != 2 {
		t.Errorf("run: printed %q, libraries %+v, %v", out, p.Libraries, err)
	}
}

// TestTamperedCache: a cached file edited after get is refused, naming the
// source and the runbook line of the load; get repairs the cache.
func TestTamperedCache(t *testing.T) {
	r, v1 := libRepo(t, "one")
	l := newLab(t, "x = 1\n"+`load("git+`+r.FileURL()+`//ovn/lib.star@v1.0.0", "version")`+"\nprint(version())\n")
	if _, err := l.get(false); err != nil {
		t.Fatal(err)
	}
	var util string
	filepath.WalkDir(l.cache.Dir, func(p string, _ os.DirEntry, _ error) error {
		if strings.HasSuffix(p, filepath.Join(v1, "ovn", "util.star")) {
			util = p
		}
		return nil
	})
	if err := os.WriteFile(util, []byte("v = \"evil\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, err := l.eval()
	want := []string{"lab.star:2:1: cannot load git+" + r.FileURL() + "//ovn/lib.star@v1.0.0", "do not match", v1}
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Fatalf("run with a tampered cache printed %q, error %v; want one containing %q", out, err, w)
		}
	}
	if _, err := l.get(false); err != nil {
		t.Fatal(err)
	}
	if _, out, err := l.eval(); err != nil || out != "one" {
		t.Errorf("after get repaired the cache: %q, %v", out, err)
	}
}

// TestNotLocked: a run never fetches: no lock, a source missing from the
// lock, a lock whose commit is not cached are errors saying to run get.
func TestNotLocked(t *testing.T) {
	r, _ := libRepo(t, "one")
	load := `load("git+` + r.FileURL() + `//ovn/lib.star@v1.0.0", "version")` + "\n"
	l := newLab(t, load)
	if _, _, err := l.eval(); err == nil || !strings.Contains(err.Error(), "there is no "+libsource.LockPath(l.runbook)) ||
		!strings.Contains(err.Error(), "run `ovnrun get "+l.runbook+"`") {
		t.Errorf("without a lock: %v", err)
	}
	if _, err := l.get(false); err != nil {
		t.Fatal(err)
	}
	// The runbook gains a source the lock lacks.
	other := gittest.New(t, "other")
	other.Commit(map[string]string{"o.star": "o = 1\n"})
	src := load + `load("git+` + other.FileURL() + `//o.star@main", "o")` + "\n"
	if err := os.WriteFile(l.runbook, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.eval(); err == nil || !strings.Contains(err.Error(), "lab.star:2:1") ||
		!strings.Contains(err.Error(), "git+"+other.FileURL()+"@main is not in "+libsource.LockPath(l.runbook)) {
		t.Errorf("a source missing from the lock: %v", err)
	}
	// The lock names it but the cache is gone.
	if _, err := l.get(false); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(l.cache.Dir); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.eval(); err == nil || !strings.Contains(err.Error(), "is not in the cache") {
		t.Errorf("an empty cache: %v", err)
	}
}

// TestFreshCacheKeepsTheLock: on a machine with an empty cache, get fetches
// the locked commit although the tag has moved since it was locked.
func TestFreshCacheKeepsTheLock(t *testing.T) {
	r, v1 := libRepo(t, "one")
	l := newLab(t, `load("git+`+r.FileURL()+`//ovn/lib.star@v1.0.0", "version")`+"\nprint(version())\n")
	if _, err := l.get(false); err != nil {
		t.Fatal(err)
	}
	r.Commit(map[string]string{"ovn/util.star": "v = \"two\"\n"})
	r.Tag("v1.0.0")
	l.cache = libsource.Cache{Dir: filepath.Join(t.TempDir(), "fresh")}
	if libs, err := l.get(false); err != nil || libs[0].Commit != v1 {
		t.Fatalf("get with a fresh cache: %+v, %v; want the locked %s", libs, err, v1)
	}
	if _, out, err := l.eval(); err != nil || out != "one" {
		t.Errorf("run: %q, %v; want one", out, err)
	}
}
