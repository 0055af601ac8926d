package main

import (
	"context"
	"net"
	"time"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/remote"
)

// hostFlags are the flags of runs that reach hosts (over SSH, or this
// machine for local=True hosts). docs/hosts.md documents them.
type hostFlags struct {
	inventory      string
	knownHosts     string
	sshConfig      string
	acceptNewKeys  bool
	sshTimeout     time.Duration
	commandTimeout time.Duration
	// loaded is the inventory as runInputs read it for evaluation: the run
	// reaches hosts with the same, without reading it again.
	loaded *remote.Inventory
}

func addHostFlags(fs *pflag.FlagSet, f *hostFlags) {
	fs.StringVar(&f.inventory, "inventory", "", "the JSON `FILE` saying how to reach the runbook's hosts (docs/hosts.md); overrides host()")
	fs.StringVar(&f.knownHosts, "known-hosts", "", "the known_hosts `FILE` checked for host keys (default: the inventory's, else ~/.ssh/known_hosts)")
	fs.StringVar(&f.sshConfig, "ssh-config", "", "the ssh_config `FILE` resolving host addresses: Host aliases, HostName, User, Port, IdentityFile, ProxyJump (default: the inventory's, else ~/.ssh/config; none for none)")
	fs.BoolVar(&f.acceptNewKeys, "accept-new-host-keys", false, "record the key of a host known_hosts does not know instead of refusing it (a changed key is always refused)")
	fs.DurationVar(&f.sshTimeout, "ssh-timeout", 10*time.Second, "give up connecting to a host after this long")
	fs.DurationVar(&f.commandTimeout, "command-timeout", 10*time.Minute, "kill a sh() command that runs longer than this")
}

// options are the engine's host options.
func (f *hostFlags) options() engine.HostOptions {
	return engine.HostOptions{Inventory: f.inventory, Loaded: f.loaded, KnownHosts: f.knownHosts, SSHConfig: f.sshConfig, AcceptNewKeys: f.acceptNewKeys,
		SSHTimeout: f.sshTimeout, CommandTimeout: f.commandTimeout, Dial: hostDial}
}

// hostDial is nil but in tests, which reach namespace hosts (labhost) only
// from their lab's namespace.
var hostDial func(ctx context.Context, network, addr string) (net.Conn, error)
