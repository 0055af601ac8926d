package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ResetHosts puts every host of the lab back as it was when the lab came
// up: its VMs, Open vSwitch, the OVN daemons and their databases, the
// addresses, routes and bridges a runbook gave it, are gone, and its sshd
// runs again with the same host key. It is what `ovnrun --lab --destroy`
// does after deleting the runbook's NB rows and VMs: in a lab, everything
// on a host was made by the runbook.
func (l *Lab) ResetHosts() error {
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	for i, h := range l.Hosts {
		if err := l.resetHost(i, h); err != nil {
			return fmt.Errorf("lab %s: reset host %s: %w", l.Name, h.Name, err)
		}
	}
	return os.RemoveAll(filepath.Join(l.Dir, "vms"))
}

func (l *Lab) resetHost(i int, h *Host) error {
	// The control namespace's ends of its veths go first: a namespace is
	// deleted in the background, and its peers with it, a moment later.
	ends := []string{fmt.Sprintf("u%d", i)}
	for j := range h.Ifaces {
		ends = append(ends, fmt.Sprintf("o%d_%d", i, j))
	}
	var cmds []string
	for _, e := range ends {
		cmds = append(cmds, "link del "+e)
	}
	if err := batch(l.CtlNS, cmds); err != nil {
		return err
	}
	var errs []error
	for _, ns := range append(Namespaces(h.NS+"+"), h.NS) {
		errs = append(errs, RemoveNamespace(ns))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	l.libvirt(h).SaveCache()
	keyFile := filepath.Join(h.Dir, "etc", "ssh_host_ed25519_key")
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(h.Dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		return err
	}
	if err := l.hostNetwork(i, h); err != nil {
		return err
	}
	_, err = l.startHost(h)
	return err
}
