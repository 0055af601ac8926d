package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// The testdata/trace files are real outputs, captured in the emulated lab
// (ovnrun --lab) with runbooks/dgp.star and runbooks/dgp-dnat.star: `ovn-trace
// --summary` of one packet each, and the southbound bindings (sbQuery).
const h0Chassis = "dfe51fb0-0c76-437c-ad95-709b98998b4f"

func labHost(chassis string) string {
	return map[string]string{"h1": "h1", h0Chassis: "h0"}[chassis]
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "trace", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLocateCapturedTraces(t *testing.T) {
	for _, tc := range []struct {
		trace, sb, port string
		verdict         string
		lines           []string
		exits           []Output
	}{
		{"dgp-vm-outside.summary", "dgp-sb.json", "h1_v0_vnet2",
			"redirected through cr-lr1-ls3 to the gateway chassis h0",
			[]string{
				"on h1, where h1_v0_vnet2 is bound: ls2 -> lr1 ingress (to cr-lr1-ls3)",
				"on h0, gateway chassis of cr-lr1-ls3, through a tunnel: lr1 egress -> ls3 -> out ls3-localnet (localnet)",
			}, []Output{{"ls3-localnet", "localnet"}}},
		{"dgp-no-mac-binding.summary", "dgp-sb.json", "h1_v0_vnet2",
			"redirected through cr-lr1-ls3 to the gateway chassis h0 (the next hop has no MAC binding yet: the path is that of the ARP request the packet triggers)",
			[]string{
				"on h1, where h1_v0_vnet2 is bound: ls2 -> lr1 ingress (ARP request, to cr-lr1-ls3)",
				"on h0, gateway chassis of cr-lr1-ls3, through a tunnel: lr1 egress -> ls3 -> out ls3-localnet (localnet)",
			}, []Output{{"ls3-localnet", "localnet"}}},
		// The same path as if the VM were on h0, the gateway chassis itself:
		// redirected, but no tunnel.
		{"dgp-vm-outside.summary", "dgp-sb.json", "h0_v0_vnet1",
			"redirected through cr-lr1-ls3 to the gateway chassis h0, which is also where the packet entered",
			[]string{"on h0, where h0_v0_vnet1 is bound: ls2 -> lr1 (to cr-lr1-ls3) -> ls3 -> out ls3-localnet (localnet)"},
			[]Output{{"ls3-localnet", "localnet"}}},
		{"dgp-tcp.summary", "dgp-sb.json", "h1_v0_vnet2",
			"redirected through cr-lr1-ls3 to the gateway chassis h0", nil, []Output{{"ls3-localnet", "localnet"}}},
		{"dgp-eastwest.summary", "dgp-sb.json", "h0_v0_vnet1",
			"handled on h0, then h1",
			[]string{
				"on h0, where h0_v0_vnet1 is bound: ls1 -> lr1 -> ls2 ingress",
				"on h1, where h1_v0_vnet2 is bound, through a tunnel: ls2 egress -> out h1_v0_vnet2",
			}, []Output{{"h1_v0_vnet2", ""}}},
		{"dgp-no-route.summary", "dgp-sb.json", "h1_v0_vnet2",
			"dropped in lr1 ingress; handled entirely on h1",
			[]string{"on h1, where h1_v0_vnet2 is bound: ls2 -> lr1 ingress (dropped)"}, nil},
		{"dnat-vm-outside.summary", "dnat-sb.json", "h1_v0_eth0",
			"handled entirely on h1",
			[]string{"on h1, where h1_v0_eth0 is bound: ls2 -> lr1 (snat 172.16.3.100) -> ls3 -> out ls3-localnet (localnet)"},
			[]Output{{"ls3-localnet", "localnet"}}},
		{"dnat-no-mac-binding.summary", "dnat-sb.json", "h1_v0_eth0",
			"handled entirely on h1 (the next hop has no MAC binding yet: the path is that of the ARP request the packet triggers)",
			[]string{"on h1, where h1_v0_eth0 is bound: ls2 -> lr1 (ARP request) -> ls3 -> out ls3-localnet (localnet)"},
			[]Output{{"ls3-localnet", "localnet"}}},
		{"dnat-v1-outside.summary", "dnat-sb.json", "h1_v1_eth0",
			"redirected through cr-lr1-ls3 to the gateway chassis h0",
			[]string{
				"on h1, where h1_v1_eth0 is bound: ls2 -> lr1 ingress (to cr-lr1-ls3)",
				"on h0, gateway chassis of cr-lr1-ls3, through a tunnel: lr1 egress (snat 172.16.3.254) -> ls3 -> out ls3-localnet (localnet)",
			}, []Output{{"ls3-localnet", "localnet"}}},
	} {
		t.Run(tc.trace+"/"+tc.port, func(t *testing.T) {
			sb, err := ParseSouthbound(readTestdata(t, tc.sb))
			if err != nil {
				t.Fatal(err)
			}
			root, err := ParseTraceSummary(readTestdata(t, tc.trace))
			if err != nil {
				t.Fatal(err)
			}
			path := Locate(root, sb, tc.port)
			if got := path.Verdict(labHost); got != tc.verdict {
				t.Errorf("verdict (-want +got):\n- %s\n+ %s", tc.verdict, got)
			}
			if got := path.Lines(labHost); tc.lines != nil && !slices.Equal(got, tc.lines) {
				t.Errorf("lines (-want +got):\n- %s\n+ %s", strings.Join(tc.lines, "\n- "), strings.Join(got, "\n+ "))
			}
			if !slices.Equal(path.Exits, tc.exits) {
				t.Errorf("exits = %v, want %v", path.Exits, tc.exits)
			}
		})
	}
}

func TestParseTraceSummaryNAT(t *testing.T) {
	root, err := ParseTraceSummary(readTestdata(t, "dnat-vm-outside.summary"))
	if err != nil {
		t.Fatal(err)
	}
	var nat []string
	root.walk(func(p *Pipeline) {
		for _, n := range p.NAT {
			nat = append(nat, p.Datapath+" "+p.Stage+": "+n)
		}
	})
	if want := []string{"lr1 egress: snat 172.16.3.100"}; !slices.Equal(nat, want) {
		t.Errorf("NAT = %q, want %q", nat, want)
	}
}

// TestParseTraceSummaryRefuses: each refusal names the line of the output
// where the parser stopped.
func TestParseTraceSummaryRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ out, want string }{
		"empty":      {"", "ovn-trace output line 1: the output ends with no pipeline: \"\""},
		"error text": {"ovn-trace: syntax error at `@' expecting field name.\n", "ovn-trace output line 1: the output ends with no pipeline: \"ovn-trace: syntax error"},
		"unbalanced": {"ingress(dp=\"ls2\", inport=\"p\") {\n    next;\n};\n};\n", "ovn-trace output line 4: unbalanced }"},
		"unclosed":   {"# x\ningress(dp=\"ls2\", inport=\"p\") {\n    next;\n  ct_next {\n", "ovn-trace output line 4: the output ends inside 2 open block(s), the outermost from line 2"},
		"two roots":  {"ingress(dp=\"a\", inport=\"p\") {\n};\ningress(dp=\"b\", inport=\"q\") {\n};\n", "ovn-trace output line 3: a second top-level pipeline"},
		"too deep":   {strings.Repeat("ingress(dp=\"a\") {\n", maxTraceDepth+1), fmt.Sprintf("ovn-trace output line %d: blocks nested more than %d deep", maxTraceDepth+1, maxTraceDepth)},
	} {
		if _, err := ParseTraceSummary(tc.out); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %s", name, err, tc.want)
		}
	}
}

