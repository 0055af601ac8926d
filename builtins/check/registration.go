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
	return engine.Domain{Name: "check", Register: Register, Saved: savedKinds, Drivers: []engine.DriverSpec{driverSpec(nil)}}
}

// LabDriver is the check driver of a run in an emulated lab, whose hosts
// share this machine: on a host whose kernel has no netem, fault "netem"
// runs impair there (the words of `ovnrun lab impair`, internal/impair).
// It stands in for the registered one (engine.Options.Overrides).
func LabDriver(impair []string) engine.DriverSpec { return driverSpec(impair) }

func driverSpec(impair []string) engine.DriverSpec {
	return engine.DriverSpec{
		Names: []string{DriverName},
		Needs: []string{"host"},
		Uses:  []string{"libvirt", "nb"},
		Open: func(_ context.Context, env *engine.OpenEnv) ([]interp.Driver, interp.Outputs, error) {
			hosts, _ := env.Drivers["host"].(HostRunner)
			guests, _ := env.Drivers["libvirt"].(GuestRunner)
			d := NewDriver(hosts, guests)
			d.impair = impair
			if nb, ok := env.Drivers["nb"].(ChassisSync); ok {
				d.WithChassisSync(nb)
			}
			return []interp.Driver{d}, nil, nil
		},
	}
}

// savedKinds writes the checks into saved plans.
var savedKinds = engine.KindCodec(&Ping{}, &TCP{}, &Exec{}, &Trace{}, &Fault{}, &PingWatch{}, &Outage{})
