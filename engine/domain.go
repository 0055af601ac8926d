package engine

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// A Domain is what one package under builtins/ brings to a run: its
// builtins and its drivers. cmd/ovnrun lists the domains once; the engine
// keeps no registry of its own.
type Domain struct {
	Name     string
	Register func(*interp.Registry) error // adds the domain's builtins
	Drivers  []DriverSpec
	// Saved writes the domain's actions into saved plans and reads them
	// back; nil: a plan holding its actions cannot be saved.
	Saved *ActionCodec
}

// A DriverSpec says how the engine opens one or more drivers that are
// opened together (the host domain's "host" and "ovs" share connections).
type DriverSpec struct {
	// Names are the drivers Open returns: the Meta.Driver of the actions
	// they take.
	Names []string
	// Needs are drivers opened first and handed to Open in OpenEnv.Drivers
	// whenever this one is opened (pings run over the hosts' connections).
	Needs []string
	// Uses are drivers handed to Open when the run opens them anyway, or
	// when an override stands in for them (a lab's VMs cost nothing to
	// open): pings in VMs run through the VM driver.
	Uses []string
	// Destroy, when above zero, says that a destroy opens this driver, which
	// implements Destroyer, and in which order: lower first. VMs go before the
	// NB rows their NICs use.
	Destroy int
	// DestroyAlways opens it for a destroy even when the steps declare none
	// of its actions (the NB rows a runbook owns are found by their tag).
	DestroyAlways bool
	// DestroyOrder places an action in an offline destroy plan where the
	// driver's PlanDestroy would delete it; nil: declaration order.
	DestroyOrder interp.DestroyOrder
	// DestroyRecorded says that the driver undoes what its targets record
	// that it did (host settings), which an offline destroy cannot read:
	// the offline plan lists none of its actions.
	DestroyRecorded bool
	// Open opens the drivers, dialling nothing it need not; known holds
	// outputs read before planning (chassis names hosts report).
	Open func(ctx context.Context, env *OpenEnv) (drivers []interp.Driver, known interp.Outputs, err error)
}

// Destroyer is implemented by drivers that can plan the deletion of what a
// runbook created.
type Destroyer interface {
	PlanDestroy(ctx context.Context, actions []interp.Action) ([]interp.Change, error)
}

// An override (Options.Overrides) is a DriverSpec that stands in for the
// registered drivers of its Names; with a nil Open they open as registered.
// An overridden driver is opened for a destroy and for the drivers that use
// it: it stands for targets the override supplies.

// OpenEnv is what a driver's Open is given: the run and what it shares.
type OpenEnv struct {
	Plan    *interp.Plan
	Steps   []*interp.Step // the selected steps
	Destroy bool           // the run deletes what the runbook created
	// Owner is the runbook's ownership tag (NB external_ids, VM metadata):
	// OwnerOf. LegacyOwner, when set, is the tag older ovnrun wrote for it
	// (Ownership.Legacy): a thing carrying it is this runbook's only while
	// the runbook declares it, and is never pruned.
	Owner, LegacyOwner string
	// Hosts says how to reach the runbook's hosts, for every domain.
	Hosts HostReach
	// Sessions are the run's hosts, one session (one SSH connection) per
	// host shared by every domain; a driver that uses them Retains them
	// and Releases them when it closes.
	Sessions *remote.Sessions
	// Held is what the journal's last run said the owner holds (holds.go):
	// a driver that prunes or destroys looks there too (the hosts of
	// HeldHosts).
	Held []string
	// Drivers are the drivers of Needs (and of Uses, when opened).
	Drivers map[string]interp.Driver
	// Log receives notes and warnings.
	Log io.Writer
}

// drivers is the table of driver specs of a run, by driver name.
type drivers struct {
	specs map[string]*DriverSpec
	// overridden names drivers an override stands in for.
	overridden map[string]bool
	names      []string // in the order the domains list them: the order they open in
}

// newDrivers indexes the domains' specs, the overrides replacing those of
// the same names, refusing a driver name given twice.
func newDrivers(domains []Domain, overrides []DriverSpec) (*drivers, error) {
	t := &drivers{specs: map[string]*DriverSpec{}, overridden: map[string]bool{}}
	for _, d := range domains {
		for i := range d.Drivers {
			s := &d.Drivers[i]
			for _, n := range s.Names {
				if _, dup := t.specs[n]; dup {
					return nil, fmt.Errorf("driver %q is registered twice (domain %s)", n, d.Name)
				}
				t.specs[n] = s
				t.names = append(t.names, n)
			}
		}
	}
	for i := range overrides {
		s := overrides[i]
		for _, n := range s.Names {
			reg, ok := t.specs[n]
			if !ok {
				return nil, fmt.Errorf("an override stands in for driver %q, which no domain registers", n)
			}
			if s.Open == nil {
				// The driver opens as registered, for targets the
				// override supplies (a lab's QEMU guests).
				s.Open, s.Needs, s.Uses = reg.Open, reg.Needs, reg.Uses
			}
			if s.DestroyOrder == nil {
				s.DestroyOrder = reg.DestroyOrder // the same actions
			}
			t.specs[n], t.overridden[n] = &s, true
		}
	}
	return t, nil
}

