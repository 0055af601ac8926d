package check

import (
	"context"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/interp"
)

// DriverName is the name of the check domain's driver, which also runs
// ovnrun trace.
const DriverName = "check"

// Registration is the check domain's registration: its builtins and the "check"
// driver. Pings run on hosts over the "host" driver's connections, which it
// needs, and in VMs through the VM driver ("libvirt"), which it uses when the
// run opens it or a lab stands in for it. It uses the NB driver, when the
// run has one, to wait for the chassis' flows before counting loss.
func Registration() engine.Domain {
	return engine.Domain{Name: "check", Register: Register, Saved: savedKinds, Drivers: []engine.DriverSpec{{
		Names: []string{DriverName},
		Needs: []string{"host"},
		Uses:  []string{"libvirt", "nb"},
		Open: func(_ context.Context, env *engine.OpenEnv) ([]interp.Driver, interp.Outputs, error) {
			hosts, _ := env.Drivers["host"].(HostRunner)
			guests, _ := env.Drivers["libvirt"].(GuestRunner)
			d := NewDriver(hosts, guests)
			if nb, ok := env.Drivers["nb"].(ChassisSync); ok {
				d.WithChassisSync(nb)
			}
			return []interp.Driver{d}, nil, nil
		},
	}}}
}

// savedKinds writes the checks into saved plans.
var savedKinds = engine.KindCodec(&Ping{}, &TCP{}, &Exec{}, &Trace{})