// TestParseTablesRefuses: each refusal names the line of the database's
// output where reading stopped.
func TestParseTablesRefuses(t *testing.T) {
	const chassis = `{"data":[[["uuid","0f2c"],"h1"]],"headings":["_uuid","name"]}` + "\n"
	for name, tc := range map[string]struct{ out, want string }{
		"one table":   {chassis, "reading the database's JSON, line 2: ovn-sbctl printed 1 tables"},
		"torn":        {chassis + chassis[:30], "reading the database's JSON, line 2: unexpected EOF"},
		"syntax":      {chassis + "\n" + `{"data":[[1,]]}`, "reading the database's JSON, line 3: invalid character ']'"},
		"type":        {chassis + "\n\n" + `{"data":[],"headings":[1]}`, "reading the database's JSON, line 4: json: cannot unmarshal number into Go struct field .headings"},
		"short row":   {chassis + `{"data":[["x"]],"headings":["a","b"]}`, "reading the database's JSON, line 2: table 2 row 1 has 1 values for 2 columns"},
		"bad value":   {chassis + `{"data":[["x",["set",[["map",1]]]]],"headings":["a","b"]}`, "reading the database's JSON, line 2: table 2 row 1 column b: json: cannot unmarshal number"},
		"NUL":         {chassis + "\x00", "reading the database's JSON, line 2: invalid character '\\x00'"},
		"huge number": {chassis + `{"data":[[1e999,"x"]],"headings":["a","b"]}`, "reading the database's JSON, line 2: table 2 row 1 column a: json: cannot unmarshal number 1e999"},
	} {
		if _, err := ParseSouthbound(tc.out); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err = %v\nwant %s", name, err, tc.want)
		}
	}
}

