package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/testdiff"
)

// TestImportRoundTrip imports NBs built by ovn-nbctl scripts and checks
// that the runbook written builds the same NB on an empty one (every row
// of every table, and the SB logical flows per datapath), and that applied
// with --adopt to the NB it came from it changes nothing but ownership
// tags, after which a dry run finds nothing to do.
func TestImportRoundTrip(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovsdb-client", "ovn-northd", "ovs-appctl", "ovn-nbctl")
	dirs, err := filepath.Glob(filepath.Join(repoRoot, equivCases, "*", "nbctl.sh"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases under %s: %v", equivCases, err)
	}
	for _, script := range dirs {
		dir := filepath.Dir(script)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			checkImportRoundTrip(t, filepath.Base(dir), func(c *daemons.Central) {
				runNBCtlScript(t, c, filepath.Join(dir, "foreign.sh"))
				runNBCtlScript(t, c, script)
			})
		})
	}
	runbooks, err := filepath.Glob(filepath.Join(repoRoot, "runbooks", "*.star"))
	if err != nil || len(runbooks) == 0 {
		t.Fatalf("no runbooks: %v", err)
	}
	for _, rb := range runbooks {
		rb = "runbooks/" + filepath.Base(rb)
		t.Run(rb, func(t *testing.T) {
			// The source's rows are the runbook's own: --include-owned.
			checkImportRoundTrip(t, "", func(c *daemons.Central) {
				args := []string{"--yes", "--nb", c.NB.Sock, "--only", strings.Join(nbSteps(t, rb), ","),
					"--journal", filepath.Join(t.TempDir(), "journal"), rb}
				if stdout, stderr, code := ovnrun(t, args...); code != exitOK {
					t.Fatalf("applying %s: exit %d\n%s%s", rb, code, stdout, stderr)
				}
				checkOwnedLeftOut(t, c)
			}, "--include-owned")
		})
	}
	for _, name := range []string{"seed", "mixed", "edges"} {
		t.Run(name, func(t *testing.T) {
			checkImportRoundTrip(t, name, func(c *daemons.Central) {
				runNBCtlScript(t, c, filepath.Join(repoRoot, importCases, name+".sh"))
			})
		})
	}
}

// importCases holds seed.sh (the seed's ovn-nbctl commands), mixed.sh
// (every family, only shapes a runbook can declare), edges.sh (the shapes it
// cannot) and, per source NAME, NAME.known.diff: what a runbook cannot build
// of that source, as checkKnownDifferences reads it, and the logical flow
// counts that differ for it, as checkKnownFlowCounts reads them.
const importCases = "cmd/ovnrun/testdata/import"

// checkImportRoundTrip builds a source NB with build, imports it, and
// compares.
// An empty name has no known.diff; importArgs are added to ovnrun import's.
func checkImportRoundTrip(t *testing.T, name string, build func(*daemons.Central), importArgs ...string) {
	a, b := daemons.StartCentral(t), daemons.StartCentral(t)
	for _, c := range []*daemons.Central{a, b} {
		nbctl(t, c, "set", "NB_Global", ".", "options:mac_prefix="+macPrefix)
	}
	build(a)
	syncSB(t, a)
	runbook := filepath.Join(t.TempDir(), "lab.star")
	if stdout, stderr, code := ovnrun(t, append([]string{"import", "--nb", a.NB.Sock, "-o", runbook}, importArgs...)...); code != exitOK {
		t.Fatalf("ovnrun import: exit %d\n%s%s", code, stdout, stderr)
	}
	text, err := os.ReadFile(runbook)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--yes", "--nb", b.NB.Sock, "--wait", "sb", "--journal", filepath.Join(t.TempDir(), "journal"), runbook}
	if stdout, stderr, code := ovnrun(t, args...); code != exitOK {
		t.Fatalf("applying the imported runbook: exit %d\n%s%s\n%s", code, stdout, stderr, text)
	}
	syncSB(t, b)
	source := nbDumpAll(t, a)
	known := filepath.Join(repoRoot, importCases, name+".known.diff")
	if name == "" {
		known = filepath.Join(t.TempDir(), "none")
	}
	checkKnownDifferences(t, known, source, nbDumpAll(t, b))
	t.Logf("compared %s and %s", measured(source), measured(flowCounts(t, a)))
	if t.Failed() {
		t.Logf("the imported runbook:\n%s", text)
	}
	checkKnownFlowCounts(t, known, flowCounts(t, a), flowCounts(t, b))

	onSource := []string{"--yes", "--nb", a.NB.Sock, "--wait", "sb", "--journal", filepath.Join(t.TempDir(), "journal"), runbook}
	if stdout, stderr, code := ovnrun(t, append([]string{"--adopt"}, onSource...)...); code != exitOK {
		t.Fatalf("--adopt on the source NB: exit %d\n%s%s", code, stdout, stderr)
	}
	syncSB(t, a)
	if got := nbDumpAll(t, a); got != source {
		// Rows the runbook cannot build as they are (known.diff) are
		// rebuilt as it builds them; nothing else may change.
		diff := testdiff.Lines(source, got)
		if extra := linesNotIn(diff, knownText(t, known)); extra != "" {
			t.Errorf("--adopt on the source NB changed more than ownership tags and %s (- before, + after):\n%s", filepath.Base(known), extra)
		}
	}
	stdout, stderr, code := ovnrun(t, append([]string{"--dry-run", "--adopt"}, onSource...)...)
	if code != exitOK || !strings.Contains(stdout, "\nNo changes.\n") {
		t.Errorf("--dry-run --adopt after adopting: exit %d, want No changes:\n%s%s", code, stdout, stderr)
	}
}

