package host

import (
	"context"
	"fmt"
	"strings"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/interp"
)

// Registration is the host domain's registration: its builtins and the "host"
// and "ovs" drivers, opened together over the run's sessions (one
// connection per host, shared with every domain).
func Registration() engine.Domain {
	return engine.Domain{Name: "host", Register: Register, Saved: savedKinds, Drivers: []engine.DriverSpec{{
		Names: []string{"host", "ovs"},
		// Last: after the VMs and the NB rows, host settings are undone
		// as the hosts record them (destroy.go).
		Destroy: 3, DestroyRecorded: true,
		Open: open,
	}}}
}

// open returns the "host" and "ovs" drivers for the run, warning about
// declared hosts the inventory does not list (the plan's hosts already
// carry the inventory's addresses: SetInventory, before evaluation). known holds the chassis names that hosts already report.
// Nothing is dialled except to read those names.
func open(ctx context.Context, env *engine.OpenEnv) ([]interp.Driver, interp.Outputs, error) {
	inv := env.Hosts.Inventory
	if missing := Unlisted(env.Plan, inv); len(missing) > 0 {
		fmt.Fprintf(env.Log, "ovnrun: warning: %s does not list host(s) %s: reaching them at the runbook's addresses\n",
			env.Hosts.InventoryPath, strings.Join(missing, ", "))
	}
	hd, od, err := NewDrivers(env.Plan, Config{
		Remote: env.Hosts.Remote, Inventory: inv, Sessions: env.Sessions, CommandTimeout: env.Hosts.CommandTimeout, Log: env.Log,
		Owner: env.Owner, HeldHosts: engine.HeldHosts(env.Held, "host", "ovs"),
	})
	if err != nil {
		return nil, nil, err
	}
	return []interp.Driver{hd, od}, od.KnownChassis(ctx, env.Plan), nil
}

// savedKinds writes the host domain's actions into saved plans: every kind
// a runbook declares (a destroy's Undo is planned from the hosts' records,
// never saved).
var savedKinds = engine.KindCodec(&Shell{}, &Service{}, &ExternalIDs{}, &OVSBridge{}, &DBConnection{}, &Route{}, &IPAddress{})
