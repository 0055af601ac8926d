package virt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/libvirttest"
	"github.com/ovnrun/ovnrun/interp"
)

// syncBuffer collects the driver's log from concurrent lanes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestVMOnOVN boots the guest kit with vm() under QEMU (software
// emulation), plugs it with attach() into br-int of a userspace-datapath
// Open vSwitch bound to OVN, and checks what the seed runbook checks by
// hand: the NIC is in OVS with the port's MAC and iface-id, the guest takes
// its address from OVN's DHCP, and it answers ping from another port of the
// logical switch. Then: a second run changes nothing, destroy removes the
// domain and its disk, and a new run fetches and uploads nothing again.
func TestVMOnOVN(t *testing.T) {
	libvirttest.Require(t, "ovsdb-server", "ovs-vswitchd", "ovn-controller", "ovn-northd", "busybox")
	kit := libvirttest.GuestKit(t)
	central := daemons.StartCentral(t)
	l := newLab(t, "qemu:///system", libvirttest.WithOVS())
	var log syncBuffer
	l.cfg.Log = &log
	l.h.AddBridge(t, "br-int")
	l.h.StartOVNController(t, central.SB.Sock, "hv0")
	nbctl := func(args ...string) string {
		t.Helper()
		out, err := central.NBCtl(args...)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	const mac = "02:ac:10:ff:01:94"
	nbctl("ls-add", "ls1", "--", "set", "Logical_Switch", "ls1", "other_config:subnet=172.16.1.0/24",
		"other_config:exclude_ips=172.16.1.250..172.16.1.254")
	dhcp := nbctl("create", "DHCP_Options", "cidr=172.16.1.0/24",
		`options={server_id="172.16.1.254", server_mac="00:00:00:00:01:00", lease_time="3600", router="172.16.1.254"}`)
	nbctl("lsp-add", "ls1", "g0-eth0", "--", "lsp-set-addresses", "g0-eth0", mac+" dynamic",
		"--", "lsp-set-dhcpv4-options", "g0-eth0", dhcp)
	nbctl("lsp-add", "ls1", "probe", "--", "lsp-set-addresses", "probe", "02:00:00:00:00:fe 172.16.1.250")
	probe := l.h.AddPort(t, "br-int", "probe", "02:00:00:00:00:fe", "172.16.1.250/24", "probe")

	// The disk image comes over HTTP (on loopback), the kernel is uploaded
	// from this machine, the initrd is a path on the host.
	imgDir := t.TempDir()
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", filepath.Join(imgDir, "small.qcow2"), "16M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v: %s", err, out)
	}
	var fetches atomic.Int32
	files := http.FileServer(http.Dir(imgDir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	vmSrc := fmt.Sprintf(`g0 = vm("g0", host = h0, image = %q, kernel = "file://%s", initrd = %q, cmdline = %q, memory_mib = 128)`,
		srv.URL+"/small.qcow2", kit.Kernel, kit.Initrd, kit.Cmdline)
	nicSrc := vmSrc + "\n" + `attach(g0, "g0-eth0", mac = "` + mac + `", dev = "tap-g0")`

	t0 := time.Now()
	cs, err := run(t, l.driver(t), evaluate(t, vmSrc))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("define + start (QEMU, %s): %s", cs[0].Note, time.Since(t0).Round(time.Millisecond))
	t1 := time.Now()
	if err := libvirttest.WaitFor(60*time.Second, func() error {
		if !strings.Contains(l.h.ConsoleLog("g0"), "ovnrun-guest: up") {
			return errors.New("the guest has not booted")
		}
		return nil
	}); err != nil {
		t.Fatalf("%v; console:\n%s", err, l.h.ConsoleLog("g0"))
	}
	t.Logf("boot: %s", time.Since(t1).Round(time.Millisecond))

	t2 := time.Now()
	cs, err = run(t, l.driver(t), evaluate(t, nicSrc))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("attach + iface-id: %s", time.Since(t2).Round(time.Millisecond))
	if got := ops(cs); got != "unchanged vm/h0/g0; create vm_nic/h0/tap-g0" {
		t.Errorf("attach run: %s", got)
	}
	ns, err := l.driver(t).host("h0").findNIC(context.Background(), evaluate(t, nicSrc).Steps[0].Actions[1].(*Interface))
	if err != nil || !ns.inLive || !ns.inConf || ns.ifaceID != "g0-eth0" {
		t.Errorf("NIC live %v, persistent %v, iface-id %q, %v", ns.inLive, ns.inConf, ns.ifaceID, err)
	}
	ids, err := l.h.VSCtl("get", "Interface", "tap-g0", "external_ids")
	if err != nil || !strings.Contains(ids, `attached-mac="`+mac+`"`) || !strings.Contains(ids, `iface-id=g0-eth0`) {
		t.Errorf("OVS Interface tap-g0 external_ids = %s, %v", ids, err)
	}

	// OVN binds the port and answers the guest's DHCP.
	var ip string
	if err := libvirttest.WaitFor(30*time.Second, func() error {
		f := strings.Fields(strings.Trim(nbctl("get", "Logical_Switch_Port", "g0-eth0", "dynamic_addresses"), `"`))
		if len(f) < 2 {
			return errors.New("no dynamic address yet")
		}
		ip = f[1]
		if !strings.Contains(l.h.ConsoleLog("g0"), "ovnrun-guest: eth0 "+ip+"/24") {
			return fmt.Errorf("the guest has no lease of %s yet", ip)
		}
		return nil
	}); err != nil {
		t.Fatalf("DHCP: %v; console:\n%s", err, l.h.ConsoleLog("g0"))
	}
	t.Logf("DHCP (from attach): %s, address %s", time.Since(t2).Round(time.Millisecond), ip)
	if up := nbctl("get", "Logical_Switch_Port", "g0-eth0", "up"); up != "true" {
		t.Errorf("g0-eth0 up = %s", up)
	}
	if err := libvirttest.WaitFor(10*time.Second, func() error { return probe.Ping(ip) }); err != nil {
		t.Errorf("ping %s from the probe port: %v", ip, err)
	}
	// Commands in the guest, through its guest agent (GuestExec): the
	// check driver's pings from VMs.
	t4 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := l.driver(t).GuestExec(ctx, "h0", "g0", []string{"ping", "-c", "2", "-i", "0.2", "-W", "1", "172.16.1.250"})
	if err != nil || r.Status != 0 || !strings.Contains(r.Stdout, "2 packets received") {
		t.Errorf("ping from the guest: %+v, %v", r, err)
	}
	t.Logf("ping from the guest through its agent: %s", time.Since(t4).Round(time.Millisecond))
	r, err = l.driver(t).GuestExec(ctx, "h0", "g0", []string{"sh", "-c", `printf '%s|' "$@"; echo oops >&2; exit 3`, "sh", "a b", "", "x\ty"})
	if err != nil || r.Status != 3 || r.Stdout != "a b||x\ty|" || r.Stderr != "oops\n" {
		t.Errorf("arguments through the agent: %+v, %v", r, err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelShort()
	if r, err = l.driver(t).GuestExec(short, "h0", "g0", []string{"sleep", "10"}); err != nil || r.Status == 0 {
		t.Errorf("a command that outlives its bound: %+v, %v", r, err)
	}
	if r, err = l.driver(t).GuestExec(ctx, "h0", "g0", []string{"true"}); err != nil || r.Status != 0 {
		t.Errorf("after a command that timed out: %+v, %v", r, err)
	}
	if _, err := l.driver(t).GuestExec(ctx, "h0", "nope", []string{"true"}); err == nil || !strings.Contains(err.Error(), "no domain nope") {
		t.Errorf("command in a VM that does not exist: %v", err)
	}
	if !strings.Contains(log.String(), "commands in VM g0 run through its QEMU guest agent") {
		t.Errorf("the kit's guest was not reached through its agent:\n%s", log.String())
	}
	// Without the agent (the kit's is stopped for good), commands go
	// through ovnrun's channel.
	if r, err := l.driver(t).GuestExec(ctx, "h0", "g0", []string{"sh", "-c",
		"touch /run/no-agent; (sleep 1; kill $(pidof qemu-ga)) >/dev/null 2>&1 </dev/null &"}); err != nil || r.Status != 0 {
		t.Fatalf("stopping the guest agent: %+v, %v", r, err)
	}
	if err := libvirttest.WaitFor(10*time.Second, func() error {
		g, err := l.driver(t).host("h0").guestChannels(ctx, "g0")
		if err == nil && g.agentState == "connected" {
			err = errors.New("the agent's channel is still open")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r, err = l.driver(t).GuestExec(ctx, "h0", "g0", []string{"sh", "-c", `printf '%s|' "$@"`, "sh", "a b", ""})
	if err != nil || r.Status != 0 || r.Stdout != "a b||" || !strings.Contains(log.String(), "commands in VM g0 run through ovnrun's channel") {
		t.Errorf("without the agent: %+v, %v\n%s", r, err, log.String())
	}

	// Converged: a second run changes nothing.
	if cs, err := run(t, l.driver(t), evaluate(t, nicSrc)); err != nil || ops(cs) != "unchanged vm/h0/g0; unchanged vm_nic/h0/tap-g0" {
		t.Errorf("second run: %s, %v", ops(cs), err)
	}
	// A NIC that only the persistent definition holds (detached from the
	// running guest alone), then only the running guest: attached where it
	// is missing, never a second time where it is.
	nic := evaluate(t, nicSrc).Steps[0].Actions[1].(*Interface)
	for _, where := range []libvirt.DomainDeviceModifyFlags{libvirt.DomainDeviceModifyLive, libvirt.DomainDeviceModifyConfig} {
		h := l.driver(t).host("h0")
		ns, err := h.findNIC(context.Background(), nic)
		if err != nil || ns.byMAC == nil {
			t.Fatalf("the NIC before detaching it: %+v, %v", ns, err)
		}
		doc, err := ns.byMAC.XML.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := h.do(context.Background(), func(lv *libvirt.Libvirt) error {
			return lv.DomainDetachDeviceFlags(ns.ds.dom, doc, uint32(where))
		}); err != nil {
			t.Fatal(err)
		}
		if where == libvirt.DomainDeviceModifyLive {
			if err := libvirttest.WaitFor(20*time.Second, func() error {
				if ns, err := h.findNIC(context.Background(), nic); err != nil || ns.inLive {
					return fmt.Errorf("the guest still has the NIC (%v)", err)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		cs, err := run(t, l.driver(t), evaluate(t, nicSrc))
		if err != nil || ops(cs) != "unchanged vm/h0/g0; update vm_nic/h0/tap-g0" {
			t.Fatalf("NIC detached (flags %d): %s %+v, %v", where, ops(cs), cs, err)
		}
		for _, flags := range []libvirt.DomainXMLFlags{0, libvirt.DomainXMLInactive} {
			var doc string
			h.do(context.Background(), func(lv *libvirt.Libvirt) error {
				doc, err = lv.DomainGetXMLDesc(ns.ds.dom, flags)
				return err
			})
			if n := strings.Count(strings.ToLower(doc), "'"+mac+"'"); err != nil || n != 1 {
				t.Errorf("after attaching the NIC detached with flags %d, the domain XML (flags %d) has %d NICs of MAC %s, want 1 (%v)", where, flags, n, mac, err)
			}
		}
		if cs, err := run(t, l.driver(t), evaluate(t, nicSrc)); err != nil || ops(cs) != "unchanged vm/h0/g0; unchanged vm_nic/h0/tap-g0" {
			t.Errorf("run after re-attaching: %s, %v", ops(cs), err)
		}
	}

	// Another dev for the same MAC: the NIC is detached (the guest releases
	// it) and attached anew.
	moved := strings.Replace(nicSrc, `dev = "tap-g0"`, `dev = "tap-g0b"`, 1)
	t3 := time.Now()
	cs, err = run(t, l.driver(t), evaluate(t, moved))
	if err != nil || ops(cs) != "unchanged vm/h0/g0; update vm_nic/h0/tap-g0b" || cs[1].Diffs[0].Key != "dev" {
		t.Fatalf("moved NIC: %s %+v, %v", ops(cs), cs, err)
	}
	t.Logf("detach + attach: %s", time.Since(t3).Round(time.Millisecond))
	if ids, err := l.h.VSCtl("get", "Interface", "tap-g0b", "external_ids:iface-id"); err != nil || strings.TrimSpace(ids) != "g0-eth0" {
		t.Errorf("tap-g0b iface-id = %s, %v", ids, err)
	}
	if out, _ := l.h.VSCtl("--columns=name", "find", "Interface", "name=tap-g0"); strings.TrimSpace(out) != "" {
		t.Errorf("Interface tap-g0 is left in OVS: %s", out)
	}
	nicSrc = moved

	// A NIC for a bridge that does not exist is refused, naming its line.
	quick := func(c *Config) { c.BridgeWait = 200 * time.Millisecond }
	_, err = run(t, l.driver(t, quick), evaluate(t, nicSrc+"\n"+`attach(g0, "x", mac = "02:00:00:00:00:09", dev = "tap-x", bridge = "br-nope")`))
	var mb *MissingBridgeError
	if !errors.As(err, &mb) || !strings.Contains(err.Error(), "vm_nic h0/tap-x (lab.star:4:7): bridge br-nope does not exist") {
		t.Errorf("missing bridge: %v", err)
	}

	destroy := func() {
		t.Helper()
		d := l.driver(t)
		var actions []interp.Action
		for _, s := range evaluate(t, nicSrc).Steps {
			actions = append(actions, s.Actions...)
		}
		dcs, err := d.PlanDestroy(context.Background(), actions)
		if err != nil {
			t.Fatal(err)
		}
		if got := ops(dcs); got != "delete vm_nic/h0/tap-g0b; delete vm/h0/g0" {
			t.Errorf("destroy plan: %s", got)
		}
		err = engine.ApplyChanges(context.Background(), map[string]interp.Driver{DriverName: d},
			[]interp.StepChanges{{Step: &interp.Step{Name: "destroy"}, Changes: dcs}}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
	}
	destroy()
	if got := l.domains(t, "qemu:///system"); len(got) != 0 {
		t.Errorf("domains after destroy: %v", got)
	}
	if _, err := os.Stat(filepath.Join(l.h.ImageDir, "ovnrun-g0.qcow2")); !os.IsNotExist(err) {
		t.Errorf("the VM's disk is left: %v", err)
	}
	if out, _ := l.h.VSCtl("--columns=name", "find", "Interface", "name=tap-g0b"); strings.TrimSpace(out) != "" {
		t.Errorf("Interface tap-g0b is left in OVS: %s", out)
	}

	// The images stay: defining the VM again fetches and uploads nothing.
	if _, err := run(t, l.driver(t), evaluate(t, vmSrc)); err != nil {
		t.Fatal(err)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("the image was fetched %d times, want once", n)
	}
	if n := strings.Count(log.String(), "uploaded "); n != 1 {
		t.Errorf("the kernel was uploaded %d times, want once; log:\n%s", n, log.String())
	}
	destroyVM := func() {
		d := l.driver(t)
		dcs, err := d.PlanDestroy(context.Background(), nil)
		if err == nil {
			err = engine.ApplyChanges(context.Background(), map[string]interp.Driver{DriverName: d},
				[]interp.StepChanges{{Step: &interp.Step{Name: "destroy"}, Changes: dcs}}, io.Discard)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	destroyVM()
}