// measured says how much a dump or a flow count holds: rows (indented
// lines) over tables, or flows over datapaths.
func measured(text string) string {
	var rows, tables, flows, datapaths int
	text, _, _ = strings.Cut(text, "dynamic addresses handed out") // dynamicAddresses' summary
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		var n int
		switch {
		case strings.HasPrefix(l, "  "):
			rows++
		case strings.HasSuffix(l, " logical flows"):
			if _, err := fmt.Sscanf(l[strings.LastIndex(l, ": ")+2:], "%d", &n); err == nil {
				flows += n
				datapaths++
			}
		case l != "":
			tables++
		}
	}
	if datapaths > 0 {
		return fmt.Sprintf("%d logical flows on %d datapaths", flows, datapaths)
	}
	return fmt.Sprintf("%d rows in %d tables", rows, tables)
}

// nbSteps is the steps of a runbook that declare NB rows, from its offline
// plan: a runbook's NB part, which needs no host. A step that mixes NB rows
// with host work cannot be applied without its hosts, and fails the test.
func nbSteps(t *testing.T, runbook string) []string {
	t.Helper()
	stdout, stderr, code := ovnrun(t, "--dry-run", "--offline", "--output", "json", runbook)
	if code != exitOK {
		t.Fatalf("offline plan of %s: exit %d\n%s", runbook, code, stderr)
	}
	var plan struct {
		Steps []struct {
			Name    string
			Actions []struct{ Driver, ID string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, s := range plan.Steps {
		var nb, other []string
		for _, a := range s.Actions {
			if a.Driver == "nb" {
				nb = append(nb, a.ID)
			} else {
				other = append(other, a.ID)
			}
		}
		switch {
		case len(nb) > 0 && len(other) > 0:
			t.Fatalf("%s: step %s declares NB rows (%s) and host work (%s)", runbook, s.Name, nb[0], other[0])
		case len(nb) > 0:
			steps = append(steps, s.Name)
		}
	}
	if len(steps) == 0 {
		t.Fatalf("%s declares no NB row", runbook)
	}
	return steps
}

// flowCountLine is a line of a known.diff that is a flow count's difference,
// as testdiff.Lines marks flowCounts' lines; checkKnownDifferences leaves
// such lines out of the NB rows' difference.
var flowCountLine = regexp.MustCompile(`^[-+] (switch|router) .*: \d+ logical flows$`)

// checkKnownFlowCounts compares the SB logical flow counts per datapath of
// the source (want) and of the imported runbook (got): the rows a runbook
// cannot build make their datapaths' counts differ, exactly as the
// known.diff's flow count lines say; every other datapath must match.
func checkKnownFlowCounts(t *testing.T, known, want, got string) {
	t.Helper()
	var diff, expected string
	if got != want {
		diff = testdiff.Lines(want, got)
	}
	for _, l := range strings.SplitAfter(knownText(t, known), "\n") {
		if flowCountLine.MatchString(strings.TrimSuffix(l, "\n")) {
			expected += l
		}
	}
	if diff != expected {
		t.Errorf("SB logical flows per datapath differ (- source, + imported):\n%swant (%s):\n%s", diff, filepath.Base(known), expected)
	}
}

// knownText is a known.diff's text, "" when there is none.
func knownText(t *testing.T, file string) string {
	b, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// linesNotIn is the lines of diff that are not lines of known.
func linesNotIn(diff, known string) string {
	have := map[string]bool{}
	for _, l := range strings.Split(known, "\n") {
		have[l] = true
	}
	var out []string
	for _, l := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
		if !have[l] {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// checkOwnedLeftOut checks that ovnrun import, without --include-owned,
// leaves out every row of an NB a runbook built, and says how many.
func checkOwnedLeftOut(t *testing.T, c *daemons.Central) {
	t.Helper()
	stdout, stderr, code := ovnrun(t, "import", "--nb", c.NB.Sock)
	if code != exitOK {
		t.Fatalf("ovnrun import: exit %d\n%s", code, stderr)
	}
	_, body, _ := strings.Cut(stdout, "def topology():\n")
	if !regexp.MustCompile(`(?m)^# \d+ rows owned by other ovnrun runbooks were left out`).MatchString(stdout) ||
		strings.TrimSpace(body) != "pass\n\nstep(\"topology\", topology)" {
		t.Errorf("without --include-owned, want every row left out and counted:\n%s", stdout)
	}
}
