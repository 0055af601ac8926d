package ovn

import (
	"errors"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/interp"
)

// nb2603 is the schema row() types values with; the tests start an NB of it
// so that every table row() reaches is there.
const nb2603 = "testdata/ovn-nb-v26.03.0.ovsschema"

// rowTopology declares rows of tables no builtin describes: non-root
// (a forwarding group on a switch), root with a map (Copp), a key other than
// name, several key columns, optional integers, and scalar and set
// references to declared rows.
const rowTopology = `
vip = var("vip", "10.0.0.10")
def f():
    sw = ls("sw1")
    p1 = lsp(sw, "p1")
    p2 = lsp(sw, "p2")
    row("Forwarding_Group", name="fg1", on=(sw, "forwarding_groups"), vip="10.0.0.1",
        vmac="00:00:00:00:00:fe", child_port=["p1", "p2"], liveness=True)
    row("Copp", name="copp1", meters={"arp": "meter1"})
    row("Chassis_Template_Var", key="chassis", chassis="hv1", variables={"vip": vip})
    nf = row("Network_Function", name="nf1", inport=p1, outport=p2, id=7)
    row("Network_Function_Group", name="nfg1", network_function=[nf], network_function_active=nf, id=1, mode="inline")
step("t", f)
`

// rowTables are the tables of rowTopology that row() writes.
var rowTables = []string{"Forwarding_Group", "Copp", "Chassis_Template_Var", "Network_Function", "Network_Function_Group"}

func TestRowAppliesDiffsAndDestroys(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool")
	nb := daemons.StartNB(t, daemons.WithSchema(nb2603))
	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", rowTopology, nil)
	sc := apply(t, d, p)
	if s := interp.Summarize(sc); s.Add != 8 || s.Change+s.Unchanged != 0 {
		t.Errorf("first plan: %+v, want 8 to add", s)
	}
	if n := d.Transactions(); n != 1 {
		t.Errorf("one step took %d transactions", n)
	}
	text := planText(t, p, sc)
	for _, want := range []string{`logical_switch: "sw1"`, `child_port: ["p1", "p2"]`, `meters: {arp="meter1"}`,
		`inport: "logical_switch_port/p1"`, `network_function: ["network_function/nf1"]`} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %s:\n%s", want, text)
		}
	}

	// The rows and references, as the NB holds them.
	s, err := d.snapshot(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	sw, fg := s.named("Logical_Switch", "sw1"), s.named("Forwarding_Group", "fg1")
	if fg == nil || len(sw.refs("forwarding_groups")) != 1 || sw.refs("forwarding_groups")[0] != fg.uuid {
		t.Fatalf("sw1 forwarding_groups = %v, want fg1", sw.refs("forwarding_groups"))
	}
	if got := fg.cols["liveness"]; got != true {
		t.Errorf("fg1 liveness = %v", got)
	}
	nf, p1 := s.named("Network_Function", "nf1"), s.named("Logical_Switch_Port", "p1")
	if nf == nil || nf.cols["inport"] != p1.uuid || nf.cols["id"] != 7 {
		t.Errorf("nf1 = %v, want inport %s and id 7", nf, p1.uuid)
	}
	if got := nbctl(t, nb, "--bare", "--columns=variables", "find", "Chassis_Template_Var", "chassis=hv1"); got != "vip=10.0.0.10" {
		t.Errorf("template variables = %q", got)
	}

	// A second run sends nothing.
	if s := interp.Summarize(apply(t, d, p)); s.Line() != "No changes." {
		t.Errorf("second plan: %+v", s)
	}
	if n := d.Transactions(); n != 1 {
		t.Errorf("a second apply sent %d transaction(s)", n-1)
	}

	// One column changed: one update of that row, with its diff.
	p = evaluate(t, "test.star", rowTopology, map[string]string{"vip": "10.0.0.11"})
	sc = apply(t, d, p)
	var changed []interp.Change
	for _, c := range sc[0].Changes {
		if c.Op != interp.OpUnchanged {
			changed = append(changed, c)
		}
	}
	want := []interp.FieldDiff{{Key: "variables", Old: map[string]string{"vip": "10.0.0.10"}, New: map[string]string{"vip": "10.0.0.11"}}}
	if len(changed) != 1 || changed[0].Action.Meta().ID != "chassis_template_var/hv1" || !equalDiffs(changed[0].Diffs, want) {
		t.Errorf("changes = %+v, want the template's variables only", changed)
	}

	sc = destroy(t, d, p)
	if s := interp.Summarize(sc); s.Destroy != 8 {
		t.Errorf("destroy plan: %+v, want 8 to destroy", s)
	}
	s, _ = d.snapshot(testCtx(t))
	for _, table := range append(rowTables, "Logical_Switch", "Logical_Switch_Port") {
		if n := len(s.byTable[table]); n != 0 {
			t.Errorf("%s holds %d rows after destroy", table, n)
		}
	}
}

