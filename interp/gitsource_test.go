package interp_test

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
)

func TestParseGitSource(t *testing.T) {
	for _, tc := range []struct {
		name string
		want interp.GitSource
		err  string // empty: parses
	}{
		{"git+https://host/org/repo.git//dir/lib.star@v1.2.0", interp.GitSource{Repo: "https://host/org/repo.git", Path: "dir/lib.star", Ref: "v1.2.0"}, ""},
		{"git+ssh://git@host:2222/org/repo.git//lib.star@main", interp.GitSource{Repo: "ssh://git@host:2222/org/repo.git", Path: "lib.star", Ref: "main"}, ""},
		{"git+file:///srv/git/lib.git//a/b.star@feature/x", interp.GitSource{Repo: "file:///srv/git/lib.git", Path: "a/b.star", Ref: "feature/x"}, ""},
		{"git+git://127.0.0.1:9418/lib.git//v@2.star@0123abcd", interp.GitSource{Repo: "git://127.0.0.1:9418/lib.git", Path: "v@2.star", Ref: "0123abcd"}, ""},
		{"git+https://host/repo.git/lib.star@v1", interp.GitSource{}, "no // between the repository and the file"},
		{"git+https://host/repo.git//lib.star", interp.GitSource{}, "no @REF"},
		{"git+https://host/repo.git//lib.py@v1", interp.GitSource{}, "library names end in .star"},
		{"git+ftp://host/repo.git//lib.star@v1", interp.GitSource{}, `unknown scheme "ftp"`},
		{"git+host/repo.git//lib.star@v1", interp.GitSource{}, "no SCHEME://"},
		{"git+https://host/repo.git//lib.star@-oops", interp.GitSource{}, `bad ref "-oops"`},
		{"git+https://host/repo.git//lib.star@a..b", interp.GitSource{}, `bad ref "a..b"`},
		{"git+https://host/repo.git//../lib.star@v1", interp.GitSource{}, "not a clean path"},
		{"git+https:///repo.git//lib.star@v1", interp.GitSource{}, "no host"},
		{"git+file://srv/lib.git//lib.star@v1", interp.GitSource{}, "is an absolute path"},
		{"git+https://host/my repo.git//lib.star@v1", interp.GitSource{}, "no spaces"},
	} {
		got, ok, err := interp.ParseGitSource(tc.name)
		switch {
		case !ok:
			t.Errorf("%s: not taken for a versioned source", tc.name)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: got %+v, %v; want an error with %q", tc.name, got, err, tc.err)
		case err == nil && got.String() != tc.name:
			t.Errorf("%s: prints back as %s", tc.name, got)
		}
	}
	if _, ok, _ := interp.ParseGitSource("lib/git+x.star"); ok {
		t.Error("a path was taken for a versioned source")
	}
}

// memSources serves files by load name, at one commit per source.
type memSources map[string]string

func (m memSources) ReadFile(s interp.GitSource) ([]byte, string, error) {
	b, ok := m[s.String()]
	if !ok {
		return nil, "", fmt.Errorf("no file %s", s.Path)
	}
	return []byte(b), "c0ffee-" + s.Ref, nil
}

// TestGitLoads: files of a versioned source load their siblings from the
// same source (relative, or from the repository's root with //), the plan
// lists each source once, and what a source cannot reach is refused at the
// line of the load.
func TestGitLoads(t *testing.T) {
	const repo = "git+file:///r.git//"
	src := memSources{
		repo + "net/lib.star@v1":  "load(\"util.star\", \"u\")\nload(\"//top.star\", \"t\")\nx = u + t\n",
		repo + "net/util.star@v1": "u = 1\n",
		repo + "top.star@v1":      "t = 2\n",
		repo + "net/esc.star@v1":  "\n\nload(\"../../x.star\", \"x\")\n",
		repo + "net/abs.star@v1":  "load(\"/etc/x.star\", \"x\")\n",
	}
	p, err := eval(t, `load("`+repo+`net/lib.star@v1", "x")`+"\nload(\""+repo+"top.star@v1\", \"t\")\nif x != 3: fail(x)\n", interp.Options{Sources: src})
	if err != nil {
		t.Fatal(err)
	}
	want := []interp.Library{{Source: "git+file:///r.git@v1", Commit: "c0ffee-v1"}}
	if fmt.Sprint(p.Libraries) != fmt.Sprint(want) {
		t.Errorf("plan libraries %+v, want %+v", p.Libraries, want)
	}
	for _, tc := range []struct{ src, want string }{
		{`load("` + repo + `net/esc.star@v1", "x")`, repo + "net/esc.star@v1:3:1: cannot load ../../x.star: load \"../../x.star\": ../../x.star is outside the repository file:///r.git"},
		{`load("` + repo + `net/abs.star@v1", "x")`, "loads only files of its repository"},
		{"\n" + `load("git+file:///r.git//lib.star", "x")`, `inline.star:2:1: cannot load git+file:///r.git//lib.star: load "git+file:///r.git//lib.star": no @REF: want git+SCHEME://`},
		{`load("` + repo + `nope.star@v1", "x")`, "inline.star:1:1: cannot load " + repo + "nope.star@v1: load \"" + repo + "nope.star@v1\": no file nope.star"},
	} {
		_, err := eval(t, tc.src, interp.Options{Sources: src})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.src, err, tc.want)
		}
	}
	if _, err := eval(t, `load("`+repo+`top.star@v1", "t")`, interp.Options{}); err == nil ||
		!strings.Contains(err.Error(), "versioned sources are not available here") {
		t.Errorf("without Sources: %v", err)
	}
}

// TestWalkLoads finds the versioned sources of a runbook through its
// plain libraries without executing anything (the runbook would fail).
func TestWalkLoads(t *testing.T) {
	const lib = "git+file:///r.git//net/lib.star@v1"
	src := memSources{lib: "load(\"util.star\", \"u\")\n", "git+file:///r.git//net/util.star@v1": "u = 1\n"}
	files := map[string]string{
		"rb/lab.star":    "load(\"local.star\", \"l\")\nfail(\"not executed\")\n",
		"rb/local.star":  "load(\"" + lib + "\", \"u\")\nl = 1\n",
		"rb/broken.star": "load(\"local.star\", \"l\")\n\nload(\"git+file:///r.git//lib.star@\", \"x\")\n",
	}
	read := func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return []byte(b), nil
		}
		return nil, fmt.Errorf("open %s: %w", p, fs.ErrNotExist)
	}
	libs, err := interp.WalkLoads("rb/lab.star", interp.Options{Sources: src, ReadFile: read})
	if err != nil || len(libs) != 1 || libs[0].Source != "git+file:///r.git@v1" {
		t.Errorf("walk: %+v, %v", libs, err)
	}
	_, err = interp.WalkLoads("rb/broken.star", interp.Options{Sources: src, ReadFile: read})
	if err == nil || !strings.Contains(err.Error(), `rb/broken.star:3:1: cannot load git+file:///r.git//lib.star@: load "git+file:///r.git//lib.star@": bad ref ""`) {
		t.Errorf("walk of a bad load: %v", err)
	}
}
