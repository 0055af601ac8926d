package check

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// The trace driver runs ovn-trace on the central host, over the host
// driver's connection, against the southbound database there. The packet
// is built from the source port's addresses; the southbound port bindings
// say which chassis processes each part of its path.

const (
	// traceCommandTimeout bounds each command a trace runs on the host.
	traceCommandTimeout = 30 * time.Second
	// bindWait is how long a trace waits for the ports it needs to be
	// bound to their chassis: a trace right after the topology is built
	// may come before ovn-controller claims them.
	bindWait = 10 * time.Second
)

// TraceResult is what a trace found.
type TraceResult struct {
	// Src and Dst are the packet's addresses.
	Src, Dst  netip.Addr
	Microflow string
	Path      *Path
	// Detailed is ovn-trace's --detailed output, when asked for.
	Detailed string
	hosts    map[string]string // chassis name -> host name
}

// HostOf names the host of a chassis: its host's name when the runbook's
// hosts include it.
func (r *TraceResult) HostOf(chassis string) string {
	if h, ok := r.hosts[chassis]; ok {
		return h
	}
	if chassis == "" {
		return "no chassis"
	}
	return "chassis " + chassis
}

// Summary is the verdict and one line per chassis.
func (r *TraceResult) Summary() []string {
	return append([]string{r.Path.Verdict(r.HostOf)}, r.Path.Lines(r.HostOf)...)
}