func TestParseSouthbound(t *testing.T) {
	sb, err := ParseSouthbound(readTestdata(t, "dnat-sb.json"))
	if err != nil {
		t.Fatal(err)
	}
	for port, want := range map[string]string{"h1_v0_eth0": "h1", "cr-lr1-ls3": h0Chassis, "lr1-ls3": "", "ls3-localnet": ""} {
		if got := sb.ChassisOf(port); got != want {
			t.Errorf("chassis of %s = %q, want %q", port, got, want)
		}
	}
	dgp := sb.Ports["lr1-ls3"]
	if dgp.Options["chassis-redirect-port"] != "cr-lr1-ls3" || dgp.Type != "patch" || !slices.Equal(dgp.MACs, []string{"00:00:00:00:03:00 172.16.3.254/24"}) {
		t.Errorf("lr1-ls3 = %+v", dgp)
	}
	if _, err := ParseSouthbound(`{"data":[],"headings":[]}`); err == nil {
		t.Error("one table: no error")
	}
	if _, err := ParseSouthbound(`{"data":[["x"]],"headings":["a","b"]}{"data":[],"headings":[]}`); err == nil {
		t.Error("short row: no error")
	}
	dyn, err := ParseDynamicAddresses(readTestdata(t, "dnat-nb.json"))
	if err != nil || dyn["h1_v1_eth0"] != "02:ac:10:ff:03:02 172.16.2.2" || len(dyn) != 1 {
		t.Errorf("dynamic addresses = %v, %v", dyn, err)
	}
}

