package host

import (
	"context"
	"strings"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/interp"
)

// pruneNote says why a prune undoes a setting.
const pruneNote = "ovnrun did it for this runbook, which no longer declares it"

// PlanPrune implements engine.Pruner: the undoing of the records of the
// owner (as a destroy plans it) whose setting no action of declared (the
// whole plan) declares any longer, on the hosts the plan's host actions
// name and the held hosts it still declares. A record of a setting still
// declared stays, so a later destroy still restores what was there before.
func (d *HostDriver) PlanPrune(ctx context.Context, declared []interp.Action) ([]interp.Change, error) {
	all, err := d.planUndos(ctx, declared)
	if err != nil {
		return nil, err
	}
	var out []interp.Change
	for _, c := range all {
		u := c.Action.(*Undo)
		if len(u.M.Stack) > 0 {
			continue // planUndo found the action that declares it
		}
		u.M.Step = engine.PruneStep
		if !strings.Contains(c.Note, pruneNote) {
			c.Note = strings.TrimPrefix(c.Note+"; "+pruneNote, "; ")
		}
		out = append(out, c)
	}
	return out, nil
}
