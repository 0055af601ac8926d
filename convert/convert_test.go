package convert

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/shellrec"
	"github.com/ovnrun/ovnrun/internal/testdiff"
)

var update = flag.Bool("update", false, "rewrite testdata/seed/converted.star")

// SeedScripts are the seed's four scripts on their hosts, in the order the
// seed runs them; topology.sh is untagged: the central node's.
var SeedScripts = []shellrec.Script{
	{Path: "../runbooks/seed/vms.sh", Host: "h0"},
	{Path: "../runbooks/seed/vms.sh", Host: "h1"},
	{Path: "../runbooks/seed/compute.sh", Host: "h1"},
	{Path: "../runbooks/seed/server.sh", Host: "h0"},
	{Path: "../runbooks/seed/topology.sh"},
}

// TestConvertSeed converts the seed's scripts (a real bash run, a real
// private NB, nbimport) and compares the runbook with the golden one,
// which cmd/ovnrun's tests evaluate and, hand-edited, run in the lab.
func TestConvertSeed(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl", "unshare")
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	res, err := Convert(context.Background(), SeedScripts, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) > 0 {
		t.Errorf("scripts failed: %v", res.Failed)
	}
	golden := filepath.Join("testdata", "seed", "converted.star")
	if *update {
		if err := os.WriteFile(golden, res.Runbook, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(res.Runbook) {
		t.Errorf("converted seed differs from %s (-want +got; -update rewrites it):\n%s", golden, testdiff.Lines(string(want), string(res.Runbook)))
	}
	// What the mapping must have made of the seed's host commands.
	for _, line := range []string{
		`    ovs_external_ids(h1, {"ovn-remote": "tcp:%s:6642" % h0_address, "ovn-encap-type": "geneve", "ovn-encap-ip": h1_address})`,
		`    attach(vms["h1/v0"], "h1_v0_vnet2", mac = NIC_MACS["h1_v0_vnet2"])`,
		`    service(h0, "ovn-controller", state = "restarted")`,
		`    nb_connection(h0, "ptcp:6641")`,
		`ovn_nb("tcp:%s:6641" % h0_address)`,
		`    gateway_chassis("lr1-ls3", chassis = h0)`,
		`        mac = NIC_MACS["h0_v0_vnet1"],`,
		`    # sh(h0, "yum -y install virt-install")`,
		`    # TODO: check: topology.sh:102 (h0): 172.16.3.254 is the address of router port lr1-ls3`,
	} {
		if !strings.Contains(string(res.Runbook), line) {
			t.Errorf("converted seed lacks %q", line)
		}
	}
}
