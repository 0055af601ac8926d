package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// hostFlags are the flags of runs that reach hosts (over SSH, or this
// machine for local=True hosts). docs/hosts.md documents them.
type hostFlags struct {
	inventory      string
	knownHosts     string
	acceptNewKeys  bool
	sshTimeout     time.Duration
	commandTimeout time.Duration
}

func addHostFlags(fs *pflag.FlagSet, f *hostFlags) {
	fs.StringVar(&f.inventory, "inventory", "", "JSON file saying how to reach the runbook's hosts (docs/hosts.md); overrides host()")
	fs.StringVar(&f.knownHosts, "known-hosts", "", "known_hosts file checked for host keys (default: the inventory's, else ~/.ssh/known_hosts)")
	fs.BoolVar(&f.acceptNewKeys, "accept-new-host-keys", false, "record the key of a host known_hosts does not know instead of refusing it (a changed key is always refused)")
	fs.DurationVar(&f.sshTimeout, "ssh-timeout", 10*time.Second, "give up connecting to a host after this long")
	fs.DurationVar(&f.commandTimeout, "command-timeout", 10*time.Minute, "kill a sh() command that runs longer than this")
}

// openSessions returns the run's host sessions: one SSH connection per
// host, reached as the runbook, then the inventory, says. Nothing is
// dialled until a driver needs a host.
func openSessions(f *hostFlags, plan *interp.Plan, stderr io.Writer) (*remote.Sessions, error) {
	var inv *remote.Inventory
	if f.inventory != "" {
		var err error
		if inv, err = remote.LoadInventory(f.inventory); err != nil {
			return nil, err
		}
	}
	rc := remote.Config{KnownHosts: f.knownHosts, AcceptNewHostKeys: f.acceptNewKeys, DialTimeout: f.sshTimeout, Log: stderr}
	if rc.KnownHosts == "" && inv != nil {
		rc.KnownHosts = inv.KnownHosts
	}
	return remote.NewSessions(rc, host.Targets(plan, inv))
}

// openHostDrivers returns the "host" and "ovs" drivers for plan, over
// sessions (their own when nil). With an
// inventory, it first rewrites the plan's hosts so that the plan shows the
// machines really reached, warning on stderr about declared hosts the
// inventory does not list. known holds the chassis names that hosts
// already report, for interp.WithOutputs before planning. Nothing is
// dialled except to read those names.
func openHostDrivers(ctx context.Context, f *hostFlags, plan *interp.Plan, sessions *remote.Sessions, stderr io.Writer) (drivers []interp.Driver, known interp.Outputs, err error) {
	var inv *remote.Inventory
	if f.inventory != "" {
		if inv, err = remote.LoadInventory(f.inventory); err != nil {
			return nil, nil, err
		}
		if missing := host.UseInventory(plan, inv); len(missing) > 0 {
			fmt.Fprintf(stderr, "ovnrun: warning: %s does not list host(s) %s: reaching them at the runbook's addresses\n",
				f.inventory, strings.Join(missing, ", "))
		}
	}
	hd, od, err := host.NewDrivers(plan, host.Config{
		Remote:    remote.Config{KnownHosts: f.knownHosts, AcceptNewHostKeys: f.acceptNewKeys, DialTimeout: f.sshTimeout},
		Inventory: inv, Sessions: sessions, CommandTimeout: f.commandTimeout, Log: stderr,
	})
	if err != nil {
		return nil, nil, err
	}
	return []interp.Driver{hd, od}, od.KnownChassis(ctx, plan), nil
}
