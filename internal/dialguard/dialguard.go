// Package dialguard keeps test runs of ovnrun from reaching real networks.
//
// The machines ovnrun is developed and tested on sit beside real labs whose
// addresses the runbooks name (the seed's 177.1.1.x). A test that forgot an
// --nb or an --inventory would make ovnrun dial them. So, in any test binary
// and whenever OVNRUN_DIAL_GUARD=1 is set (scripts/test.sh sets it), a TCP
// connection from this machine's root network namespace is allowed to
// loopback addresses only. Connections made inside other namespaces (the
// emulated lab's control namespace, test namespaces) and unix sockets are
// not affected: nothing there routes anywhere but to namespaces a test made.
//
// It imports the standard library only.
package dialguard

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// Env is the environment variable that turns the guard on outside tests.
const Env = "OVNRUN_DIAL_GUARD"

// On reports whether the guard is on.
func On() bool { return os.Getenv(Env) == "1" || testing.Testing() }

// Check returns an error when the guard is on and a connection to address
// (host:port, for network tcp, tcp4 or tcp6) would leave this machine from
// its root network namespace.
func Check(network, address string) error {
	if !strings.HasPrefix(network, "tcp") || !On() {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil && ip.IsLoopback() {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if !mayLeave() {
		return nil
	}
	return fmt.Errorf("refusing to connect to %s: %s is set (or this is a test), and from this machine's own network namespace only loopback may be reached; use unix sockets, loopback or an emulated lab (--lab)", address, Env)
}

// mayLeave reports whether packets from this process's network namespace
// may leave the machine: it is the machine's own (PID 1's) namespace, or it
// has a default route. The first test needs /proc/1, which a process in
// another namespace cannot always read; the second catches those cases.
func mayLeave() bool {
	self, err1 := os.Readlink("/proc/self/ns/net")
	root, err2 := os.Readlink("/proc/1/ns/net")
	if err1 == nil && err2 == nil && self == root {
		return true
	}
	return hasDefaultRoute()
}

// hasDefaultRoute reads the namespace's IPv4 and IPv6 routing tables for a
// default route. Unreadable tables count as having one.
func hasDefaultRoute() bool {
	v4, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(v4), "\n")[1:] {
		// Iface Destination Gateway Flags ... Mask: destination and mask 0.
		f := strings.Fields(line)
		if len(f) > 7 && f[1] == "00000000" && f[7] == "00000000" {
			return true
		}
	}
	v6, err := os.ReadFile("/proc/net/ipv6_route")
	if err != nil {
		return false // no IPv6 in this namespace
	}
	for _, line := range strings.Split(string(v6), "\n") {
		// Destination, its prefix length, ..., device: ::/0 not on lo.
		f := strings.Fields(line)
		if len(f) == 10 && f[0] == strings.Repeat("0", 32) && f[1] == "00" && f[9] != "lo" {
			return true
		}
	}
	return false
}