// needed returns the drivers the steps need, refusing, before anything is
// dialled, steps with actions no driver of this build applies: a run that
// cannot finish must not start. A destroy needs the drivers that delete.
func (t *drivers) needed(destroy bool, steps []*interp.Step) (map[string]bool, error) {
	declared := map[string]bool{}
	for _, s := range steps {
		for i, a := range s.Actions {
			name := a.Meta().Driver
			if t.specs[name] == nil {
				err := &MissingDriverError{Driver: name, Step: s.Name, Index: i + 1, Action: a}
				return nil, &OptionError{fmt.Errorf("%v\nthis build has no driver for %s actions: select other steps with --only", err, name)}
			}
			declared[name] = true
		}
	}
	needed := map[string]bool{}
	if destroy {
		// The drivers of a spec open together: an action of one makes a
		// destroy ask them all (the ovs records of a runbook that now
		// declares only routes are undone all the same).
		declaredSpec := map[*DriverSpec]bool{}
		for n := range declared {
			declaredSpec[t.specs[n]] = true
		}
		for n, s := range t.specs {
			if s.Destroy > 0 && (s.DestroyAlways || declaredSpec[s] || t.overridden[n]) {
				needed[n] = true
			}
		}
		return needed, nil
	}
	// A driver's Needs and Uses are needed in turn: follow them to the end.
	var add func(string)
	add = func(n string) {
		if needed[n] {
			return
		}
		needed[n] = true
		s := t.specs[n]
		for _, m := range s.Needs {
			add(m)
		}
		for _, m := range s.Uses {
			if t.overridden[m] {
				add(m)
			}
		}
	}
	for n := range declared {
		add(n)
	}
	return needed, nil
}

// open opens the needed drivers, each spec once and after those it needs,
// into out (which the caller closes, also after an error).
func (t *drivers) open(ctx context.Context, env OpenEnv, needed map[string]bool, out map[string]interp.Driver) (interp.Outputs, error) {
	known := interp.Outputs{}
	opened := map[*DriverSpec]bool{}
	var open func(s *DriverSpec, chain []string) error
	open = func(s *DriverSpec, chain []string) error {
		if opened[s] {
			return nil
		}
		if slices.Contains(chain, s.Names[0]) {
			return fmt.Errorf("drivers need each other: %s", strings.Join(append(chain, s.Names[0]), " -> "))
		}
		for _, m := range append(slices.Clone(s.Needs), s.Uses...) {
			if needed[m] {
				if err := open(t.specs[m], append(chain, s.Names[0])); err != nil {
					return err
				}
			}
		}
		opened[s] = true
		e := env
		e.Drivers = map[string]interp.Driver{}
		for _, m := range append(slices.Clone(s.Needs), s.Uses...) {
			if d, ok := out[m]; ok {
				e.Drivers[m] = d
			}
		}
		ds, k, err := s.Open(ctx, &e)
		for _, d := range ds {
			out[d.Name()] = d
		}
		known.Merge(k)
		return err
	}
	for _, n := range t.names {
		if needed[n] {
			if err := open(t.specs[n], nil); err != nil {
				return nil, err
			}
		}
	}
	return known, nil
}

// destroyOrders are the needed drivers' orders of deletions, by name.
func (t *drivers) destroyOrders(needed map[string]bool) map[string]interp.DestroyOrder {
	out := map[string]interp.DestroyOrder{}
	for n := range needed {
		out[n] = t.specs[n].DestroyOrder
	}
	return out
}

// destroyOrder lists the needed drivers that delete, in the order a destroy
// runs them; offline, those whose deletions only their targets know are
// left out.
func (t *drivers) destroyOrder(needed map[string]bool, offline bool) []string {
	var names []string
	for _, n := range t.names {
		if needed[n] && t.specs[n].Destroy > 0 && !(offline && t.specs[n].DestroyRecorded) {
			names = append(names, n)
		}
	}
	sort.SliceStable(names, func(i, j int) bool { return t.specs[names[i]].Destroy < t.specs[names[j]].Destroy })
	return names
}

// planDestroy plans the deletion of what the runbook created, driver by
// driver in destroy order.
func planDestroy(ctx context.Context, order []string, ds map[string]interp.Driver, plan *interp.Plan) ([]interp.StepChanges, error) {
	var actions []interp.Action
	for _, s := range plan.Steps {
		actions = append(actions, s.Actions...)
	}
	var changes []interp.Change
	for _, name := range order {
		d, ok := ds[name].(Destroyer)
		if !ok {
			continue
		}
		cs, err := d.PlanDestroy(ctx, actions)
		if err != nil {
			return nil, err
		}
		changes = append(changes, cs...)
	}
	return []interp.StepChanges{{Step: interp.DestroyStep(plan), Changes: changes}}, nil
}

// HostReach says how every domain reaches the runbook's hosts: the SSH
// settings and the inventory, which overrides the runbook's host().
type HostReach struct {
	Remote         remote.Config
	Inventory      *remote.Inventory
	InventoryPath  string
	CommandTimeout time.Duration
}

// Targets returns how to reach each host of plan: what its host() says,
// overridden by the inventory.
func (h HostReach) Targets(plan *interp.Plan) map[string]remote.Target {
	out := map[string]remote.Target{}
	for _, ph := range plan.HostList() {
		t := remote.Target{Name: ph.Name, Local: ph.Local, Address: ph.Address, Port: ph.Port, User: ph.User,
			Become: ph.Become, BecomePasswordEnv: ph.BecomePasswordEnv}
		if ph.IdentityFile != "" {
			t.IdentityFiles = []string{ph.IdentityFile}
		}
		// Defaults leave room for the ssh_config's User and Port.
		if ph.DefaultUser {
			t.User = ""
		}
		if ph.DefaultPort {
			t.Port = 0
		}
		t, _ = h.Inventory.Apply(t)
		out[ph.Name] = t
	}
	return out
}
