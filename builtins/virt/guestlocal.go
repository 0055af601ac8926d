package virt

import (
	"context"
	"fmt"
	"strings"

	"github.com/digitalocean/go-libvirt"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// A running guest as someone at its host reaches it (`ovnrun lab exec,
// shell, capture` on a QEMU guest), through a libvirt client the caller
// holds rather than the driver's sessions.

// GuestDevices is what a running domain's live XML says of the ways into
// its guest from its host.
type GuestDevices struct {
	// ConsolePTY is the host pty of the guest's serial console, "" when it
	// has none.
	ConsolePTY string
	// Taps maps each NIC's MAC (lowercase) to its device on the host (the
	// tap libvirt plugged into the bridge).
	Taps map[string]string
}

// ReadGuestDevices reads the console and NICs of running domain name.
func ReadGuestDevices(l *libvirt.Libvirt, name string) (GuestDevices, error) {
	dom, err := runningDomain(l, name)
	if err != nil {
		return GuestDevices{}, err
	}
	doc, err := l.DomainGetXMLDesc(dom, 0)
	if err != nil {
		return GuestDevices{}, err
	}
	_, x, err := parseDomain(doc)
	if err != nil {
		return GuestDevices{}, err
	}
	g := GuestDevices{Taps: map[string]string{}}
	if x.Devices == nil {
		return g, nil
	}
	for _, s := range x.Devices.Serials {
		if s.Source != nil && s.Source.Pty != nil && s.Source.Pty.Path != "" {
			g.ConsolePTY = s.Source.Pty.Path
			break
		}
	}
	for _, nic := range x.Devices.Interfaces {
		if nic.MAC != nil && nic.Target != nil && nic.Target.Dev != "" {
			g.Taps[strings.ToLower(nic.MAC.Address)] = nic.Target.Dev
		}
	}
	return g, nil
}

// AgentExec runs argv in the guest of running domain name through its QEMU
// guest agent (guest-exec), waiting until it exits or ctx ends; the result
// holds its exit status and output.
func AgentExec(ctx context.Context, l *libvirt.Libvirt, name string, argv []string) (*remote.Result, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("run in VM %s: no command", name)
	}
	dom, err := runningDomain(l, name)
	if err != nil {
		return nil, err
	}
	ask := func(req string, v any) error {
		answer, err := l.QEMUDomainAgentCommand(dom, req, agentWait, 0)
		return decodeAgentAnswer(answer, err, v)
	}
	res := &remote.Result{Host: name, Cmd: remote.Argv(argv...).String()}
	if err := runThroughAgent(ctx, ask, argv, res); err != nil {
		return nil, fmt.Errorf("run `%s` in VM %s: %w", res.Cmd, name, err)
	}
	return res, nil
}

// runningDomain looks domain name up and checks that it runs.
func runningDomain(l *libvirt.Libvirt, name string) (libvirt.Domain, error) {
	dom, err := l.DomainLookupByName(name)
	if isLibvirtErr(err, libvirt.ErrNoDomain) {
		return dom, fmt.Errorf("no domain %s", name)
	}
	if err != nil {
		return dom, err
	}
	if active, err := l.DomainIsActive(dom); err != nil {
		return dom, err
	} else if active == 0 {
		return dom, fmt.Errorf("domain %s is not running", name)
	}
	return dom, nil
}
