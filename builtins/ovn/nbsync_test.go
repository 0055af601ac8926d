package ovn

import (
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// TestSyncChassis: SyncChassis raises nb_cfg and returns once hv_cfg has
// followed; with a chassis that never reports (registered, no
// ovn-controller), it says so when its timeout passes.
func TestSyncChassis(t *testing.T) {
	c := daemons.StartCentral(t)
	d := connect(t, c.NB.Sock)
	apply(t, d, evaluate(t, "test.star", topology, nil))
	for want := range []string{"1", "2"} {
		if _, err := d.SyncChassis(testCtx(t), 20*time.Second); err != nil {
			t.Fatal(err)
		}
		if got := nbctl(t, c.NB, "get", "NB_Global", ".", "hv_cfg"); got != []string{"1", "2"}[want] {
			t.Errorf("hv_cfg = %s after sync %d", got, want+1)
		}
	}
	// What a chassis whose ovn-controller was killed leaves behind.
	if _, err := c.SBCtl("chassis-add", "silent", "geneve", "127.0.0.9", "--", "create", "Chassis_Private", "name=silent", "nb_cfg=0"); err != nil {
		t.Fatal(err)
	}
	_, err := d.SyncChassis(testCtx(t), time.Second)
	if err == nil || !strings.Contains(err.Error(), "hv_cfg did not reach nb_cfg 3 within 1s: is every chassis' ovn-controller running?") {
		t.Errorf("with a silent chassis: %v", err)
	}
}