func TestNextHopMAC(t *testing.T) {
	sb, err := ParseSouthbound(readTestdata(t, "dgp-sb.json"))
	if err != nil {
		t.Fatal(err)
	}
	ip := func(s string) interp.IP { return mustIP(t, s) }
	for _, tc := range []struct {
		port, src, dst, dstMAC, want string
	}{
		{"h1_v0_vnet2", "172.16.2.2", "172.16.3.253", "", "00:00:00:00:02:00"},
		{"h0_v0_vnet1", "172.16.1.2", "172.16.2.2", "02:ac:10:ff:01:95", "00:00:00:00:01:00"},
		{"h1_v0_vnet2", "172.16.2.2", "172.16.2.3", "02:ac:10:ff:01:97", "02:ac:10:ff:01:97"},
		{"h1_v0_vnet2", "172.16.2.2", "172.16.2.99", "", "ff:ff:ff:ff:ff:ff"},
	} {
		got, err := sb.NextHopMAC(tc.port, ip(tc.src).Addr, ip(tc.dst).Addr, tc.dstMAC)
		if err != nil || got != tc.want {
			t.Errorf("NextHopMAC(%s, %s -> %s) = %q, %v; want %q", tc.port, tc.src, tc.dst, got, err, tc.want)
		}
	}
	if _, err := sb.NextHopMAC("nope", ip("172.16.2.2").Addr, ip("172.16.3.253").Addr, ""); err == nil ||
		!strings.Contains(err.Error(), "not in the southbound database") {
		t.Errorf("unknown port: err = %v", err)
	}
	dnat, err := ParseSouthbound(readTestdata(t, "dnat-sb.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := dnat.MACOf("h1_v1_eth0", ip("172.16.2.10").Addr); got != "02:ac:10:ff:03:01" {
		t.Errorf("MACOf(172.16.2.10) = %q", got)
	}
}

func TestMicroflow(t *testing.T) {
	tr := &Trace{Port: "h1_v0_vnet2", MAC: mustMAC(t, "02:ac:10:ff:01:95"), Protocol: "icmp"}
	src, dst := mustIP(t, "172.16.2.2").Addr, mustIP(t, "172.16.3.253").Addr
	head := `inport == "h1_v0_vnet2" && eth.src == 02:ac:10:ff:01:95 && eth.dst == 00:00:00:00:02:00 && ip4.src == 172.16.2.2 && ip4.dst == 172.16.3.253 && ip.ttl == 64 && `
	for proto, want := range map[string]string{
		"icmp": "icmp4.type == 8 && icmp4.code == 0",
		"tcp":  "tcp.src == 49152 && tcp.dst == 8080 && tcp.flags == 0x002",
		"udp":  "udp.src == 49152 && udp.dst == 8080",
	} {
		tr.Protocol, tr.DstPort = proto, 8080
		if got := Microflow(tr, "00:00:00:00:02:00", src, dst); got != head+want {
			t.Errorf("%s microflow:\n got %s\nwant %s", proto, got, head+want)
		}
	}
}

// sbRunner answers a trace's commands with captured outputs.
type sbRunner struct {
	mu      sync.Mutex
	sb, nb  string
	trace   string
	systems map[string]string // host -> system-id
	argvs   [][]string
}

func (r *sbRunner) Run(_ context.Context, host string, cmd remote.Command) (*remote.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.argvs = append(r.argvs, append([]string{host}, cmd.Argv...))
	switch cmd.Argv[0] {
	case "ovn-sbctl":
		return &remote.Result{Stdout: r.sb}, nil
	case "ovn-nbctl":
		if cmd.Argv[len(cmd.Argv)-1] == "sync" {
			return &remote.Result{}, nil
		}
		return &remote.Result{Stdout: r.nb}, nil
	case "ovn-trace":
		return &remote.Result{Stdout: r.trace}, nil
	case "ovs-vsctl":
		if id, ok := r.systems[host]; ok {
			return &remote.Result{Stdout: `"` + id + `"` + "\n"}, nil
		}
		return &remote.Result{Status: 1, Stderr: "ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed"}, nil
	}
	return &remote.Result{Status: 127, Stderr: cmd.Argv[0] + ": not found"}, nil
}

func dgpTrace(t *testing.T, ip any, handledOn []string) *Trace {
	tr := &Trace{Src: "h1/v0", Port: "h1_v0_vnet2", MAC: mustMAC(t, "02:ac:10:ff:01:95"), IP: ip,
		Dst: mustIP(t, "172.16.3.253"), Protocol: "icmp", HandledOn: handledOn,
		Chassis: map[string]any{"h0": h0Chassis, "h1": interp.NewFuture("host/h1", "system_id"), "outside": interp.NewFuture("host/outside", "system_id")}}
	tr.M = interp.Meta{ID: "trace/h1/v0->172.16.3.253", Kind: "trace", Name: "h1/v0 -> 172.16.3.253",
		Mode: interp.Command, Driver: "check", Host: "h0"}
	return tr
}

func TestTraceCheck(t *testing.T) {
	dynamic := interp.NewFuture("logical_switch_port/h1_v0_vnet2", "dynamic_addresses.ipv4")
	for _, tc := range []struct {
		name      string
		trace     string
		handledOn []string
		want      string
		fails     bool
	}{
		{"redirected", "dgp-vm-outside.summary", []string{"h1", "h0"},
			"trace h1/v0 -> 172.16.3.253: run (", false},
		{"summary in the progress line", "dgp-vm-outside.summary", nil,
			": redirected through cr-lr1-ls3 to the gateway chassis h0\n      on h1, where h1_v0_vnet2 is bound: ls2 -> lr1 ingress (to cr-lr1-ls3)\n      on h0, gateway chassis", false},
		{"not where expected", "dgp-vm-outside.summary", []string{"h1"},
			"handled on h1, h0, expected h1: redirected through cr-lr1-ls3", true},
		{"dropped", "dgp-no-route.summary", nil, "dropped in lr1 ingress; handled entirely on h1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &sbRunner{sb: readTestdata(t, "dgp-sb.json"), trace: readTestdata(t, tc.trace), systems: map[string]string{"h1": "h1"}}
			out, err := apply(t, NewDriver(r, nil), dgpTrace(t, dynamic, tc.handledOn))
			got := out
			if err != nil {
				got = err.Error()
			}
			if (err != nil) != tc.fails || !strings.Contains(got, tc.want) {
				t.Errorf("got error %v, output:\n%s\nwant %q", err, out, tc.want)
			}
		})
	}
}

