package virt

import (
	"context"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/interp"
)

// RunConfig is what a run asks of the libvirt driver (docs/vms.md).
type RunConfig struct {
	RecreateVMs bool // --recreate-vms
	// WaitGuests is set in a lab with QEMU guests, whose guest kit opens
	// the command channel once booted (Config.WaitGuests).
	WaitGuests bool
}

// Registration is the virt domain's registration: its builtins and the "libvirt"
// driver, which a destroy runs first (VMs go before the NB rows their NICs
// use).
func Registration(cfg RunConfig) engine.Domain {
	return engine.Domain{Name: "virt", Register: Register, Saved: savedKinds, Drivers: []engine.DriverSpec{{
		Names: []string{"libvirt"}, Destroy: 1, DestroyOrder: destroyOrder,
		Open: func(_ context.Context, env *engine.OpenEnv) ([]interp.Driver, interp.Outputs, error) {
			d, err := open(cfg, env)
			if err != nil {
				return nil, nil, err
			}
			return []interp.Driver{d}, nil, nil
		},
	}}}
}

// open returns the "libvirt" driver: hosts are reached over the run's
// sessions, shared with the host drivers (one connection per host per run),
// each host's libvirt socket and OVS database as its inventory says, and the
// domains are tagged with the runbook's owner tag, as NB rows are. Nothing
// is dialled until an action needs a host.
func open(cfg RunConfig, env *engine.OpenEnv) (*Driver, error) {
	return NewDriver(Config{
		Sessions:    env.Sessions,
		Hosts:       HostConfigs(env.Sessions.Targets()),
		Owner:       env.Owner,
		Legacy:      env.LegacyOwner,
		RecreateVMs: cfg.RecreateVMs,
		WaitGuests:  cfg.WaitGuests,
		Log:         env.Log,
	})
}

// savedKinds writes the virt domain's actions into saved plans: VMs and
// their NICs (what a destroy or a prune finds is planned from the hosts,
// never saved).
var savedKinds = engine.KindCodec(&Domain{}, &Interface{})
