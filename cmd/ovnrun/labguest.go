package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"

	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/internal/lab"
)

// `ovnrun lab exec|shell|capture` on a QEMU guest (HOST/VM in a lab with
// --lab-vms=qemu): exec goes through the guest's QEMU agent, shell attaches
// to its serial console, capture listens on its NIC's tap on the host.

// guestClient connects to the libvirtd of p's host.
func guestClient(p lab.Place) (*libvirt.Libvirt, error) {
	l := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(p.LibvirtSocket)))
	if err := l.ConnectToURI(libvirt.QEMUSystem); err != nil {
		return nil, fmt.Errorf("libvirtd of %s: %w", p.Name, err)
	}
	return l, nil
}

// guestExec runs argv in guest p through its agent and writes its output;
// it returns the command's exit status (128+N when signal N killed it).
func guestExec(p lab.Place, argv []string, stdout, stderr io.Writer) (int, error) {
	lv, err := guestClient(p)
	if err != nil {
		return exitFailure, err
	}
	defer lv.Disconnect()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := virt.AgentExec(ctx, lv, p.Guest, argv)
	if err != nil {
		return exitFailure, err
	}
	io.WriteString(stdout, res.Stdout)
	io.WriteString(stderr, res.Stderr)
	var sig int
	if _, err := fmt.Sscanf(res.Signal, "signal %d", &sig); err == nil {
		return 128 + sig, nil
	}
	return res.Status, nil
}

// guestTap returns the host device of guest p's NIC dev: dev itself when
// it is one of the guest's taps, else the tap whose MAC the guest gives
// its device dev (asked through its agent).
func guestTap(p lab.Place, dev string) (string, error) {
	lv, err := guestClient(p)
	if err != nil {
		return "", err
	}
	defer lv.Disconnect()
	devs, err := virt.ReadGuestDevices(lv, p.Guest)
	if err != nil {
		return "", err
	}
	var taps []string
	for mac, tap := range devs.Taps {
		if tap == dev {
			return tap, nil
		}
		taps = append(taps, tap+" ("+mac+")")
	}
	sort.Strings(taps)
	res, err := virt.AgentExec(context.Background(), lv, p.Guest, []string{"cat", "/sys/class/net/" + dev + "/address"})
	if err != nil {
		return "", err
	}
	if tap, ok := devs.Taps[strings.ToLower(strings.TrimSpace(res.Stdout))]; ok && res.Status == 0 {
		return tap, nil
	}
	return "", fmt.Errorf("%s has no NIC %q on its host: the guest says %q; its taps are %s",
		p.Name, dev, strings.TrimSpace(res.Stdout+res.Stderr), strings.Join(taps, ", "))
}
