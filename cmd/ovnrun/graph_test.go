package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// graph runs `ovnrun graph` in-process from the repository root.
func graph(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return ovnrun(t, append([]string{"graph"}, args...)...)
}

// TestGoldenGraphs checks the DOT and Mermaid graphs of every runbook under
// runbooks/. Run with -update to rewrite them after a deliberate change.
func TestGoldenGraphs(t *testing.T) {
	runbooks, err := filepath.Glob("../../runbooks/*.star")
	if err != nil || len(runbooks) == 0 {
		t.Fatalf("no runbooks found: %v", err)
	}
	for _, rb := range runbooks {
		name := strings.TrimSuffix(filepath.Base(rb), ".star")
		for _, f := range []struct{ format, ext string }{{"dot", "dot"}, {"mermaid", "mmd"}} {
			format, ext := f.format, f.ext
			t.Run(name+"/"+format, func(t *testing.T) {
				golden, err := filepath.Abs(filepath.Join("testdata/golden", name+"."+ext))
				if err != nil {
					t.Fatal(err)
				}
				stdout, stderr, code := graph(t, "--format", format, "runbooks/"+name+".star")
				if code != exitOK {
					t.Fatalf("exit %d, stderr:\n%s", code, stderr)
				}
				checkGolden(t, golden, stdout, "TestGoldenGraphs")
			})
		}
	}
}

// TestGraphFromNB builds the seed's topology in a real NB with the seed's
// ovn-nbctl calls and checks that `graph --nb` draws it as the plan does.
func TestGraphFromNB(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	script, err := os.ReadFile(filepath.Join(repoRoot, "builtins/ovn/testdata/dgp.nbctl"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(script), "\n") {
		if line = strings.TrimSpace(line); line == "" || line[0] == '#' {
			continue
		}
		var args []string // double quotes group words
		for i, part := range strings.Split(line, `"`) {
			if i%2 == 1 {
				args = append(args, part)
			} else {
				args = append(args, strings.Fields(part)...)
			}
		}
		if _, err := nb.NBCtl(args...); err != nil {
			t.Fatal(err)
		}
	}
	fromPlan, stderr, code := graph(t, "runbooks/dgp.star")
	if code != exitOK {
		t.Fatalf("graph: exit %d, stderr:\n%s", code, stderr)
	}
	fromNB, stderr, code := graph(t, "--nb", nb.Sock, "runbooks/dgp.star")
	if code != exitOK {
		t.Fatalf("graph --nb: exit %d, stderr:\n%s", code, stderr)
	}
	fromNB = strings.ReplaceAll(fromNB, "NB "+nb.Sock, "runbooks/dgp.star")
	if fromNB != fromPlan {
		t.Errorf("graph --nb differs from the plan's graph (-plan +nb):\n%s", lineDiff(fromPlan, fromNB))
	}
}

func TestGraphFiles(t *testing.T) {
	requireDot(t)
	dir := t.TempDir()
	for _, tt := range []struct{ args, file, prefix string }{
		{"-o " + dir + "/dgp.svg", "dgp.svg", "<?xml"},
		{"--format png -o " + dir + "/dgp.img", "dgp.img", "\x89PNG"},
		{"-o " + dir + "/dgp.mmd", "dgp.mmd", "flowchart TB"},
		{"-o " + dir + "/dgp.gv", "dgp.gv", "// The topology of runbooks/dgp.star"},
		{"-o " + dir + "/dgp.pdf", "dgp.pdf", "%PDF-"},
		{"--format pdf -o " + dir + "/dgp.PDF", "dgp.PDF", "%PDF-"},
	} {
		stdout, stderr, code := graph(t, append(strings.Fields(tt.args), "runbooks/dgp.star")...)
		if code != exitOK || stdout != "" {
			t.Fatalf("graph %s: exit %d, stdout %q, stderr:\n%s", tt.args, code, stdout, stderr)
		}
		data, err := os.ReadFile(filepath.Join(dir, tt.file))
		if err != nil || !strings.HasPrefix(string(data), tt.prefix) {
			t.Errorf("graph %s wrote %.40q (%v), want it to start with %q", tt.args, data, err, tt.prefix)
		}
	}
}

func TestGraphErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, exitUsage, "want a runbook, or --nb ADDR"},
		{[]string{"a.star", "b.star"}, exitUsage, "want one runbook, got 2"},
		{[]string{"--format", "jpeg", "runbooks/dgp.star"}, exitUsage, `--format "jpeg": want dot, mermaid, svg, png, pdf`},
		{[]string{"--nb", "unix:/nonexistent", "-D", "x=1"}, exitUsage, "-D and --lib need a runbook"},
		{[]string{"-D", "nope", "runbooks/dgp.star"}, exitUsage, `-D "nope": want NAME=VALUE`},
		{[]string{"cmd/ovnrun/testdata/errors/bad_mac.star"}, exitRunbook, "bad_mac.star:"},
		{[]string{"--nb", "unix:/nonexistent/nb.sock", "--nb-timeout", "300ms"}, exitFailure, "unix:/nonexistent/nb.sock"},
	} {
		stdout, stderr, code := graph(t, tt.args...)
		if code != tt.code || stdout != "" || !strings.Contains(stderr, tt.msg) {
			t.Errorf("graph %q: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, code, stdout, stderr, tt.code, tt.msg)
		}
	}
}

// TestGraphWithoutDot checks the error SVG output gives when Graphviz is
// missing, and that no file is left behind.
func TestGraphWithoutDot(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dgp.svg")
	t.Setenv("PATH", t.TempDir())
	_, stderr, code := graph(t, "-o", out, "runbooks/dgp.star")
	if code != exitFailure || !strings.Contains(stderr, "needs Graphviz's dot, which is not installed") {
		t.Errorf("exit %d, stderr %q; want exit %d and a note that dot is missing", code, stderr, exitFailure)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was written", out)
	}
}

func requireDot(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dot"); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("graphviz's dot is not installed (apt-get install graphviz)")
	}
	t.Skip("graphviz's dot is not installed (apt-get install graphviz)")
}
