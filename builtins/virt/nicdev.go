package virt

// NICDev returns the NIC's device on its host, which the NIC driver makes
// (lab.VMNIC): the emulated lab must not make it, even when a bridge names it.
func (i *Interface) NICDev() string { return i.Dev }
