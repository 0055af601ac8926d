package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/stdlib"
)

var update = flag.Bool("update", false, "rewrite the golden plans in testdata/golden")

// repoRoot is the repository root, found once from the package directory
// tests start in.
var repoRoot = func() string {
	root, err := filepath.Abs("../..")
	if err != nil {
		panic(err)
	}
	return root
}()

// ovnrun runs the command in-process from the repository root, so runbook
// paths in plans and errors read as a user would type them.
func ovnrun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Chdir(repoRoot)
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return out.String(), errb.String(), code
}

// TestGoldenPlans checks the offline plan of every runbook under runbooks/,
// in text and JSON. Run with -update to rewrite them after a deliberate change.
func TestGoldenPlans(t *testing.T) {
	runbooks, err := filepath.Glob("../../runbooks/*.star")
	if err != nil || len(runbooks) == 0 {
		t.Fatalf("no runbooks found: %v", err)
	}
	for _, rb := range runbooks {
		name := strings.TrimSuffix(filepath.Base(rb), ".star")
		for _, format := range []string{"text", "json"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				golden, err := filepath.Abs(filepath.Join("testdata/golden", name+"."+format))
				if err != nil {
					t.Fatal(err)
				}
				stdout, stderr, code := ovnrun(t, "--dry-run", "--offline", "--output", format, "runbooks/"+name+".star")
				if code != exitOK {
					t.Fatalf("exit %d, stderr:\n%s", code, stderr)
				}
				checkGolden(t, golden, stdout, "TestGoldenPlans")
			})
		}
	}
}

// TestGoldenDestroyPlan checks the offline destroy plan of runbooks/dgp.star:
// every NB row, VM and VM NIC it creates, in the order a live destroy
// deletes them, and none of its host settings or commands.
func TestGoldenDestroyPlan(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			golden, err := filepath.Abs("testdata/golden/dgp.destroy." + format)
			if err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := ovnrun(t, "--dry-run", "--offline", "--destroy", "--output", format, "runbooks/dgp.star")
			if code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			checkGolden(t, golden, stdout, "TestGoldenDestroyPlan")
		})
	}
}

// checkGolden compares got with the golden file at path, or rewrites the
// file with -update; test names the test that rewrites it.
func checkGolden(t *testing.T, path, got, test string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/ovnrun -run %s -update)", err, test)
	}
	if got != string(want) {
		t.Errorf("%s differs (-want +got; go test ./cmd/ovnrun -run %s -update rewrites it):\n%s", path, test, lineDiff(string(want), got))
	}
}

// lineDiff is a minimal line-oriented diff: enough to point at a changed
// plan line without a dependency.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case i < len(w) && j < len(g) && w[i] == g[j]:
			i++
			j++
		case j < len(g) && !contains(w[i:], g[j]):
			b.WriteString("+" + g[j] + "\n")
			j++
		case i < len(w):
			b.WriteString("-" + w[i] + "\n")
			i++
		default:
			b.WriteString("+" + g[j] + "\n")
			j++
		}
	}
	return b.String()
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

func TestDoc(t *testing.T) {
	stdout, _, code := ovnrun(t, "doc")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range reg.All() {
		if !strings.Contains(stdout, b.Signature+"\n") {
			t.Errorf("ovnrun doc lacks %s", b.Signature)
		}
	}
	one, _, code := ovnrun(t, "doc", "lrp")
	if code != exitOK || !strings.HasPrefix(one, "lrp(router, name,") || !strings.Contains(one, "peer=") {
		t.Errorf("ovnrun doc lrp: exit %d, output:\n%s", code, one)
	}
	// The standard library is documented beside the builtins.
	fns, err := stdlib.Functions(stdlib.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fns {
		if !strings.Contains(stdout, f.Signature+"\n    "+f.Load()+"\n") {
			t.Errorf("ovnrun doc lacks %s with its load()", f.Signature)
		}
	}
	one, _, code = ovnrun(t, "doc", "link")
	if want := "link(router, switch, mac, network)\nload(\"@stdlib//lab.star\", \"link\")\n\n    Connects router"; code != exitOK || !strings.HasPrefix(one, want) {
		t.Errorf("ovnrun doc link: exit %d, output:\n%s\nwant it to start with\n%s", code, one, want)
	}
	_, stderr, code := ovnrun(t, "doc", "nosuch")
	if code != exitUsage || !strings.Contains(stderr, `no builtin "nosuch"`) || !strings.Contains(stderr, "lsp") || !strings.Contains(stderr, "gateway_router") {
		t.Errorf("ovnrun doc nosuch: exit %d, stderr %q", code, stderr)
	}
}

// TestBuiltinsReference keeps docs/builtins.md equal to what the registry
// documents; -update rewrites it.
func TestBuiltinsReference(t *testing.T) {
	stdout, _, code := ovnrun(t, "doc", "--markdown")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	checkGolden(t, filepath.Join(repoRoot, "docs/builtins.md"), stdout, "TestBuiltinsReference")
}

func TestVarsAndStepFilters(t *testing.T) {
	stdout, stderr, code := ovnrun(t, "--dry-run", "--offline", "-D", "h0_address=10.99.0.1", "--only", "topology,outside", "runbooks/dgp.star")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `nb = "tcp:10.99.0.1:6641"`) {
		t.Errorf("-D h0_address did not reach ovn_nb:\n%s", stdout)
	}
	for _, want := range []string{"Step topology", "Step outside"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--only topology,outside: missing %q", want)
		}
	}
	for _, unwanted := range []string{"Step vms", "Step compute", "Step server", "Step verify"} {
		if strings.Contains(stdout, unwanted) {
			t.Errorf("--only topology,outside: has %q", unwanted)
		}
	}
	stdout, _, code = ovnrun(t, "--dry-run", "--offline", "--from", "outside", "runbooks/dgp.star")
	if code != exitOK || strings.Contains(stdout, "Step topology") || !strings.Contains(stdout, "Step verify") {
		t.Errorf("--from outside: exit %d\n%s", code, stdout)
	}
	_, stderr, code = ovnrun(t, "--dry-run", "--offline", "--only", "nosuch", "runbooks/dgp.star")
	if code != exitUsage || !strings.Contains(stderr, `no step "nosuch"`) {
		t.Errorf("--only nosuch: exit %d, %s", code, stderr)
	}
	_, stderr, code = ovnrun(t, "--dry-run", "--offline", "-D", "h0_adress=1.2.3.4", "runbooks/dgp.star")
	if code != exitUsage || !strings.Contains(stderr, "h0_adress") {
		t.Errorf("-D with a typo: exit %d, %s", code, stderr)
	}
}

// TestOfflineNeedsDryRun: --offline contacts nothing, so it can only plan.
func TestOfflineNeedsDryRun(t *testing.T) {
	_, stderr, code := ovnrun(t, "--offline", "runbooks/dgp.star")
	if code != exitUsage || !strings.Contains(stderr, "add --dry-run") {
		t.Errorf("--offline without --dry-run: exit %d, stderr %q", code, stderr)
	}
}