// TestRunTraceOutsideApply is `ovnrun trace`: no engine resolves futures, so
// the dynamic address comes from the NB and h1's chassis name from its OVS.
func TestRunTraceOutsideApply(t *testing.T) {
	r := &sbRunner{sb: readTestdata(t, "dgp-sb.json"), trace: readTestdata(t, "dgp-vm-outside.summary"),
		nb:      `{"data":[["h1_v0_vnet2","02:ac:10:ff:01:95 172.16.2.2 2001:db8:2:0:ac:10ff:feff:195"]],"headings":["name","dynamic_addresses"]}`,
		systems: map[string]string{"h1": "h1"}}
	tr := dgpTrace(t, interp.NewFuture("logical_switch_port/h1_v0_vnet2", "dynamic_addresses.ipv4"), nil)
	res, err := NewDriver(r, nil).RunTrace(context.Background(), tr, true)
	if err != nil {
		t.Fatal(err)
	}
	want := `inport == "h1_v0_vnet2" && eth.src == 02:ac:10:ff:01:95 && eth.dst == 00:00:00:00:02:00 && ip4.src == 172.16.2.2 && ip4.dst == 172.16.3.253 && ip.ttl == 64 && icmp4.type == 8 && icmp4.code == 0`
	if res.Microflow != want {
		t.Errorf("microflow:\n got %s\nwant %s", res.Microflow, want)
	}
	if got := res.Path.Hosts(res.HostOf); !slices.Equal(got, []string{"h1", "h0"}) {
		t.Errorf("hosts = %v", got)
	}
	var ran []string
	for _, a := range r.argvs {
		ran = append(ran, a[0]+":"+a[1]+" "+a[len(a)-1])
	}
	wantRan := []string{"h0:ovn-nbctl sync", "h0:ovn-sbctl Port_Binding", "h0:ovn-nbctl Logical_Switch_Port", "h0:ovn-trace " + want,
		"h1:ovs-vsctl external_ids:system-id", "h0:ovn-trace " + want}
	if !slices.Equal(ran, wantRan) {
		t.Errorf("commands:\n got %q\nwant %q", ran, wantRan)
	}
	if last := r.argvs[len(r.argvs)-1]; res.Detailed == "" || !slices.Contains(last, "--detailed") {
		t.Errorf("no --detailed run: %q", r.argvs[len(r.argvs)-1])
	}
}

func mustMAC(t *testing.T, s string) interp.MAC {
	m, err := interp.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
