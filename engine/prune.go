package engine

import (
	"context"

	"github.com/ovnrun/ovnrun/interp"
)

// PruneStep is the step of an apply plan that holds the deletions of what
// the runbook's owner created and the runbook no longer declares; it runs
// after the runbook's own steps.
const PruneStep = "prune"

// Pruner is implemented by drivers whose things are not found by the
// action IDs of the runbook (host settings: the host drivers may
// implement it): PlanPrune returns the deletion of what this owner made and
// declared no longer declares. A Destroyer that is no Pruner is pruned
// through its PlanDestroy, keeping the changes of undeclared actions.
type Pruner interface {
	PlanPrune(ctx context.Context, declared []interp.Action) ([]interp.Change, error)
}

// withPrune appends to planned the prune step: what the opened drivers, in
// destroy order, find of this owner's that no action of plan (in any step)
// declares. Nothing is appended when there is nothing to prune. Drivers the
// run does not open (no action of theirs is declared) are not asked.
func withPrune(ctx context.Context, order []string, ds map[string]interp.Driver, plan *interp.Plan, planned []interp.StepChanges) ([]interp.StepChanges, error) {
	n := 0
	for _, s := range plan.Steps {
		n += len(s.Actions)
	}
	actions := make([]interp.Action, 0, n)
	for _, s := range plan.Steps {
		actions = append(actions, s.Actions...)
	}
	var declared map[string]bool // built for the first Destroyer that is no Pruner
	var changes []interp.Change
	for _, name := range order {
		if p, ok := ds[name].(Pruner); ok {
			cs, err := p.PlanPrune(ctx, actions)
			if err != nil {
				return nil, err
			}
			changes = append(changes, cs...)
			continue
		}
		d, ok := ds[name].(Destroyer)
		if !ok {
			continue
		}
		cs, err := d.PlanDestroy(ctx, actions)
		if err != nil {
			return nil, err
		}
		if declared == nil {
			declared = make(map[string]bool, len(actions))
			for _, a := range actions {
				declared[a.Meta().ID] = true
			}
		}
		for _, c := range cs {
			if m := c.Action.Meta(); !declared[m.ID] {
				m.Step = PruneStep
				changes = append(changes, c)
			}
		}
	}
	if len(changes) == 0 {
		return planned, nil
	}
	step := &interp.Step{Name: PruneStep, Pos: interp.Pos{File: plan.Runbook, Line: 1}}
	return append(planned, interp.StepChanges{Step: step, Changes: changes}), nil
}
