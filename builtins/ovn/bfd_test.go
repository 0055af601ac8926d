package ovn

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/interp"
)

// policyTopology has router policies and ECMP routes watched by BFD.
const policyTopology = `
def topo():
    r = lr("lr1")
    up = lrp(r, "lr1-up", mac="00:00:00:00:03:00", networks=["172.16.3.254/24"])
    router_policy(r, 100, "ip4.dst == 10.0.0.0/8", "reroute", nexthops=["172.16.3.1", "172.16.3.2"], options={"pkt_mark": 5})
    router_policy(r, 10, "ip4.dst == 192.0.2.1", "drop")
    route(r, "10.0.0.0/8", "172.16.3.1", bfd=True)
    route(r, "10.0.0.0/8", "172.16.3.2", output_port=up, bfd=bfd(up, "172.16.3.2", min_tx=500, detect_mult=3), ecmp=True)
step("topology", topo)
`

// TestForeignBFDIsRefusedUnlessAdopted: a BFD session another tool made
// for the same port and peer is the row the schema's index allows once, so
// it is refused, and with --adopt the route uses that very row.
func TestForeignBFDIsRefusedUnlessAdopted(t *testing.T) {
	nb := daemons.StartNB(t)
	uuid := nbctl(t, nb, "create", "BFD", "logical_port=lr1-up", "dst_ip=172.16.3.1")
	nbctl(t, nb, "lr-add", "other")
	nbctl(t, nb, "lr-policy-add", "other", "100", "ip4.dst == 10.0.0.0/8", "allow")
	p := evaluate(t, "test.star", policyTopology, nil)

	d := connect(t, nb.Sock)
	sc := plan(t, d, p)
	var notes []string
	for _, c := range sc[0].Changes {
		if c.Note != "" {
			notes = append(notes, c.Action.Meta().ID+": "+c.Note)
		}
	}
	want := "bfd/lr1-up/172.16.3.1: BFD row " + uuid + " exists and was not created by ovnrun; apply refuses to take it over without --adopt"
	if len(notes) != 1 || notes[0] != want {
		t.Errorf("notes = %q, want [%q] (the other router's policy with the same key is not ours to find)", notes, want)
	}
	err := engine.ApplyChanges(testCtx(t), drivers(d), sc, nil)
	if err == nil || !strings.Contains(err.Error(), "refusing to take it over") || !strings.Contains(err.Error(), "test.star:7:10") {
		t.Errorf("apply err = %v", err)
	}

	adopter := connect(t, nb.Sock, func(c *NBConfig) { c.Adopt = true })
	apply(t, adopter, p)
	if got := nbctl(t, nb, "--bare", "--columns=bfd", "find", "Logical_Router_Static_Route", "nexthop=172.16.3.1"); got != uuid {
		t.Errorf("the route uses BFD %s, want the adopted %s", got, uuid)
	}
	if got := nbctl(t, nb, "--bare", "--columns=_uuid", "find", "BFD", "dst_ip=172.16.3.1"); got != uuid {
		t.Errorf("BFD rows for 172.16.3.1: %s, want the adopted %s only", got, uuid)
	}
	if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
		t.Errorf("after adopting: %+v", s)
	}
}

// TestPolicyAndBFDEverySchema applies, re-plans and destroys router
// policies and BFD sessions on an NB of each OVN version kept in
// ../shared/ovn-schemas.
func TestPolicyAndBFDEverySchema(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	schemas, _ := filepath.Glob("../../../shared/ovn-schemas/*.ovsschema")
	for _, schema := range append([]string{daemons.DefaultNBSchema}, schemas...) {
		t.Run(filepath.Base(schema), func(t *testing.T) {
			nb := daemons.StartNB(t, daemons.WithSchema(schema))
			d := connect(t, nb.Sock)
			p := evaluate(t, "test.star", policyTopology+haTopology, nil)
			apply(t, d, p)
			if got := nbctl(t, nb, "lr-policy-list", "lr1"); !strings.Contains(got, "reroute") || !strings.Contains(got, "172.16.3.1, 172.16.3.2") || !strings.Contains(got, "pkt_mark=5") {
				t.Errorf("lr-policy-list lr1 = %q", got)
			}
			if got := nbctl(t, nb, "lr-route-list", "lr1"); strings.Count(got, " bfd") != 2 {
				t.Errorf("lr-route-list lr1 = %q, want two routes with bfd", got)
			}
			if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
				t.Errorf("second plan: %+v", s)
			}
			destroy(t, d, p)
			for _, table := range []string{"Logical_Router_Policy", "BFD", "Logical_Router_Static_Route", "HA_Chassis_Group", "HA_Chassis"} {
				if got := nbctl(t, nb, "--bare", "--columns=_uuid", "list", table); got != "" {
					t.Errorf("%s holds rows after destroy: %s", table, got)
				}
			}
		})
	}
}
