package ovn

import (
	"os"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/interp"
)

// qosTopology declares a row of each table of the qos family; the rate of
// the second band of meter m1 is a variable.
const qosTopology = `
rate = int(var("band_rate", "5000"))
ls1 = ls("ls1")
ls2 = ls("ls2")
vm1 = lsp(ls1, "vm1", mac="04:ac:10:ff:01:05", ips=["172.16.1.5"])
vm2 = lsp(ls2, "vm2")
qos(ls1, "from-lport", 100, 'inport == "vm1"', rate=1000, burst=100, dscp=10)
meter("m1", "kbps", bands=[{"rate": 1000, "burst_size": 100}, {"rate": rate}])
dns(records={"vm1.example.org": "172.16.1.5"}, switches=[ls1, ls2])
r = lr("lr1")
p = lrp(r, "lr1-ls1", mac="00:00:00:00:01:00", networks=["172.16.1.254/24"])
static_mac_binding(p, "172.16.1.77", "0a:00:00:00:00:77")
mirror("mir1", "gre", "192.0.2.1", filter="from-lport", index=5, ports=[vm1, vm2])
`

func TestQoSFamilyConvergesAndDestroys(t *testing.T) {
	nb := daemons.StartNB(t)
	nbctl(t, nb, "init") // the NB_Global row that ovn-northd would make
	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", qosTopology, nil)
	if s := interp.Summarize(apply(t, d, p)); s.Add != 13 {
		t.Errorf("first plan: %+v, want 13 to add", s)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"qos-list", "ls1"}, `from-lport 100 (inport == "vm1") rate=1000 burst=100 dscp=10`},
		{[]string{"meter-list"}, "drop: 1000 kbps, 100 kb burst"},
		{[]string{"meter-list"}, "drop: 5000 kbps"},
		{[]string{"static-mac-binding-list"}, "lr1-ls1 172.16.1.77 0a:00:00:00:00:77"},
		{[]string{"--bare", "--columns=records", "list", "DNS"}, `vm1.example.org=172.16.1.5`},
		{[]string{"--bare", "--columns=name,type,index,filter,sink", "list", "Mirror"}, "mir1 gre 5 from-lport 192.0.2.1"},
	} {
		if got := strings.Join(strings.Fields(nbctl(t, nb, tc.args...)), " "); !strings.Contains(got, tc.want) {
			t.Errorf("ovn-nbctl %s:\n%s\nwant it to hold\n%s", strings.Join(tc.args, " "), got, tc.want)
		}
	}
	dnsUUID := nbctl(t, nb, "--bare", "--columns=_uuid", "list", "DNS")
	mirUUID := nbctl(t, nb, "--bare", "--columns=_uuid", "list", "Mirror")
	for _, obj := range []string{"Logical_Switch ls1 dns_records", "Logical_Switch ls2 dns_records",
		"Logical_Switch_Port vm1 mirror_rules", "Logical_Switch_Port vm2 mirror_rules"} {
		want := "[" + dnsUUID + "]"
		if strings.Contains(obj, "mirror") {
			want = "[" + mirUUID + "]"
		}
		if got := nbctl(t, nb, append([]string{"--bare", "get"}, strings.Fields(obj)...)...); got != want {
			t.Errorf("%s = %q, want %q", obj, got, want)
		}
	}
	if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
		t.Errorf("second plan: %+v", s)
	}

	// Drift made by hand is found and undone, in the QoS map columns and in
	// the untagged Static_MAC_Binding.
	qosUUID := nbctl(t, nb, "--bare", "--columns=_uuid", "list", "QoS")
	nbctl(t, nb, "set", "QoS", qosUUID, "bandwidth:rate=5")
	nbctl(t, nb, "set", "Static_MAC_Binding", nbctl(t, nb, "--bare", "--columns=_uuid", "list", "Static_MAC_Binding"), `mac="0a:00:00:00:00:99"`)
	waitCache(t, d, func(s *snapshot) bool {
		r := s.byUUID[qosUUID]
		return r != nil && r.cols["bandwidth"].(map[string]int)["rate"] == 5 && s.byTable["Static_MAC_Binding"][0].cols["mac"] == "0a:00:00:00:00:99"
	})
	sc := apply(t, d, p)
	var changed []string
	for _, c := range sc[0].Changes {
		if c.Op == interp.OpUpdate {
			changed = append(changed, c.Action.Meta().ID+" "+interp.FormatValue(c.Diffs[0].Old)+" -> "+interp.FormatValue(c.Diffs[0].New))
		}
	}
	want := []string{`qos/ls1/from-lport/100/inport == "vm1" {burst=100, rate=5} -> {burst=100, rate=1000}`,
		`static_mac_binding/lr1-ls1/172.16.1.77 "0a:00:00:00:00:99" -> "0a:00:00:00:00:77"`}
	if strings.Join(changed, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes after drift:\n%s\nwant\n%s", strings.Join(changed, "\n"), strings.Join(want, "\n"))
	}

	// A band is its place in the meter's list: a new rate updates the row.
	band := nbctl(t, nb, "--bare", "--columns=_uuid", "find", "Meter_Band", "rate=5000")
	p2 := evaluate(t, "test.star", qosTopology, map[string]string{"band_rate": "6000"})
	if s := interp.Summarize(apply(t, d, p2)); s.Change != 1 || s.Add != 0 {
		t.Errorf("new band rate: %+v, want 1 change", s)
	}
	if got := nbctl(t, nb, "--bare", "--columns=rate", "list", "Meter_Band", band); got != "6000" {
		t.Errorf("band %s rate = %q, want 6000 (updated in place)", band, got)
	}

	destroy(t, d, p2)
	for _, table := range []string{"QoS", "Meter", "Meter_Band", "DNS", "Static_MAC_Binding", "Mirror"} {
		if got := nbctl(t, nb, "--bare", "--columns=_uuid", "list", table); got != "" {
			t.Errorf("%s holds rows after destroy: %s", table, got)
		}
	}
	if got := nbctl(t, nb, "get", "NB_Global", ".", "external_ids"); got != "{}" {
		t.Errorf("NB_Global external_ids after destroy = %s, want the ledger emptied", got)
	}
}

