package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/startest"
	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

const savedLib = `
def net(name, subnet):
    s = ls(name, subnet = subnet)
    lsp(s, name + "-p1", mac = "00:00:00:00:00:01", ips = ["10.0.0.1"])
`

const savedRunbook = `
load("lib.star", "net")

name = var("name", "ls1")

def build():
    net(name, "10.0.0.0/24")

step("net", build)
`

// TestSavedPlan saves plans against a real NB and applies them: the apply
// reads the actions from the file (the runbook is broken by then), applies
// exactly them, and refuses, naming the row, a plan whose live changes are
// no longer those saved, and a file changed after it was saved.
func TestSavedPlan(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	dir := t.TempDir()
	runbook, lib := filepath.Join(dir, "saved.star"), filepath.Join(dir, "lib.star")
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(runbook, savedRunbook)
	write(lib, savedLib)
	journal := filepath.Join(dir, "journal")
	save := func(name string) string {
		t.Helper()
		plan := filepath.Join(dir, name)
		stdout, stderr, code := ovnrun(t, "--dry-run", "--out", plan, "-D", "name=lsA", "--nb", nb.Sock, "--journal", journal, runbook)
		if code != exitOK || !strings.Contains(stdout, "Saved the plan to "+plan) {
			t.Fatalf("saving %s: exit %d\n%s%s", name, code, stdout, stderr)
		}
		return plan
	}
	apply := func(plan string) (string, int) {
		t.Helper()
		stdout, stderr, code := ovnrun(t, "apply", "--journal", journal, plan)
		return stdout + stderr, code
	}
	subnet := func() string {
		t.Helper()
		out, err := nb.NBCtl("--if-exists", "get", "Logical_Switch", "lsA", "other_config:subnet")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Trim(strings.TrimSpace(out), `"`)
	}
	hash := func(text string) string {
		sum := sha256.Sum256([]byte(text))
		return hex.EncodeToString(sum[:])
	}

	create := save("create.json")
	if got := subnet(); got != "" {
		t.Fatalf("--dry-run --out changed the NB: lsA has subnet %q", got)
	}
	// What the plan was made from: the runbook, its variables, its library, the NB.
	var file struct {
		Body struct {
			RunbookSHA256 string            `json:"runbook_sha256"`
			Vars          map[string]string `json:"vars"`
			Modules       []struct{ Path, SHA256 string }
			Targets       struct{ NB string }
		}
	}
	data, err := os.ReadFile(create)
	if err == nil {
		err = json.Unmarshal(data, &file)
	}
	if err != nil {
		t.Fatal(err)
	}
	b := file.Body
	if b.RunbookSHA256 != hash(savedRunbook) || b.Vars["name"] != "lsA" || b.Targets.NB != nb.Sock ||
		len(b.Modules) != 2 || b.Modules[1].Path != lib || b.Modules[1].SHA256 != hash(savedLib) {
		t.Errorf("the saved plan records runbook %s, vars %v, modules %+v, NB %q; want runbook %s, name=lsA, %s %s, %s",
			b.RunbookSHA256, b.Vars, b.Modules, b.Targets.NB, hash(savedRunbook), lib, hash(savedLib), nb.Sock)
	}

	// Applied from the file alone: the runbook no longer evaluates.
	write(runbook, "this is not starlark\n")
	if out, code := apply(create); code != exitOK || subnet() != "10.0.0.0/24" {
		t.Fatalf("apply %s: exit %d, subnet %q:\n%s", create, code, subnet(), out)
	}
	// Applied again, it finds the rows made: its creates are stale.
	if out, code := apply(create); code != exitFailure || !strings.Contains(out, "logical_switch lsA: saved as create, now unchanged") {
		t.Errorf("second apply of %s: exit %d, want %d naming logical_switch lsA:\n%s", create, code, exitFailure, out)
	}

	write(runbook, savedRunbook)
	if _, err := nb.NBCtl("set", "Logical_Switch", "lsA", "other_config:subnet=10.9.0.0/24"); err != nil {
		t.Fatal(err)
	}
	update := save("update.json")
	// Changed again after the plan was saved: refused, nothing changed.
	if _, err := nb.NBCtl("set", "Logical_Switch", "lsA", "other_config:subnet=10.8.0.0/24"); err != nil {
		t.Fatal(err)
	}
	out, code := apply(update)
	if code != exitFailure || !strings.Contains(out, "logical_switch lsA: saved as update") || !strings.Contains(out, "10.9.0.0/24") ||
		!strings.Contains(out, "nothing was changed") {
		t.Errorf("apply of %s after the NB changed: exit %d, want %d naming logical_switch lsA:\n%s", update, code, exitFailure, out)
	}
	if got := subnet(); got != "10.8.0.0/24" {
		t.Errorf("a refused saved plan changed the subnet to %q", got)
	}

	update = save("update.json")
	tampered := filepath.Join(dir, "tampered.json")
	data, err = os.ReadFile(update)
	if err != nil {
		t.Fatal(err)
	}
	write(tampered, strings.Replace(string(data), `10.0.0.0/24`, `10.0.0.0/16`, 1))
	if out, code := apply(tampered); code != exitFailure || !strings.Contains(out, "changed after ovnrun saved it") {
		t.Errorf("apply of a changed file: exit %d, want %d and a refusal:\n%s", code, exitFailure, out)
	}
	if out, code := apply(update); code != exitOK || subnet() != "10.0.0.0/24" {
		t.Fatalf("apply %s: exit %d, subnet %q:\n%s", update, code, subnet(), out)
	}
	// A plan of no changes applies as a no-op.
	if out, code := apply(save("noop.json")); code != exitOK || !strings.Contains(out, "No changes.") {
		t.Errorf("apply of a plan of no changes: exit %d, want 0 and No changes:\n%s", code, out)
	}
}

