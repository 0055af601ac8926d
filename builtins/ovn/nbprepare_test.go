package ovn

import (
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/poll"
	"github.com/ovnrun/ovnrun/interp"
)

const prepareRunbook = `
def topo():
    s = ls("sw", subnet = "10.1.0.0/24")
    lsp(s, "p1", mac = var("mac", "0a:00:00:00:00:01"), ips = "dynamic")
step("topology", topo)
`

// TestPrepareIsUsedOnlyWhileTheNBIsUnchanged: Apply sends the transaction
// Prepare staged when the NB has not changed since; when it has, Apply
// compares again, and reports what it found then rather than what was
// staged.
func TestPrepareIsUsedOnlyWhileTheNBIsUnchanged(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	ctx := testCtx(t)

	p := evaluate(t, "test.star", prepareRunbook, nil)
	sc := plan(t, d, p)
	d.Prepare(ctx, sc[0].Changes)
	staged := d.prepared
	if staged == nil {
		t.Fatal("Prepare staged nothing for a plan of two new rows")
	}
	out, err := d.Apply(ctx, sc[0].Changes)
	if err != nil {
		t.Fatal(err)
	}
	if !staged.tx.sent || d.prepared != nil {
		t.Errorf("Apply did not send the staged transaction (sent %v), or kept it", staged.tx.sent)
	}
	if got := out["logical_switch_port/p1"].Op; got != interp.OpCreate {
		t.Errorf("p1: %s, want create", got)
	}

	// The port's MAC changes in the runbook; before Apply, someone makes
	// the same change by hand. The staged update is stale: Apply must find
	// the port unchanged.
	p = evaluate(t, "test.star", prepareRunbook, map[string]string{"mac": "0a:00:00:00:00:02"})
	sc = plan(t, d, p)
	d.Prepare(ctx, sc[0].Changes)
	staged = d.prepared
	if staged == nil {
		t.Fatal("Prepare staged nothing for an update")
	}
	nbctl(t, nb, "lsp-set-addresses", "p1", "0a:00:00:00:00:02 dynamic")
	// Wait until the driver's cache shows the change: a new snapshot.
	if err := poll.Until(ctx, time.Minute, time.Millisecond, func() (bool, error) {
		snap, err := d.snapshot(ctx)
		return err == nil && snap != staged.snap, err
	}); err != nil {
		t.Fatal(err)
	}
	out, err = d.Apply(ctx, sc[0].Changes)
	if err != nil {
		t.Fatal(err)
	}
	if staged.tx.sent {
		t.Error("Apply sent the transaction staged before the NB changed")
	}
	if got := out["logical_switch_port/p1"].Op; got != interp.OpUnchanged {
		t.Errorf("p1: %s, want unchanged (the NB already holds the new MAC)", got)
	}

	// Prepare for other changes than Apply gets: not used.
	d.Prepare(ctx, sc[0].Changes[:1])
	staged = d.prepared
	if _, err := d.Apply(ctx, sc[0].Changes); err != nil {
		t.Fatal(err)
	}
	if staged != nil && staged.tx.sent {
		t.Error("Apply sent a transaction staged for other changes")
	}
}
