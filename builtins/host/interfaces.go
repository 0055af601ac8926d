package host

import "slices"

// The host actions that name physical interfaces say which
// (lab.InterfaceUser): the emulated lab plugs those into its outside segment.
// A bridge says it makes its own device (lab.DeviceMaker).

// HostInterfaces returns the bridge's ports.
func (b *OVSBridge) HostInterfaces() []string { return slices.Clone(b.Ports) }

// HostDevices returns the bridge, whose internal port an address or a route
// may name (lab.DeviceMaker): it is no physical interface.
func (b *OVSBridge) HostDevices() []string { return []string{b.Bridge} }

// HostInterfaces returns the route's device, if any.
func (r *Route) HostInterfaces() []string { return devs(r.Dev) }

// HostInterfaces returns the address's device.
func (a *IPAddress) HostInterfaces() []string { return devs(a.Dev) }

func devs(dev string) []string {
	if dev == "" {
		return nil
	}
	return []string{dev}
}
