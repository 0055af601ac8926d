package engine

import (
	"slices"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
)

// TestDestroyOpensWholeSpec checks which drivers a destroy asks: every
// driver of a spec one of whose drivers the steps use (a runbook now
// declaring only routes still has Open vSwitch records to undo), and,
// offline, none whose deletions only their targets record.
func TestDestroyOpensWholeSpec(t *testing.T) {
	domains := []Domain{{Name: "test", Drivers: []DriverSpec{
		{Names: []string{"nb"}, Destroy: 2, DestroyAlways: true},
		{Names: []string{"host", "ovs"}, Destroy: 3, DestroyRecorded: true},
		{Names: []string{"check"}},
	}}}
	d, err := newDrivers(domains, nil)
	if err != nil {
		t.Fatal(err)
	}
	steps := []*interp.Step{{Name: "s", Actions: []interp.Action{act("host", "route")}}}
	needed, err := d.needed(true, steps)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		offline bool
		want    []string
	}{{false, []string{"nb", "host", "ovs"}}, {true, []string{"nb"}}} {
		if got := d.destroyOrder(needed, tc.offline); !slices.Equal(got, tc.want) {
			t.Errorf("destroy order (offline %v) = %q, want %q", tc.offline, got, tc.want)
		}
	}
}