// TestStaticMACBindingOwnership: the table has no external_ids, so its
// ownership lives in NB_Global: a binding made by hand is refused unless
// adopted, an adopted one is this runbook's from then on, another runbook
// sees it as foreign.
func TestStaticMACBindingOwnership(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	const router = `r = lr("lr1")
p = lrp(r, "lr1-ls1", mac="00:00:00:00:01:00", networks=["172.16.1.254/24"])
`
	binding := router + `static_mac_binding(p, "172.16.1.77", "0a:00:00:00:00:77", override_dynamic_mac=True)
`
	// No NB_Global row (no ovn-northd has run): the apply makes it, as
	// ovn-nbctl does, and keeps the ledger there.
	p0 := evaluate(t, "test.star", binding, nil)
	apply(t, d, p0)
	if got := nbctl(t, nb, "get", "NB_Global", ".", "external_ids"); !strings.Contains(got, "ovnrun:row:test.star:static_mac_binding/") {
		t.Errorf("NB_Global external_ids = %s, want the binding's ledger entry", got)
	}
	if s := interp.Summarize(plan(t, d, p0)); s.Line() != "No changes." {
		t.Errorf("second plan without northd: %+v", s)
	}
	destroy(t, d, p0)

	nbctl(t, nb, "init")
	apply(t, d, evaluate(t, "test.star", router, nil))
	nbctl(t, nb, "static-mac-binding-add", "lr1-ls1", "172.16.1.77", "0a:00:00:00:00:01")
	uuid := nbctl(t, nb, "--bare", "--columns=_uuid", "list", "Static_MAC_Binding")
	waitCache(t, d, func(s *snapshot) bool { return s.byUUID[uuid] != nil })

	p := evaluate(t, "test.star", binding, nil)
	sc := plan(t, d, p)
	if c := sc[0].Changes[2]; c.Op != interp.OpUpdate || !strings.Contains(c.Note, "Static_MAC_Binding row "+uuid+" exists and was not created by ovnrun") {
		t.Errorf("plan for a binding made by hand: %s %q", c.Op, c.Note)
	}
	if err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil); err == nil || !strings.Contains(err.Error(), "pass --adopt") {
		t.Errorf("apply err = %v, want a refusal", err)
	}

	adopter := connect(t, nb.Sock, func(c *NBConfig) { c.Adopt = true })
	apply(t, adopter, p)
	if got := nbctl(t, nb, "--bare", "--columns=_uuid,mac,override_dynamic_mac", "list", "Static_MAC_Binding"); got != uuid+"\n0a:00:00:00:00:77\ntrue" {
		t.Errorf("adopted binding = %q, want row %s with the runbook's mac and override", got, uuid)
	}
	if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
		t.Errorf("after adopting: %+v", s)
	}
	other := connect(t, nb.Sock, func(c *NBConfig) { c.Owner = "other.star" })
	if c := plan(t, other, p)[0].Changes[2]; !strings.Contains(c.Note, `belongs to runbook "test.star"`) {
		t.Errorf("other runbook's note = %q", c.Note)
	}
	destroy(t, d, p)
	if got := nbctl(t, nb, "--bare", "--columns=_uuid", "list", "Static_MAC_Binding"); got != "" {
		t.Errorf("binding left after destroy: %s", got)
	}
}

func TestMirrorNeedsOVN2212(t *testing.T) {
	schema := "../../../shared/ovn-schemas/ovn-nb-v22.03.0.ovsschema"
	if _, err := os.Stat(schema); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	nb := daemons.StartNB(t, daemons.WithSchema(schema))
	d := connect(t, nb.Sock)
	src := `mirror("mir1", "gre", "192.0.2.1", filter="to-lport")`
	_, err := engine.PlanChanges(testCtx(t), drivers(d), evaluate(t, "test.star", src, nil).Steps)
	if want := "table Mirror is not in the server's OVN_Northbound schema version 6.1.0"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
}