// trace runs t as a check: it fails when the packet is dropped or is
// not processed by the hosts handled_on= names.
func (d *Driver) trace(ctx context.Context, t *Trace) (string, error) {
	settle := time.Duration(t.SettleS) * time.Second
	deadline := time.Now().Add(settle)
	for {
		r, err := d.RunTrace(ctx, t, false)
		if err != nil {
			return "", err
		}
		summary := r.Summary()
		text := strings.Join(summary, "\n      ")
		if len(r.Path.Exits) == 0 {
			return "", fmt.Errorf("%s\n    %s", summary[0], strings.Join(summary[1:], "\n    "))
		}
		hosts := r.Path.Hosts(r.HostOf)
		if t.HandledOn == nil || slices.Equal(hosts, t.HandledOn) {
			return text, nil
		}
		if !time.Now().Before(deadline) {
			waited := ""
			if settle > 0 {
				waited = fmt.Sprintf(" (traced again for %s)", settle)
			}
			return "", fmt.Errorf("handled on %s, expected %s%s: %s\n    %s", strings.Join(hosts, ", "),
				strings.Join(t.HandledOn, ", "), waited, summary[0], strings.Join(summary[1:], "\n    "))
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// RunTrace runs ovn-trace for t on its central host and locates the path
// the packet takes; with detailed it also keeps ovn-trace's --detailed
// output. `ovnrun trace` calls it outside any apply: then the dynamic
// addresses and chassis names that interp.Resolve does not know are read
// from the databases and hosts.
func (d *Driver) RunTrace(ctx context.Context, t *Trace, detailed bool) (*TraceResult, error) {
	central := t.M.Host
	// A trace right after the topology step must see what ovn-northd
	// makes of it: wait for the southbound database to catch up with the
	// northbound, as ovn-nbctl --wait=sb sync does by hand. A central host
	// without the northbound database traces what the southbound has.
	d.output(ctx, central, syncNB...)
	sb, err := d.southbound(ctx, central, t.Port)
	if err != nil {
		return nil, err
	}
	nb := &dynamicAddresses{d: d, central: central}
	src, err := nb.address(ctx, t.IP, t.Port)
	if err != nil {
		return nil, fmt.Errorf("source address: %w", err)
	}
	dst, err := nb.address(ctx, t.Dst, "")
	if err != nil {
		return nil, fmt.Errorf("destination address: %w", err)
	}
	dstMAC := t.DstMAC.String()
	if dstMAC == "" {
		dstMAC = sb.MACOf(t.Port, dst)
	}
	ethDst, err := sb.NextHopMAC(t.Port, src, dst, dstMAC)
	if err != nil {
		return nil, err
	}
	r := &TraceResult{Src: src, Dst: dst, Microflow: Microflow(t, ethDst, src, dst)}
	out, err := d.output(ctx, central, "ovn-trace", "--no-leader-only", "--summary", r.Microflow)
	if err != nil {
		return nil, err
	}
	root, err := ParseTraceSummary(out)
	if err != nil {
		return nil, err
	}
	r.Path = Locate(root, sb, t.Port)
	r.hosts = d.chassisHosts(ctx, t, r.Path)
	if detailed {
		if r.Detailed, err = d.output(ctx, central, "ovn-trace", "--no-leader-only", "--detailed", r.Microflow); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Microflow is the packet ovn-trace follows: an ICMP echo request, TCP SYN
// or UDP datagram from t's port to dst, with eth.dst the next hop's MAC.
func Microflow(t *Trace, ethDst string, src, dst netip.Addr) string {
	parts := []string{
		fmt.Sprintf("inport == %q", t.Port),
		"eth.src == " + t.MAC.String(),
		"eth.dst == " + ethDst,
		"ip4.src == " + src.String(),
		"ip4.dst == " + dst.String(),
		"ip.ttl == 64",
	}
	port := strconv.Itoa(t.DstPort)
	switch t.Protocol {
	case "tcp":
		parts = append(parts, "tcp.src == 49152", "tcp.dst == "+port, "tcp.flags == 0x002")
	case "udp":
		parts = append(parts, "udp.src == 49152", "udp.dst == "+port)
	default:
		parts = append(parts, "icmp4.type == 8", "icmp4.code == 0")
	}
	return strings.Join(parts, " && ")
}

// southbound reads the port bindings, waiting a while for port and the
// chassis-redirect ports to be bound.
func (d *Driver) southbound(ctx context.Context, central, port string) (*Southbound, error) {
	deadline := time.Now().Add(bindWait)
	for {
		out, err := d.output(ctx, central, sbQuery...)
		if err != nil {
			return nil, err
		}
		sb, err := ParseSouthbound(out)
		if err != nil || sb.bound(port) || time.Now().After(deadline) {
			return sb, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// bound reports whether port and every chassis-redirect port are bound.
func (sb *Southbound) bound(port string) bool {
	if sb.Ports[port].Chassis == "" {
		return false
	}
	for _, p := range sb.Ports {
		if p.Type == "chassisredirect" && p.Chassis == "" {
			return false
		}
	}
	return true
}

// dynamicAddresses resolves the addresses of a trace, reading the NB's
// dynamic addresses once when interp.Resolve does not know them.
type dynamicAddresses struct {
	d       *Driver
	central string
	dyn     map[string]string
}

func (n *dynamicAddresses) address(ctx context.Context, v any, port string) (netip.Addr, error) {
	switch v := v.(type) {
	case interp.IP:
		return v.Addr, nil
	case *interp.Future:
		s, err := interp.Resolve(ctx, v)
		var unresolved *interp.UnresolvedError
		if errors.As(err, &unresolved) {
			if port == "" {
				_, port, _ = strings.Cut(v.From, "/")
			}
			s, err = n.read(ctx, port)
		}
		if err != nil {
			return netip.Addr{}, err
		}
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", s)
		}
		return a, nil
	}
	return netip.Addr{}, fmt.Errorf("address of type %T", v)
}

// read returns port's dynamic IPv4 address from the NB.
func (n *dynamicAddresses) read(ctx context.Context, port string) (string, error) {
	if n.dyn == nil {
		out, err := n.d.output(ctx, n.central, nbQuery...)
		if err != nil {
			return "", err
		}
		if n.dyn, err = ParseDynamicAddresses(out); err != nil {
			return "", err
		}
	}
	if a, ok := addressIPv4(n.dyn[port]); ok {
		return a.String(), nil
	}
	return "", fmt.Errorf("logical port %q has no dynamic IPv4 address yet", port)
}

// chassisHosts maps the chassis of path to the runbook's hosts: by the
// chassis names hosts declare, else by those interp.Resolve knows or,
// outside an apply, that the hosts' Open vSwitch reports.
func (d *Driver) chassisHosts(ctx context.Context, t *Trace, path *Path) map[string]string {
	hosts := map[string]string{}
	var unknown []string // hosts whose chassis name is a future
	for _, h := range sortedKeys(t.Chassis) {
		if s, ok := t.Chassis[h].(string); ok {
			hosts[s] = h
		} else {
			unknown = append(unknown, h)
		}
	}
	missing := func() bool {
		for _, s := range path.Segments {
			if _, ok := hosts[s.Chassis]; !ok && s.Chassis != "" {
				return true
			}
		}
		return false
	}
	for _, h := range unknown {
		if !missing() {
			break
		}
		f, ok := t.Chassis[h].(*interp.Future)
		if !ok {
			continue
		}
		name, err := interp.Resolve(ctx, f)
		if err != nil {
			// Hosts without Open vSwitch (an outside host) have no chassis.
			name, _ = d.output(ctx, h, "ovs-vsctl", "--if-exists", "get", "Open_vSwitch", ".", "external_ids:system-id")
			name = strings.Trim(strings.TrimSpace(name), `"`)
		}
		if name != "" {
			hosts[name] = h
		}
	}
	return hosts
}

// output runs argv on host and returns its stdout; a non-zero exit is an
// error carrying stderr.
func (d *Driver) output(ctx context.Context, host string, argv ...string) (string, error) {
	cmd := remote.Argv(argv...).WithTimeout(traceCommandTimeout)
	r, err := d.hosts.Run(ctx, host, cmd)
	if err != nil {
		return "", fmt.Errorf("%s on %s: %w", argv[0], host, err)
	}
	if r.Status != 0 {
		return "", fmt.Errorf("%s on %s: exit status %d: %s", argv[0], host, r.Status, strings.TrimSpace(r.Stderr+"\n"+r.Stdout))
	}
	return r.Stdout, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
