package convert

import (
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/shellrec"
)

// The command -> builtin mapping on records made by hand (the recorder run
// itself is tested with real bash in TestConvertSeed and internal/shellrec).
func TestMapping(t *testing.T) {
	rec := func(line int, argv ...string) shellrec.Record {
		return shellrec.Record{Script: "node.sh", Line: line, Argv: argv}
	}
	xml := `<interface type='bridge'><target dev='vm1_eth0'/><mac address='02:00:00:00:00:01'/>` +
		`<source bridge='br-ex'/><virtualport type='openvswitch'/></interface>`
	attachRec := rec(9, "virsh", "attach-device", "vm1", "nic.xml", "--live")
	attachRec.Files = map[string]string{"nic.xml": xml}
	for _, tc := range []struct {
		name string
		recs []shellrec.Record
		want []string
	}{
		{"services", []shellrec.Record{rec(1, "systemctl", "start", "openvswitch"), rec(2, "service", "ovn-northd", "restart"),
			rec(3, "systemctl", "start", "openvswitch.service"), rec(4, "systemctl", "enable", "ovn-controller")},
			[]string{`service(h0, "openvswitch")`, `service(h0, "ovn-northd", state = "restarted")`,
				`# node.sh:3: systemctl start openvswitch.service again, declared before`,
				`# TODO: check: node.sh:4 (h0): only start, restart and stop map to service()`, `# sh(h0, "systemctl enable ovn-controller")`}},
		{"external ids", []shellrec.Record{rec(1, "ovs-vsctl", "set", "open", ".", "external_ids:ovn-encap-ip=10.0.0.5"),
			rec(2, "ovs-vsctl", "--no-wait", "set", "Open_vSwitch", ".", `external-ids:ovn-remote="tcp:10.0.0.5:6642"`, "external-ids:ovn-bridge-mappings=phys:br-ex"),
			rec(3, "ovs-vsctl", "set", "open", ".", "external_ids:ovn-encap-ip=10.0.0.6")},
			[]string{`ovs_external_ids(h0, {"ovn-encap-ip": h0_address, "ovn-remote": "tcp:%s:6642" % h0_address})`,
				`bridge_mappings(h0, {"phys": "br-ex"})`,
				`# TODO: check: node.sh:3 (h0): external_ids:ovn-encap-ip=10.0.0.6 is set a second time`}},
		{"attach folds the iface-id", []shellrec.Record{rec(1, "virt-install", "--name", "vm1", "--vcpus=2", "--memory", "512", "--disk", "path=/img/vm1.qcow2"),
			attachRec, rec(10, "ovs-vsctl", "set", "Interface", "vm1_eth0", "external_ids:iface-id=lsp1"),
			rec(11, "ovs-vsctl", "set", "Interface", "other", "external_ids:iface-id=lsp2")},
			[]string{`vms["h0/vm1"] = vm("vm1", host = h0, image = "/img/vm1.qcow2", vcpus = 2, memory_mib = 512)`,
				`attach(vms["h0/vm1"], "lsp1", dev = "vm1_eth0", bridge = "br-ex", mac = "02:00:00:00:00:01")`,
				`# TODO: check: node.sh:11 (h0): an iface-id for an interface no virsh attach-device plugs`}},
		{"routes and the rest", []shellrec.Record{rec(1, "ip", "route", "add", "10.1.0.0/16", "via", "192.0.2.1", "dev", "eth1"),
			rec(2, "ip", "addr", "add", "192.0.2.5/24", "dev", "eth1"), rec(3, "ip", "link", "set", "eth1", "up"),
			rec(4, "ssh", "root@h1", "reboot now"), rec(5, "ovn-nbctl", "--db=tcp:1.2.3.4:6641", "set-connection", "ptcp:6641", "pssl:6643")},
			[]string{`ip_route(h0, "10.1.0.0/16", "192.0.2.1", dev = "eth1")`, `ip_address(h0, "192.0.2.5/24", dev = "eth1")`,
				`# TODO: check: node.sh:3 (h0): this ip command has no builtin`, `# sh(h0, "ip link set eth1 up")`,
				`# sh(h0, "ssh root@h1 'reboot now'")`, `nb_connection(h0, ["ptcp:6641", "pssl:6643"])`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMapper([]shellrec.Result{{Script: shellrec.Script{Path: "node.sh", Host: "h0"}, Records: tc.recs}}, Facts{Central: "h0"})
			got := m.prelude()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %s:\n%s", w, got)
				}
			}
		})
	}
}
