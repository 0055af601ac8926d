package interp

import (
	"context"
	"sort"
)

// Op is what applying an action will do.
type Op string

const (
	OpCreate    Op = "create"
	OpUpdate    Op = "update"
	OpDelete    Op = "delete"
	OpRun       Op = "run"       // a command action that will run
	OpUnchanged Op = "unchanged" // live state already matches
	OpSkip      Op = "skip"      // done in an earlier run (journal)
)

// Symbol is the one-character marker of op in the text plan.
func (op Op) Symbol() string {
	switch op {
	case OpCreate:
		return "+"
	case OpUpdate:
		return "~"
	case OpDelete:
		return "-"
	case OpRun:
		return ">"
	case OpSkip:
		return "."
	}
	return "="
}

// FieldDiff is one column or setting that differs between live and desired
// state.
type FieldDiff struct {
	Key      string
	Old, New any
}

// Change is the planned outcome of one action.
type Change struct {
	Action Action
	Op     Op
	Diffs  []FieldDiff // for OpUpdate
	// Note explains the op when it is not obvious: a guard, a refusal, why
	// an action is skipped.
	Note string
}

// Outcome is what applying one change did. Op is what the driver actually
// did, found when it compared the change with live state again: it differs
// from the planned op when an earlier step changed what Plan saw (a guard
// file an earlier command removed, a route an earlier command added). A
// driver that cannot tell reports the planned op. The engine reports Op, not
// the plan's, in the progress, the summaries and the journal.
type Outcome struct {
	Op      Op
	Outputs map[string]string // attribute -> value
}

// Outcomes are the outcomes of one Apply call, by action ID. An entry with
// no Op carries outputs of an ID that names no action ("host/NAME").
type Outcomes map[string]Outcome

// Did records that the action with ID id was applied with op.
func (o Outcomes) Did(id string, op Op) {
	oc := o[id]
	oc.Op = op
	o[id] = oc
}

// AddOutputs adds outputs of id.
func (o Outcomes) AddOutputs(id string, outputs map[string]string) {
	if len(outputs) == 0 {
		return
	}
	oc := o[id]
	if oc.Outputs == nil {
		oc.Outputs = map[string]string{}
	}
	for k, v := range outputs {
		oc.Outputs[k] = v
	}
	o[id] = oc
}

// outputs returns the outputs of every ID, for Outputs.Merge.
func (o Outcomes) Outputs() map[string]map[string]string {
	out := map[string]map[string]string{}
	for id, oc := range o {
		if len(oc.Outputs) > 0 {
			out[id] = oc.Outputs
		}
	}
	return out
}

// StepChanges are the changes of one step, in declaration order.
type StepChanges struct {
	Step    *Step
	Changes []Change
}

// Summary counts changes for the closing plan line.
type Summary struct {
	Add, Change, Destroy, Run, Unchanged, Skip int
}

// Summarize counts the changes of steps.
func Summarize(steps []StepChanges) Summary {
	var s Summary
	for _, st := range steps {
		for _, c := range st.Changes {
			switch c.Op {
			case OpCreate:
				s.Add++
			case OpUpdate:
				s.Change++
			case OpDelete:
				s.Destroy++
			case OpRun:
				s.Run++
			case OpUnchanged:
				s.Unchanged++
			case OpSkip:
				s.Skip++
			}
		}
	}
	return s
}

// OfflineChanges plans steps without contacting anything: every resource is
// to be created and every command to run, as on an empty lab.
func OfflineChanges(steps []*Step) []StepChanges {
	out := make([]StepChanges, len(steps))
	for i, s := range steps {
		cs := make([]Change, len(s.Actions))
		for j, a := range s.Actions {
			op := OpCreate
			if a.Meta().Mode == Command {
				op = OpRun
			}
			cs[j] = Change{Action: a, Op: op}
			if g, ok := a.(Guarded); ok {
				cs[j].Note = g.Guard()
			}
		}
		out[i] = StepChanges{Step: s, Changes: cs}
	}
	return out
}

// DestroyOrder places an action among its driver's deletions as the
// driver's live PlanDestroy orders them: lower rank first, then by key, then
// in declaration order.
type DestroyOrder func(Action) (rank int, key string)

// DestroyStep is the one step of a destroy plan.
func DestroyStep(p *Plan) *Step {
	return &Step{Name: "destroy", Pos: Pos{File: p.Runbook, Line: 1}}
}

// OfflineDestroy plans without contacting anything the destroy of what the
// plan would create: every resource action of the drivers named, as a
// delete, driver by driver in the order given (the order of the live
// destroy), each driver's in its order (nil: declaration order). Commands
// are not destroyed, nor host settings: their drivers destroy nothing.
func OfflineDestroy(p *Plan, drivers []string, order map[string]DestroyOrder) []StepChanges {
	type entry struct {
		rank int
		key  string
		a    Action
	}
	byDriver := map[string][]entry{}
	for _, s := range p.Steps {
		for _, a := range s.Actions {
			m := a.Meta()
			if m.Mode != Resource {
				continue
			}
			e := entry{a: a}
			if f := order[m.Driver]; f != nil {
				e.rank, e.key = f(a)
			}
			byDriver[m.Driver] = append(byDriver[m.Driver], e)
		}
	}
	var cs []Change
	for _, name := range drivers {
		es := byDriver[name]
		sort.SliceStable(es, func(i, j int) bool {
			if es[i].rank != es[j].rank {
				return es[i].rank < es[j].rank
			}
			return es[i].key < es[j].key
		})
		for _, e := range es {
			cs = append(cs, Change{Action: e.a, Op: OpDelete})
		}
	}
	return []StepChanges{{Step: DestroyStep(p), Changes: cs}}
}

// Guarded is implemented by command actions that run only when a guard says
// so; Guard describes the guard for the plan.
type Guarded interface {
	Guard() string
}

// Driver applies the actions of one kind of target (the NB database, a
// host's shell, a host's OVS database, a libvirt daemon). The apply engine
// gives each driver the actions whose Meta.Driver names it.
//
// Plan and Apply share one code path for dry-run and apply: a dry-run calls
// Plan only; an apply calls Plan, then Apply with the changes Plan returned.
type Driver interface {
	// Name is the value of Meta.Driver this driver handles.
	Name() string
	// Plan compares the desired state of actions against live state and
	// returns one change per action. It must not modify anything.
	Plan(ctx context.Context, actions []Action) ([]Change, error)
	// Apply carries out the changes of one step, each compared with live
	// state again, and returns the Outcome of every change it was given:
	// the op it actually carried out and the action's outputs (resolved
	// futures). On an error it returns the outcomes of the changes it
	// carried out all the same (see PartialError).
	Apply(ctx context.Context, changes []Change) (Outcomes, error)
	// Close releases the driver's connections.
	Close() error
}

// Preparer is implemented by drivers that can work out, ahead of Apply,
// what Apply of changes will send: the engine calls Prepare while the plan
// is being printed, with the changes of the first batch Apply will get.
// Prepare changes nothing and reports nothing; Apply uses its work only if
// it gets the same changes and nothing Prepare read has changed since, and
// otherwise does it again.
type Preparer interface {
	Prepare(ctx context.Context, changes []Change)
}
