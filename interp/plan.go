package interp

import (
	"fmt"
	"strings"
)

// Plan is the result of evaluating a runbook: its steps, each holding typed
// actions in declaration order, plus the hosts and settings it declared.
// A plan is deterministic: evaluating the same runbook with the same
// variables and the same files read yields the same plan.
type Plan struct {
	Runbook string
	// Settings are runbook-wide declarations, such as the NB address.
	Settings []Field
	Hosts    map[string]*Host
	Steps    []*Step
	// Vars holds the value of every variable the runbook read.
	Vars map[string]string
	// Libraries are the versioned sources loaded, in load order, with the
	// commit each one was read at.
	Libraries []Library
	// Files are the files the runbook read with read_file(), in the order
	// first read.
	Files []FileRead
	// Modules are the Starlark files executed, in the order loaded: the
	// runbook first, then each library load() read (stdlib, local, git),
	// with the hash of the source executed; a saved plan records them.
	Modules []Module

	byID map[string]Action
}

// Step is a named group of actions, declared with step(name, fn).
type Step struct {
	Name    string
	Pos     Pos
	Actions []Action
}

func newPlan(runbook string) *Plan {
	return &Plan{
		Runbook: runbook,
		Hosts:   map[string]*Host{},
		Vars:    map[string]string{},
		byID:    map[string]Action{},
	}
}

// Module is one Starlark file of an evaluation.
type Module struct {
	Key    string // as positions name it: a path, @stdlib//x.star, git+...
	SHA256 string // hex, of the source executed
}

// Index makes a plan assembled outside evaluation (a saved plan read back)
// answer Action and Len; it refuses two actions with one ID.
func (p *Plan) Index() error {
	p.byID = map[string]Action{}
	if p.Hosts == nil {
		p.Hosts = map[string]*Host{}
	}
	if p.Vars == nil {
		p.Vars = map[string]string{}
	}
	for _, s := range p.Steps {
		for _, a := range s.Actions {
			id := a.Meta().ID
			if _, dup := p.byID[id]; dup {
				return fmt.Errorf("two actions with the ID %s", id)
			}
			p.byID[id] = a
		}
	}
	return nil
}

// Action returns the action with the given ID.
func (p *Plan) Action(id string) (Action, bool) {
	a, ok := p.byID[id]
	return a, ok
}

// Len returns the number of actions in the plan.
func (p *Plan) Len() int { return len(p.byID) }

// Setting returns the value of a runbook-wide setting.
func (p *Plan) Setting(key string) (any, bool) {
	for _, f := range p.Settings {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

// StepNames returns the names of the steps in order.
func (p *Plan) StepNames() []string {
	names := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		names[i] = s.Name
	}
	return names
}

// Select returns the steps to run: those named in only (if any), else every
// step from the one named from (if set) to the end.
func (p *Plan) Select(only []string, from string) ([]*Step, error) {
	if len(only) > 0 && from != "" {
		return nil, fmt.Errorf("--only and --from cannot be combined")
	}
	index := map[string]int{}
	for i, s := range p.Steps {
		index[s.Name] = i
	}
	unknown := func(name string) error {
		return fmt.Errorf("no step %q in %s; its steps are: %s", name, p.Runbook, strings.Join(p.StepNames(), ", "))
	}
	switch {
	case len(only) > 0:
		want := map[string]bool{}
		for _, n := range only {
			if _, ok := index[n]; !ok {
				return nil, unknown(n)
			}
			want[n] = true
		}
		var out []*Step
		for _, s := range p.Steps {
			if want[s.Name] {
				out = append(out, s)
			}
		}
		return out, nil
	case from != "":
		i, ok := index[from]
		if !ok {
			return nil, unknown(from)
		}
		return p.Steps[i:], nil
	}
	return p.Steps, nil
}
