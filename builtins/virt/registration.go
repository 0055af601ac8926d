package virt

import (
	"context"
	"errors"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/remote"
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
	return engine.Domain{Name: "virt", Register: Register, Drivers: []engine.DriverSpec{{
		Names: []string{"libvirt"}, Destroy: 1,
		Open: func(_ context.Context, env *engine.OpenEnv) ([]interp.Driver, interp.Outputs, error) {
			d, err := open(cfg, env)
			if err != nil {
				return nil, nil, err
			}
			return []interp.Driver{d}, nil, nil
		},
	}}}
}

// pooledDriver is the libvirt driver with the connection pool it reaches
// hosts through, closed together.
type pooledDriver struct {
	*Driver
	pool *remote.Pool
}

func (d *pooledDriver) Close() error { return errors.Join(d.Driver.Close(), d.pool.Close()) }

// open returns the "libvirt" driver: hosts are reached as the host drivers
// reach them (runbook, then inventory, same SSH settings), each host's OVS
// database in its inventory's ovs_rundir, and the domains are tagged with
// the runbook's owner tag, as NB rows are. Nothing is dialled until an
// action needs a host. It has a pool of its own: one more SSH connection
// per hypervisor, until the host drivers hand out theirs.
func open(cfg RunConfig, env *engine.OpenEnv) (*pooledDriver, error) {
	rc := env.Hosts.Remote
	if rc.KnownHosts == "" && env.Hosts.Inventory != nil {
		rc.KnownHosts = env.Hosts.Inventory.KnownHosts
	}
	pool, err := remote.NewPool(rc)
	if err != nil {
		return nil, err
	}
	targets := env.Hosts.Targets(env.Plan)
	d, err := NewDriver(Config{
		Conn:        PoolConn(pool, targets),
		Hosts:       HostConfigs(targets),
		Owner:       env.Owner,
		RecreateVMs: cfg.RecreateVMs,
		WaitGuests:  cfg.WaitGuests,
		Log:         env.Log,
	})
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &pooledDriver{Driver: d, pool: pool}, nil
}
