package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/testdiff"
)

// equivCases holds one directory per builtin family: nbctl.sh, the
// ovn-nbctl commands an operator would run; runbook.star, the same topology
// with ovnrun's builtins; and optionally foreign.sh, rows of another tool
// that both NBs hold first. testdata/nbequiv/README.md says how to add one.
const equivCases = "cmd/ovnrun/testdata/nbequiv"

// macPrefix is set on both NBs before anything else so that the MACs
// ovn-northd assigns to "dynamic" ports can be compared: it draws a random
// prefix per NB otherwise.
const macPrefix = "0a:00:00"

// TestSameRowsAsNBCtl checks, per case, that ovnrun leaves exactly the rows
// the equivalent ovn-nbctl commands leave: every row of every NB table, and
// the number of SB logical flows ovn-northd derives per datapath; that a
// second apply sends nothing; and that --destroy leaves the NB as foreign.sh
// alone leaves it.
func TestSameRowsAsNBCtl(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovsdb-client", "ovn-northd", "ovs-appctl", "ovn-nbctl")
	runbooks, err := filepath.Glob(filepath.Join(repoRoot, equivCases, "*", "runbook.star"))
	if err != nil || len(runbooks) == 0 {
		t.Fatalf("no cases under %s: %v", equivCases, err)
	}
	for _, rb := range runbooks {
		dir := filepath.Dir(rb)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			start := time.Now()
			checkSameRows(t, dir)
			t.Logf("%s in %v", filepath.Base(dir), time.Since(start).Round(time.Millisecond))
		})
	}
}