// TestSavedActionsRoundTrip writes every action of the runbooks under
// runbooks/ and testdata/nbequiv (every NB table, row() among them) and of
// the builtins' script tests (every host, VM and check kind) as a saved
// plan does, and reads it back: the same action, by its hash, by what the
// plan prints of it and by its Meta. Only the script tests' stand-in
// test_port has no codec.
func TestSavedActionsRoundTrip(t *testing.T) {
	runbooks, err := filepath.Glob("../../runbooks/*.star")
	equiv, err2 := filepath.Glob("../../cmd/ovnrun/testdata/nbequiv/*/runbook.star")
	if err != nil || err2 != nil || len(runbooks) == 0 || len(equiv) == 0 {
		t.Fatalf("no runbooks found: %v, %v", err, err2)
	}
	var plans []*interp.Plan
	for _, rb := range append(runbooks, equiv...) {
		plans = append(plans, evalRunbook(t, strings.TrimPrefix(rb, "../../")))
	}
	withTestPort := func() (*interp.Registry, error) {
		r, err := newRegistry()
		if err == nil {
			err = startest.RegisterTestPort(r)
		}
		return r, err
	}
	for _, d := range []string{"ovn", "host", "virt", "check"} {
		plans = append(plans, startest.Plans(t, "builtins/"+d+"/testdata/*.star", withTestPort, interp.Options{Stdlib: stdlib.FS})...)
	}
	ds := domains(nil)
	kinds := map[string]int{} // by Go type
	for _, p := range plans {
		for _, st := range p.Steps {
			for _, a := range st.Actions {
				if a.Meta().Kind == "test_port" {
					continue
				}
				back, err := roundTrip(a, ds)
				if err != nil {
					t.Fatalf("%s: %v", a.Meta().ID, err)
				}
				kinds[fmt.Sprintf("%T", a)]++
				if interp.ActionHash(back) != interp.ActionHash(a) || fieldsText(back) != fieldsText(a) ||
					!reflect.DeepEqual(back.Meta(), a.Meta()) {
					t.Errorf("%s reads back as\n%s %+v\nwant\n%s %+v", a.Meta().ID, fieldsText(back), back.Meta(), fieldsText(a), a.Meta())
				}
			}
		}
	}
	// Every kind the runbooks declare was read: the NB rows, and each of
	// the other domains' action types.
	for _, k := range []string{"*ovn.Row", "*host.Shell", "*host.Service", "*host.ExternalIDs", "*host.OVSBridge",
		"*host.DBConnection", "*host.Route", "*host.IPAddress", "*virt.Domain", "*virt.Interface",
		"*check.Ping", "*check.TCP", "*check.Exec", "*check.Trace"} {
		if kinds[k] == 0 {
			t.Errorf("no %s action in the runbooks and script tests: the test reads none", k)
		}
	}
	if kinds["*ovn.Row"] < 50 {
		t.Errorf("only %d NB rows in the runbooks: the test reads nothing much", kinds["*ovn.Row"])
	}
}

// roundTrip writes a with the codec of the first domain that saves it and
// reads it back.
func roundTrip(a interp.Action, ds []engine.Domain) (interp.Action, error) {
	for _, d := range ds {
		if d.Saved == nil {
			continue
		}
		data, mine, err := d.Saved.Encode(a)
		if err != nil || !mine {
			if err != nil {
				return nil, err
			}
			continue
		}
		return d.Saved.Decode(data)
	}
	return nil, fmt.Errorf("no domain saves a %T", a)
}

func fieldsText(a interp.Action) string {
	var b strings.Builder
	for _, f := range a.Fields() {
		b.WriteString(f.Key + "=" + interp.FormatValue(f.Value) + "\n")
	}
	return b.String()
}