func TestRowForeignKeyRefusedUnlessAdopted(t *testing.T) {
	nb := daemons.StartNB(t)
	nbctl(t, nb, "create", "Chassis_Template_Var", "chassis=hv1", "variables:vip=10.0.0.99")
	src := `row("Chassis_Template_Var", key="chassis", chassis="hv1", variables={"vip": "10.0.0.10"})`
	p := evaluate(t, "test.star", src, nil)

	d := connect(t, nb.Sock)
	sc := plan(t, d, p)
	if c := sc[0].Changes[0]; c.Op != interp.OpUpdate || !strings.Contains(c.Note, "was not created by ovnrun") {
		t.Errorf("plan: %+v, want an update noting the foreign row", c)
	}
	err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil)
	if err == nil || !strings.Contains(err.Error(), "refusing to take it over") {
		t.Errorf("apply without --adopt: %v", err)
	}

	d = connect(t, nb.Sock, func(c *NBConfig) { c.Adopt = true })
	apply(t, d, p)
	got := nbctl(t, nb, "--bare", "--columns=variables", "list", "Chassis_Template_Var")
	if got != "vip=10.0.0.10" {
		t.Errorf("after adopting: %q, want the one row, changed", got)
	}
}

// TestRowColumnMissingFromServer: the schema row() types values with is
// 26.03's; an older NB lacking a table or a column is a plan-time error
// naming it and the server's schema version, at the runbook's line.
func TestRowColumnMissingFromServer(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool")
	nb := daemons.StartNB(t, daemons.WithSchema(daemons.DefaultNBSchema))
	d := connect(t, nb.Sock)
	for _, tc := range []struct{ src, want, at string }{
		{`s = ls("s")
row("Network_Function", name="nf", inport=lsp(s, "a"), outport=lsp(s, "b"), id=1)`, "table Network_Function", "test.star:2:4"},
	} {
		_, err := engine.PlanChanges(testCtx(t), drivers(d), evaluate(t, "test.star", tc.src, nil).Steps)
		want := tc.want + " is not in the server's OVN_Northbound schema version " + nb.SchemaVersion
		var missing *ovsdbmodel.MissingError
		if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &missing) || !strings.Contains(err.Error(), tc.at) {
			t.Errorf("err = %v\nwant it to say %q at %s", err, want, tc.at)
		}
	}
}

// TestRowLeavesDescribedTablesAlone: row() builds its tables per call; the
// described tables, shared by every evaluation in the process, stay as the
// builtins' files describe them.
func TestRowLeavesDescribedTablesAlone(t *testing.T) {
	before := len(tables)
	evaluate(t, "test.star", rowTopology, nil)
	for _, table := range rowTables {
		if tableNamed(table) != nil {
			t.Errorf("evaluating row() described %s", table)
		}
	}
	if len(tables) != before {
		t.Errorf("%d described tables after evaluating, %d before", len(tables), before)
	}
}
