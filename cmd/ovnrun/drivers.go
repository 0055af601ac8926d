package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// Which drivers a run opens, and how they are wired to each other.

// driverAvailable says whether this build has a driver for actions of
// Meta.Driver name.
func driverAvailable(name string) bool {
	switch name {
	case "nb", "host", "ovs", "check", "libvirt":
		return true
	}
	return false
}

// neededDrivers returns the drivers the steps need, refusing, before
// anything is dialled, steps with actions no driver of this run applies: a
// run that cannot finish must not start. Destroy needs the NB, and in a lab
// the VM driver, which can delete its VMs.
func neededDrivers(lf *liveFlags, steps []*interp.Step) (map[string]bool, error) {
	if lf.destroy {
		return map[string]bool{"nb": true, "libvirt": lf.lab.on || declaresVMs(steps)}, nil
	}
	needed := map[string]bool{}
	for _, s := range steps {
		for i, a := range s.Actions {
			name := a.Meta().Driver
			if !driverAvailable(name) {
				err := &interp.MissingDriverError{Driver: name, Step: s.Name, Index: i + 1, Action: a}
				return nil, fmt.Errorf("%v\nthis build has no driver for %s actions: select other steps with --only", err, name)
			}
			needed[name] = true
		}
	}
	if needed["check"] {
		// Pings run on hosts over the host driver's connections, and in
		// VMs through the VM driver.
		needed["host"] = true
		needed["libvirt"] = needed["libvirt"] || lf.lab.on
	}
	return needed, nil
}

// openDrivers opens the drivers needed into drivers (which the caller
// closes, also after an error) and returns the outputs known before
// planning: chassis names hosts already report, so that the plan shows real
// values instead of "(known after apply)".
func openDrivers(ctx context.Context, lf *liveFlags, plan *interp.Plan, steps []*interp.Step, needed map[string]bool,
	drivers map[string]interp.Driver, stderr io.Writer) (interp.Outputs, error) {
	known := interp.Outputs{}
	if needed["nb"] {
		nb, err := connectNB(ctx, lf, plan, steps, stderr)
		if err != nil {
			return nil, err
		}
		drivers[nb.Name()] = nb
	}
	var hostDriver *host.HostDriver
	var sessions *remote.Sessions // one per host per run, shared by the host and libvirt drivers
	if needed["host"] || needed["ovs"] || needed["libvirt"] {
		var err error
		if sessions, err = openSessions(&lf.hosts, plan, stderr); err != nil {
			return nil, err
		}
	}
	if needed["host"] || needed["ovs"] {
		ds, k, err := openHostDrivers(ctx, &lf.hosts, plan, sessions, stderr)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			drivers[d.Name()] = d
			if hd, ok := d.(*host.HostDriver); ok {
				hostDriver = hd
			}
		}
		known.Merge(k)
	}
	if needed["libvirt"] {
		d, err := openVMDriver(lf, plan, sessions, stderr)
		if err != nil {
			return nil, err
		}
		drivers[d.Name()] = d
	}
	if needed["check"] {
		guests, _ := drivers["libvirt"].(check.GuestRunner)
		drivers["check"] = check.NewDriver(hostDriver, guests)
	}
	return known, nil
}

// connectNB connects the NB driver to --nb, else to the runbook's ovn_nb().
// When the run itself starts the NB (a step before the first NB step, or
// that step, starts ovn-northd or opens the NB's connection) and the NB does
// not answer yet, the driver plans as if the NB were empty and connects when
// the first NB step is applied.
func connectNB(ctx context.Context, lf *liveFlags, plan *interp.Plan, steps []*interp.Step, stderr io.Writer) (interp.Driver, error) {
	endpoints := ovn.SplitEndpoints(lf.nb)
	if len(endpoints) == 0 {
		if v, ok := plan.Setting("nb"); ok {
			s, _ := v.(string)
			endpoints = ovn.SplitEndpoints(s)
		}
	}
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("no Northbound database: pass --nb ADDR or call ovn_nb() in the runbook")
	}
	cfg := ovn.NBConfig{Endpoints: endpoints, Owner: ovn.Owner(plan.Runbook),
		ConnectTimeout: lf.timeout, Adopt: lf.adopt, Wait: lf.wait, Log: stderr}
	if lf.destroy {
		return ovn.ConnectNB(ctx, cfg)
	}
	return ovn.ConnectNBOrLater(ctx, cfg, nbStarter(steps))
}

// nbStarter returns the name of the step that starts the NB, among steps up
// to the first one with NB actions: one that starts ovn-northd (its unit
// starts the NB's ovsdb-server) or sets the NB's connection. "" when none.
func nbStarter(steps []*interp.Step) string {
	for _, s := range steps {
		nbStep := false
		for _, a := range s.Actions {
			switch a := a.(type) {
			case *host.DBConnection:
				if a.DB == "nb" {
					return s.Name
				}
			case *host.Service:
				if unit := a.Unit; a.State != "stopped" && (unit == "ovn-northd" || unit == "ovn-northd.service" ||
					unit == "ovn-central" || unit == "ovn-central.service") {
					return s.Name
				}
			}
			nbStep = nbStep || a.Meta().Driver == "nb"
		}
		if nbStep {
			return ""
		}
	}
	return ""
}

// declaresVMs reports whether steps declare VMs, whose domains a destroy
// removes.
func declaresVMs(steps []*interp.Step) bool {
	for _, s := range steps {
		for _, a := range s.Actions {
			if a.Meta().Driver == "libvirt" {
				return true
			}
		}
	}
	return false
}

// destroyDrivers are the drivers a destroy deletes with, in the order it
// runs them: VMs (and their NICs) go before the NB rows their NICs use.
var destroyDrivers = []string{"libvirt", "nb"}

// planDestroy plans the deletion of what the runbook created: the NB rows
// it owns and, in a lab, its VMs.
func planDestroy(ctx context.Context, drivers map[string]interp.Driver, plan *interp.Plan) ([]interp.StepChanges, error) {
	var actions []interp.Action
	for _, s := range plan.Steps {
		actions = append(actions, s.Actions...)
	}
	var changes []interp.Change
	for _, name := range destroyDrivers {
		d, ok := drivers[name].(interface {
			PlanDestroy(context.Context, []interp.Action) ([]interp.Change, error)
		})
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

// planDestroyOffline plans, contacting nothing, the destroy a live one would
// plan after the runbook was applied: the drivers the live destroy opens
// delete what the plan creates.
func planDestroyOffline(lf *liveFlags, plan *interp.Plan, steps []*interp.Step) ([]interp.StepChanges, error) {
	needed, err := neededDrivers(lf, steps)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, name := range destroyDrivers {
		if needed[name] {
			names = append(names, name)
		}
	}
	return interp.OfflineDestroy(plan, names), nil
}

// writeDestroyHosts says what a destroy does to the hosts: in a lab it resets
// them, elsewhere it leaves them as they are.
func writeDestroyHosts(w io.Writer, l *lab.Lab) {
	if l != nil {
		fmt.Fprintf(w, "Then, in lab %s, every host is reset to as it was when the lab came up.\n", l.Name)
		return
	}
	fmt.Fprintln(w, "Host settings (services, Open vSwitch, addresses, routes) are left as they are.")
}