func checkSameRows(t *testing.T, dir string) {
	runbook, err := filepath.Rel(repoRoot, filepath.Join(dir, "runbook.star"))
	if err != nil {
		t.Fatal(err)
	}
	// A is built by ovn-nbctl, B by ovnrun.
	a, b := daemons.StartCentral(t), daemons.StartCentral(t)
	for _, c := range []*daemons.Central{a, b} {
		nbctl(t, c, "set", "NB_Global", ".", "options:mac_prefix="+macPrefix)
		runNBCtlScript(t, c, filepath.Join(dir, "foreign.sh"))
		syncSB(t, c)
	}
	foreignRows, foreignFlows := nbDumpAll(t, a), flowCounts(t, a)

	runNBCtlScript(t, a, filepath.Join(dir, "nbctl.sh"))
	args := []string{"--yes", "--nb", b.NB.Sock, "--wait", "sb", "--journal", filepath.Join(t.TempDir(), "journal"), runbook}
	if stdout, stderr, code := ovnrun(t, args...); code != exitOK {
		t.Fatalf("ovnrun %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	// ovnrun waited for northd already; nbctl.sh did not.
	syncSB(t, a)
	syncSB(t, b)
	checkKnownDifferences(t, filepath.Join(dir, "known.diff"), nbDumpAll(t, a), nbDumpAll(t, b))
	if want, got := flowCounts(t, a), flowCounts(t, b); got != want {
		t.Errorf("SB logical flows per datapath differ (- nbctl.sh, + runbook.star):\n%s", testdiff.Lines(want, got))
	}

	checkSecondApplySendsNothing(t, b, args)
	checkAdoptsWithoutDuplicates(t, a, runbook, foreignRows)

	destroy := append([]string{"--destroy"}, args...)
	if stdout, stderr, code := ovnrun(t, destroy...); code != exitOK {
		t.Fatalf("ovnrun %s: exit %d\n%s%s", strings.Join(destroy, " "), code, stdout, stderr)
	}
	syncSB(t, b)
	if got := nbDumpAll(t, b); got != foreignRows {
		t.Errorf("after --destroy the NB differs from foreign.sh's alone (- foreign.sh, + after destroy):\n%s", testdiff.Lines(foreignRows, got))
	}
	if got := flowCounts(t, b); got != foreignFlows {
		t.Errorf("after --destroy SB logical flows differ from foreign.sh's alone (- foreign.sh, + after destroy):\n%s", testdiff.Lines(foreignFlows, got))
	}
}

// checkAdoptsWithoutDuplicates runs the runbook with --adopt on the NB that
// nbctl.sh built: every declared row exists there already, made by
// ovn-nbctl, and must be taken over by its natural key, not made a second
// time. The NB then holds the same rows (the ownership tags aside); a second
// apply sends nothing; and --destroy removes exactly what was adopted.
func checkAdoptsWithoutDuplicates(t *testing.T, a *daemons.Central, runbook, foreignRows string) {
	t.Helper()
	before := nbDumpAll(t, a)
	args := []string{"--yes", "--nb", a.NB.Sock, "--wait", "sb", "--journal", filepath.Join(t.TempDir(), "journal"), runbook}
	adopt := append([]string{"--adopt"}, args...)
	if stdout, stderr, code := ovnrun(t, adopt...); code != exitOK {
		t.Fatalf("ovnrun %s: exit %d\n%s%s", strings.Join(adopt, " "), code, stdout, stderr)
	}
	syncSB(t, a)
	if got := nbDumpAll(t, a); got != before {
		t.Errorf("--adopt on ovn-nbctl's rows changed more than their tags (- before, + after):\n%s", testdiff.Lines(before, got))
	}
	checkSecondApplySendsNothing(t, a, args)
	destroy := append([]string{"--destroy"}, args...)
	if stdout, stderr, code := ovnrun(t, destroy...); code != exitOK {
		t.Fatalf("ovnrun %s: exit %d\n%s%s", strings.Join(destroy, " "), code, stdout, stderr)
	}
	syncSB(t, a)
	if got := nbDumpAll(t, a); got != foreignRows {
		t.Errorf("after --adopt and --destroy the NB differs from foreign.sh's alone (- foreign.sh, + after destroy):\n%s", testdiff.Lines(foreignRows, got))
	}
}

// checkKnownDifferences compares the NB dumps of nbctl.sh (want) and of
// the runbook (got). A case may hold known.diff: a difference found and not
// fixed yet, exactly as this test prints it, after '#' lines saying what it
// is. Then that difference, and only it, is expected: the case still fails
// on any other, and once the difference is gone, until known.diff goes too.
func checkKnownDifferences(t *testing.T, file, want, got string) {
	t.Helper()
	var diff string
	if got != want {
		diff = testdiff.Lines(want, got)
	}
	known, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if rel, err := filepath.Rel(repoRoot, file); err == nil {
		file = rel
	}
	var lines []string
	for _, l := range strings.SplitAfter(string(known), "\n") {
		if !strings.HasPrefix(l, "#") && !flowCountLine.MatchString(strings.TrimSuffix(l, "\n")) {
			lines = append(lines, l)
		}
	}
	switch expected := strings.Join(lines, ""); {
	case diff == expected:
		if diff != "" {
			t.Logf("ovnrun's NB differs from ovn-nbctl's as %s says", file)
		}
	case expected == "":
		t.Errorf("ovnrun's NB differs from ovn-nbctl's (- nbctl.sh, + runbook.star):\n%s", diff)
	case diff == "":
		t.Errorf("ovnrun's NB is now the same as ovn-nbctl's: delete %s", file)
	default:
		t.Errorf("ovnrun's NB differs from ovn-nbctl's (- nbctl.sh, + runbook.star) otherwise than %s says:\n%s", file, diff)
	}
}

// checkSecondApplySendsNothing applies the runbook again and checks that the
// NB's database file gained no record but ovn-northd's own bookkeeping:
// ovsdb-server appends one per committed transaction, whoever sent it.
func checkSecondApplySendsNothing(t *testing.T, c *daemons.Central, args []string) {
	t.Helper()
	dbFile := filepath.Join(c.NB.Dir, "nb.db")
	before, err := os.Stat(dbFile)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := ovnrun(t, args...)
	if code != exitOK || !strings.Contains(stdout, "\nNo changes.\n") {
		t.Errorf("second apply: exit %d, want No changes:\n%s%s", code, stdout, stderr)
	}
	// A transaction ovnrun sent would be committed before ovnrun returned:
	// it waits for the reply, so its record is in the file by now.
	var sent []string
	for _, r := range dbRecords(t, dbFile, before.Size()) {
		if !northdBookkeeping(r) {
			sent = append(sent, r)
		}
	}
	if len(sent) > 0 {
		t.Errorf("the second apply changed the NB, %d transaction(s):\n%s", len(sent), strings.Join(sent, "\n"))
	}
}

// runNBCtlScript runs a case's shell script of ovn-nbctl commands against
// c's NB; a missing script is nothing to run. The environment names the NB
// and nothing else, so a command can reach no other database (a script must
// not pass --db) and no ovn-nbctl daemon of the machine.
func runNBCtlScript(t *testing.T, c *daemons.Central, script string) {
	t.Helper()
	text, err := os.ReadFile(script)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(text), "--db") {
		t.Fatalf("%s passes --db: the test points OVN_NB_DB at each NB itself", script)
	}
	cmd := exec.Command("/bin/sh", "-eu", script)
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"OVN_NB_DB=" + c.NB.Sock,
		"OVN_NBCTL_OPTIONS=--timeout=20",
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
}

func nbctl(t *testing.T, c *daemons.Central, args ...string) string {
	t.Helper()
	out, err := c.NBCtl(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// syncSB waits until ovn-northd has brought the SB up to date with the NB.
func syncSB(t *testing.T, c *daemons.Central) {
	t.Helper()
	nbctl(t, c, "--wait=sb", "sync")
}
