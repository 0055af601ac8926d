package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

// pruneRunbook declares a switch with a port and, unless extra=false, a
// second port and a load balancer: removing them from the runbook is
// setting extra=false.
const pruneRunbook = `
pre = var("prefix", "a")
ls(pre + "-sw")
lsp(pre + "-sw", pre + "-p1")
if var("extra", True):
    lsp(pre + "-sw", pre + "-p2")
    load_balancer(pre + "-lb", {"10.0.0.10:80": "10.0.0.2:80"})
`

// pruneCopies writes the runbook as prune.star in two directories.
func pruneCopies(t *testing.T, head string) (a, b string) {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{"one", "two"} {
		p := filepath.Join(root, dir, "prune.star")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(head+pruneRunbook), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, "one", "prune.star"), filepath.Join(root, "two", "prune.star")
}

func evalVars(t *testing.T, path string, vars map[string]string) *interp.Plan {
	t.Helper()
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Evaluate(path, nil, interp.Options{Registry: reg, Stdlib: stdlib.FS, Vars: vars})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// nbGet returns a column of the row of table called name, or "" with ok
// false when there is no such row.
func nbGet(t *testing.T, nb *daemons.NB, table, name, column string) (string, bool) {
	t.Helper()
	out, err := nb.NBCtl("--bare", "--columns="+column, "find", table, "name="+name)
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := nb.NBCtl("--bare", "--columns=_uuid", "find", table, "name="+name); strings.TrimSpace(list) == "" {
		return "", false
	}
	return strings.TrimSpace(out), true
}

// TestPruneByOwner applies, against a real NB, two copies of one runbook
// from two directories, then removes declarations from one: its rows are
// pruned (a reference to them from a row of another tool removed, that row
// kept), --no-prune keeps them, and the other copy's rows are never touched.
// --owner and lab() set the owner; rows tagged by older ovnrun with the base
// name are taken over when declared and left when not.
func TestPruneByOwner(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	one, two := pruneCopies(t, "")
	lf := liveFlags{nb: nb.Sock, timeout: 5 * time.Second}
	run := func(lf liveFlags, dryRun bool, path, prefix, extra, output string) string {
		t.Helper()
		p := evalVars(t, path, map[string]string{"prefix": prefix, "extra": extra})
		stdout, stderr, code := live(t, lf, dryRun, p, nil, output)
		if code != exitOK {
			t.Fatalf("%s -D prefix=%s -D extra=%s: exit %d: %s", path, prefix, extra, code, stderr)
		}
		return stdout + stderr
	}
	exists := func(table, name string) bool {
		_, ok := nbGet(t, nb, table, name, "_uuid")
		return ok
	}
	tag := func(table, name string) string {
		v, err := nb.NBCtl("get", table, name, "external_ids:\""+ovn.TagRunbook+"\"")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Trim(strings.TrimSpace(v), `"`)
	}

	run(lf, false, one, "a", "true", "text")
	run(lf, false, two, "b", "true", "text")
	if ta, tb := tag("Logical_Switch", "a-sw"), tag("Logical_Switch", "b-sw"); ta == tb || ta != engine.PathOwner(one) {
		t.Fatalf("owners: one %q, two %q; want %q and another", ta, tb, engine.PathOwner(one))
	}
	// Another tool's switch uses a's load balancer.
	if _, err := nb.NBCtl("ls-add", "foreign", "--", "ls-lb-add", "foreign", "a-lb"); err != nil {
		t.Fatal(err)
	}

	nl := lf
	nl.noPrune = true
	if out := run(nl, false, one, "a", "false", "text"); strings.Contains(out, "Step prune") {
		t.Errorf("--no-prune planned a prune:\n%s", out)
	}
	if !exists("Logical_Switch_Port", "a-p2") || !exists("Load_Balancer", "a-lb") {
		t.Fatal("--no-prune deleted rows")
	}

	plan := run(lf, true, one, "a", "false", "text")
	for _, want := range []string{"prune", "a-p2", "a-lb", "no longer declared"} {
		if !strings.Contains(plan, want) {
			t.Errorf("dry-run plan lacks %q:\n%s", want, plan)
		}
	}
	var jp struct {
		Steps []struct {
			Name    string `json:"name"`
			Actions []struct {
				ID, Op, Pos string
			} `json:"actions"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(run(lf, true, one, "a", "false", "json")), &jp); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range jp.Steps {
		for _, a := range st.Actions {
			if st.Name == "prune" {
				got = append(got, a.Op+" "+a.ID+" pos="+a.Pos)
			}
		}
	}
	if want := "delete load_balancer/a-lb pos=; delete logical_switch_port/a-p2 pos="; strings.Join(got, "; ") != want {
		t.Errorf("JSON prune step: %q, want %q", strings.Join(got, "; "), want)
	}
	if !exists("Logical_Switch_Port", "a-p2") {
		t.Fatal("the dry-run deleted a-p2")
	}

	run(lf, false, one, "a", "false", "text")
	if exists("Logical_Switch_Port", "a-p2") || exists("Load_Balancer", "a-lb") {
		t.Error("apply kept a-p2 or a-lb, which the runbook no longer declares")
	}
	if !exists("Logical_Switch_Port", "a-p1") || !exists("Logical_Switch", "a-sw") {
		t.Error("apply deleted declared rows")
	}
	if lbs, ok := nbGet(t, nb, "Logical_Switch", "foreign", "load_balancer"); !ok || lbs != "" {
		t.Errorf("the foreign switch: present %v, load_balancer %q; want present, none", ok, lbs)
	}
	for _, r := range [][2]string{{"Logical_Switch_Port", "b-p2"}, {"Load_Balancer", "b-lb"}, {"Logical_Switch", "b-sw"}} {
		if !exists(r[0], r[1]) {
			t.Errorf("the other copy's %s %s was deleted", r[0], r[1])
		}
	}

	// --owner: both copies act as one owner, which prunes what the other made.
	ol := lf
	ol.owner = "team"
	run(ol, false, two, "c", "true", "text")
	if got := tag("Logical_Switch", "c-sw"); got != "team" {
		t.Errorf("--owner team: tag %q", got)
	}
	run(ol, false, one, "c", "false", "text")
	if exists("Logical_Switch_Port", "c-p2") || !exists("Logical_Switch_Port", "c-p1") {
		t.Error("--owner team from the other copy did not prune c-p2 alone")
	}

	// lab(): the runbook names its owner; --owner still wins.
	labOne, _ := pruneCopies(t, `lab("labx")`+"\n")
	run(lf, false, labOne, "d", "true", "text")
	if got := tag("Logical_Switch", "d-sw"); got != "labx" {
		t.Errorf("lab(\"labx\"): tag %q", got)
	}

	// Rows an older ovnrun tagged with the base name: declared ones are
	// this runbook's and re-tagged, undeclared ones are left.
	legacy := lf
	legacy.owner = "prune.star"
	run(legacy, false, one, "l", "true", "text")
	out := run(lf, false, one, "l", "false", "text")
	if got := tag("Logical_Switch", "l-sw"); got != engine.PathOwner(one) {
		t.Errorf("a declared row with the legacy tag: tag %q after apply, want %q", got, engine.PathOwner(one))
	}
	if !exists("Logical_Switch_Port", "l-p2") || tag("Logical_Switch_Port", "l-p2") != "prune.star" {
		t.Error("an undeclared row with the legacy tag was pruned or re-tagged")
	}
	if !strings.Contains(out, `tag "prune.star" that older ovnrun wrote`) {
		t.Errorf("no note on the legacy rows left:\n%s", out)
	}
}

// TestPruneLastNBRow removes the only NB row from a runbook: the journal
// says the last run left NB rows, so the NB is opened and the row pruned,
// though nothing of the NB is declared. The run after that does not open
// the NB at all (an unreachable --nb is not even noted).
func TestPruneLastNBRow(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	path := filepath.Join(t.TempDir(), "last.star")
	if err := os.WriteFile(path, []byte(`if var("extra", True):
    ls("z-sw")
`), 0o644); err != nil {
		t.Fatal(err)
	}
	lf := liveFlags{nb: nb.Sock, timeout: 5 * time.Second}
	run := func(lf liveFlags, extra string) string {
		t.Helper()
		stdout, stderr, code := live(t, lf, false, evalVars(t, path, map[string]string{"extra": extra}), nil, "text")
		if code != exitOK {
			t.Fatalf("-D extra=%s: exit %d: %s%s", extra, code, stdout, stderr)
		}
		return stdout + stderr
	}
	run(lf, "true")
	if _, ok := nbGet(t, nb, "Logical_Switch", "z-sw", "_uuid"); !ok {
		t.Fatal("z-sw was not created")
	}
	if out := run(lf, "false"); !strings.Contains(out, "Step prune") {
		t.Errorf("no prune step for the last NB row:\n%s", out)
	}
	if _, ok := nbGet(t, nb, "Logical_Switch", "z-sw", "_uuid"); ok {
		t.Error("z-sw, no longer declared, was kept")
	}
	gone := lf
	gone.nb = "unix:" + filepath.Join(t.TempDir(), "none.sock")
	if out := run(gone, "false"); strings.Contains(out, "cannot reach") || strings.Contains(out, "Step prune") {
		t.Errorf("with nothing left there, the run still looked at the NB:\n%s", out)
	}
}
