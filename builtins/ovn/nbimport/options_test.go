package nbimport

import (
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/testdiff"
)

// optionsNB is a snapshot with a switch another runbook owns (ovnrun's tags
// beside one of the lab's), a switch nobody owns, and two gateway routers
// on chassis hv1 and hv2.
func optionsNB() *ovsdbmodel.ReplicaState {
	row := func(uuid string, cols map[string]any) *ovsdbmodel.Row { return &ovsdbmodel.Row{UUID: uuid, Cols: cols} }
	return &ovsdbmodel.ReplicaState{Tables: map[string]map[string]*ovsdbmodel.Row{
		"Logical_Switch": {
			"u1": row("u1", map[string]any{"name": "owned", "external_ids": map[string]string{
				ovn.TagRunbook: "runbooks/other.star", ovn.TagAction: "logical_switch/owned", "team": "lab"}}),
			"u2": row("u2", map[string]any{"name": "free"}),
		},
		"Logical_Router": {
			"u3": row("u3", map[string]any{"name": "gw1", "options": map[string]string{"chassis": "hv1"}}),
			"u4": row("u4", map[string]any{"name": "gw2", "options": map[string]string{"chassis": "hv2"}}),
		},
	}}
}

// TestWriteOptions checks what Options add to the runbook: rows another
// runbook owns are left out and counted unless IncludeOwned, and never
// keep ovnrun's tags; Chassis replaces a chassis variable by the caller's
// expression; Prelude comes after the header, and one that points at the
// NB itself replaces the ovn_nb() line.
func TestWriteOptions(t *testing.T) {
	now := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		opt  Options
		want string
	}{
		{"default", Options{Source: "unix:/nb.sock", Now: now}, `# Imported from the Northbound database at unix:/nb.sock by ovnrun import, 2026-12-07T15:00:00Z.
# 1 row owned by another ovnrun runbook was left out (ovnrun import --include-owned takes it).

ovn_nb(var("nb", "unix:/nb.sock"))

# Chassis names (their system-id); override with --var.
chassis_hv1 = var("chassis_hv1", "hv1")
chassis_hv2 = var("chassis_hv2", "hv2")

def topology():
    free = ls("free")

    gw1 = lr("gw1", chassis = chassis_hv1)

    gw2 = lr("gw2", chassis = chassis_hv2)

step("topology", topology)
`},
		{"include owned", Options{Source: "unix:/nb.sock", Now: now, IncludeOwned: true}, `# Imported from the Northbound database at unix:/nb.sock by ovnrun import, 2026-12-07T15:00:00Z.

ovn_nb(var("nb", "unix:/nb.sock"))

# Chassis names (their system-id); override with --var.
chassis_hv1 = var("chassis_hv1", "hv1")
chassis_hv2 = var("chassis_hv2", "hv2")

def topology():
    free = ls("free")

    owned = ls("owned", external_ids = {"team": "lab"})

    gw1 = lr("gw1", chassis = chassis_hv1)

    gw2 = lr("gw2", chassis = chassis_hv2)

step("topology", topology)
`},
		{"chassis and prelude", Options{Source: "unix:/nb.sock", Now: now,
			Chassis: map[string]string{"hv1": "h1.system_id"},
			Prelude: "h1 = host(\"h1\", address = \"192.0.2.1\", system_id = \"hv1\")\n"}, `# Imported from the Northbound database at unix:/nb.sock by ovnrun import, 2026-12-07T15:00:00Z.
# 1 row owned by another ovnrun runbook was left out (ovnrun import --include-owned takes it).

h1 = host("h1", address = "192.0.2.1", system_id = "hv1")

ovn_nb(var("nb", "unix:/nb.sock"))

# Chassis names (their system-id); override with --var.
chassis_hv2 = var("chassis_hv2", "hv2")

def topology():
    free = ls("free")

    gw1 = lr("gw1", chassis = h1.system_id)

    gw2 = lr("gw2", chassis = chassis_hv2)

step("topology", topology)
`},
		{"prelude with ovn_nb", Options{Source: "unix:/nb.sock", Now: now,
			Chassis: map[string]string{"hv1": "h1.system_id", "hv2": "h2.system_id"},
			Prelude: "h1 = host(\"h1\", address = \"192.0.2.1\", system_id = \"hv1\")\n" +
				"h2 = host(\"h2\", address = \"192.0.2.2\", system_id = \"hv2\")\n" +
				"ovn_nb(\"tcp:192.0.2.1:6641\")"}, `# Imported from the Northbound database at unix:/nb.sock by ovnrun import, 2026-12-07T15:00:00Z.
# 1 row owned by another ovnrun runbook was left out (ovnrun import --include-owned takes it).

h1 = host("h1", address = "192.0.2.1", system_id = "hv1")
h2 = host("h2", address = "192.0.2.2", system_id = "hv2")
ovn_nb("tcp:192.0.2.1:6641")

def topology():
    free = ls("free")

    gw1 = lr("gw1", chassis = h1.system_id)

    gw2 = lr("gw2", chassis = h2.system_id)

step("topology", topology)
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(Write(optionsNB(), nil, tc.opt))
			if got != tc.want {
				t.Errorf("runbook differs (- want, + got):\n%s", testdiff.Lines(tc.want, got))
			}
			if strings.Contains(got, "ovnrun:") {
				t.Errorf("an ownership tag was copied:\n%s", got)
			}
		})
	}
}
