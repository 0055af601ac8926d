package main

import (
	"fmt"

	"github.com/ovnrun/ovnrun/cmd/nbfloor/nbmodel"
)

// Ownership tags as ovnrun writes them (builtins/ovn TagRunbook, TagAction;
// the action IDs are KIND/NAME). Written here by hand so that the floor's
// transaction carries the same rows as ovnrun's.
const (
	tagRunbook = "ovnrun:runbook"
	tagAction  = "ovnrun:action"
)

// workload is the bench's rows, built in memory: the runbook of
// cmd/nbbench/workload.go as ovnrun would write it. A switch's Ports hold
// its ports' names, not UUIDs.
type workload struct {
	switches []nbmodel.LogicalSwitch
	ports    []nbmodel.LogicalSwitchPort
	owner    string
}

func newWorkload(switches, ports int, owner string) *workload {
	w := &workload{owner: owner}
	for i := range switches {
		sw := nbmodel.LogicalSwitch{
			Name:        fmt.Sprintf("ls%d", i),
			OtherConfig: map[string]string{"subnet": fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)},
		}
		sw.ExternalIDs = tags(owner, "logical_switch", sw.Name)
		for j := range ports {
			p := nbmodel.LogicalSwitchPort{
				Name:      fmt.Sprintf("%s-p%d", sw.Name, j),
				Addresses: []string{fmt.Sprintf("0a:00:%02x:%02x:%02x:%02x dynamic", i/65536, i/256%256, i%256, j)},
			}
			p.ExternalIDs = tags(owner, "logical_switch_port", p.Name)
			sw.Ports = append(sw.Ports, p.Name)
			w.ports = append(w.ports, p)
		}
		w.switches = append(w.switches, sw)
	}
	return w
}

func tags(owner, kind, name string) map[string]string {
	return map[string]string{tagRunbook: owner, tagAction: kind + "/" + name}
}
