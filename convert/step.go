package convert

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/ovnrun/ovnrun/internal/shellrec"
)

// body collects one step function's lines.
type body struct{ lines []string }

func (b *body) add(format string, args ...any) {
	b.lines = append(b.lines, "    "+fmt.Sprintf(format, args...))
}

// todo writes a TODO line naming where the command came from, and the
// command as a commented sh() when it has no builtin.
func (b *body) todo(r *shellrec.Record, h *hostInfo, why string) {
	b.add("# TODO: check: %s (%s): %s", r.Where(), h.name, why)
}

func (b *body) commentedSh(r *shellrec.Record, h *hostInfo, why string) {
	b.todo(r, h, why)
	b.add("# sh(%s, %s)", h.ident, strconv.Quote(shellQuote(r.Argv)))
}

var plainArg = regexp.MustCompile(`^[A-Za-z0-9_./:=,@%+-]+$`)

// shellQuote writes argv as a shell command line.
func shellQuote(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if plainArg.MatchString(a) {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

var stepNameRE = regexp.MustCompile(`[^a-z0-9_]+`)

// step writes one script's records as a step function on its host.
func (m *mapper) step(out *strings.Builder, run *shellrec.Result) {
	h := m.byName[run.Script.Host]
	base := strings.TrimSuffix(filepath.Base(run.Script.Path), filepath.Ext(run.Script.Path))
	name := strings.Trim(stepNameRE.ReplaceAllString(strings.ToLower(base), "_"), "_") + "_" + h.ident
	var b body
	for i := range run.Records {
		m.record(&b, &run.Records[i], h)
	}
	fmt.Fprintf(out, "\n# %s, run on %s.\ndef %s():\n", filepath.Base(run.Script.Path), h.name, name)
	if len(b.lines) == 0 {
		out.WriteString("    pass\n")
	}
	for _, l := range b.lines {
		out.WriteString(l + "\n")
	}
	fmt.Fprintf(out, "\nstep(%q, %s)\n", name, name)
}

// libvirtUnits are what vm() needs running but ovnrun does not manage.
var libvirtUnits = regexp.MustCompile(`^(libvirtd|virtlogd|virtqemud|virtlockd)(\.service|\.socket)?$`)

// record maps one recorded command.
func (m *mapper) record(b *body, r *shellrec.Record, h *hostInfo) {
	switch r.Argv[0] {
	case "ovn-nbctl":
		m.nbctl(b, r, h)
	case "ovn-sbctl":
		if len(r.Argv) >= 3 && r.Argv[1] == "set-connection" {
			b.add("sb_connection(%s, %s)", h.ident, targets(r.Argv[2:]))
			return
		}
		b.commentedSh(r, h, "ovn-sbctl has no builtin")
	case "systemctl", "service":
		m.service(b, r, h)
	case "ovs-vsctl":
		m.vsctl(b, r, h)
	case "virsh":
		m.virsh(b, r, h)
	case "virt-install":
		m.virtInstall(b, r, h)
	case "wget":
		if m.usedWget[r] {
			return
		}
		b.commentedSh(r, h, "a download that no virt-install uses")
	case "ip":
		if prefix, via, dev, ok := ipRoute(r.Argv[1:]); ok {
			if lrp, ok := m.facts.RouterIPs[via]; ok {
				b.todo(r, h, fmt.Sprintf("%s is the address of router port %s: this route leads into the OVN network, so it is for a host outside it (the seed's \"outside system\"); declare that host and move the route there", via, lrp))
			}
			call := fmt.Sprintf("ip_route(%s, %q, %q", h.ident, prefix, via)
			if dev != "" {
				call += fmt.Sprintf(", dev = %q", dev)
			}
			b.add("%s)", call)
			return
		}
		if addr, dev, ok := ipAddr(r.Argv[1:]); ok {
			b.add("ip_address(%s, %q, dev = %q)", h.ident, addr, dev)
			return
		}
		b.commentedSh(r, h, "this ip command has no builtin")
	default:
		b.commentedSh(r, h, r.Argv[0]+" has no builtin")
	}
}

// targets is a connection target or a list of them.
func targets(args []string) string {
	if len(args) == 1 {
		return strconv.Quote(args[0])
	}
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// nbctl: the private NB ran every ovn-nbctl command but set-connection,
// which is the server's setting, not the NB's contents.
func (m *mapper) nbctl(b *body, r *shellrec.Record, h *hostInfo) {
	for i, a := range r.Argv {
		if a != "set-connection" {
			continue
		}
		t := r.Argv[i+1:]
		if len(t) == 0 {
			break
		}
		b.add("nb_connection(%s, %s)", h.ident, targets(t))
		if port, ok := strings.CutPrefix(t[0], "ptcp:"); ok && m.nb == "" {
			port, _, _ = strings.Cut(port, ":")
			m.nb = fmt.Sprintf("ovn_nb(%s)", m.strExpr("tcp:"+h.addressOr()+":"+port))
		}
		return
	}
}

func (m *mapper) service(b *body, r *shellrec.Record, h *hostInfo) {
	units, state, ok := serviceVerb(r.Argv)
	if !ok {
		b.commentedSh(r, h, "only start, restart and stop map to service()")
		return
	}
	for _, u := range units {
		call := fmt.Sprintf("service(%s, %q", h.ident, strings.TrimSuffix(u, ".service"))
		if state != "started" {
			call += fmt.Sprintf(", state = %q", state)
		}
		call += ")"
		if libvirtUnits.MatchString(u) {
			b.todo(r, h, "vm() needs libvirt running on the host; ovnrun does not manage libvirt's own units")
			b.add("# %s", call)
			continue
		}
		key := h.name + "/" + strings.TrimSuffix(u, ".service") + "/" + state
		if m.services[key] {
			b.add("# %s: %s again, declared before", r.Where(), shellQuote(r.Argv))
			continue
		}
		m.services[key] = true
		b.add("%s", call)
	}
}

func (m *mapper) vsctl(b *body, r *shellrec.Record, h *hostInfo) {
	if m.folded[r] {
		return
	}
	for _, c := range vsctlCommands(r.Argv[1:]) {
		switch {
		case len(c) >= 2 && c[0] == "add-br":
			ports := m.bridges[h.name+"/"+c[1]]
			q := make([]string, len(ports))
			for i, p := range ports {
				q[i] = strconv.Quote(p)
			}
			if len(ports) > 0 {
				b.add("bridge(%s, %q, ports = [%s])", h.ident, c[1], strings.Join(q, ", "))
			} else {
				b.add("bridge(%s, %q)", h.ident, c[1])
			}
		case len(c) == 3 && c[0] == "add-port":
			// Declared with its bridge.
		default:
			if ids, ok := openVSwitchIDs(c); ok {
				m.externalIDs(b, r, h, ids)
				continue
			}
			if _, _, ok := ifaceID(c); ok {
				b.commentedSh(r, h, "an iface-id for an interface no virsh attach-device plugs")
				continue
			}
			why := "this ovs-vsctl command has no builtin"
			if c[0] == "get" || c[0] == "list" || c[0] == "find" {
				why = "a read; the script got made-up output (\"\") here"
			}
			b.commentedSh(r, h, why)
			return
		}
	}
}

// externalIDs writes ovs_external_ids() for the keys of one command, and
// bridge_mappings() for ovn-bridge-mappings.
func (m *mapper) externalIDs(b *body, r *shellrec.Record, h *hostInfo, ids [][2]string) {
	var entries, mappings []string
	for _, kv := range ids {
		k, v := kv[0], kv[1]
		if m.idKeys[h.name+"/"+k] {
			b.todo(r, h, fmt.Sprintf("external_ids:%s=%s is set a second time; ovs_external_ids() sets a key once", k, v))
			continue
		}
		m.idKeys[h.name+"/"+k] = true
		if k == "ovn-bridge-mappings" {
			var maps []string
			for _, pair := range strings.Split(v, ",") {
				network, br, _ := strings.Cut(pair, ":")
				maps = append(maps, fmt.Sprintf("%q: %q", network, br))
			}
			mappings = append(mappings, fmt.Sprintf("bridge_mappings(%s, {%s})", h.ident, strings.Join(maps, ", ")))
			continue
		}
		if k == "system-id" {
			entries = append(entries, fmt.Sprintf("%q: %s.system_id", k, h.ident))
			continue
		}
		entries = append(entries, fmt.Sprintf("%q: %s", k, m.strExpr(v)))
		// ovn-controller must take the chassis name the NB uses.
		if k == "ovn-remote" && h.guessed != "" && !m.idKeys[h.name+"/system-id"] {
			m.idKeys[h.name+"/system-id"] = true
			entries = append(entries, fmt.Sprintf("%q: %s.system_id", "system-id", h.ident))
		}
	}
	// Keys set one command after another go in one call, as a person
	// would write them.
	prefix := fmt.Sprintf("    ovs_external_ids(%s, {", h.ident)
	if n := len(b.lines); len(entries) > 0 && n > 0 && strings.HasPrefix(b.lines[n-1], prefix) {
		b.lines[n-1] = strings.TrimSuffix(b.lines[n-1], "})") + ", " + strings.Join(entries, ", ") + "})"
	} else if len(entries) > 0 {
		b.add("ovs_external_ids(%s, {%s})", h.ident, strings.Join(entries, ", "))
	}
	for _, l := range mappings {
		b.add("%s", l)
	}
}

func (m *mapper) virsh(b *body, r *shellrec.Record, h *hostInfo) {
	x, ok := m.attachXML(r)
	if !ok {
		b.commentedSh(r, h, "this virsh command has no builtin")
		return
	}
	vm := m.vmRef(b, r, h, r.Argv[2])
	call := fmt.Sprintf("attach(%s", vm)
	id, bound := m.ifaceIDs[h.name+"/"+x.Target.Dev]
	if bound {
		m.foldIfaceID(h.name, x.Target.Dev)
	} else {
		b.add("# No script binds %s to a logical port (iface-id): its name stands in.", x.Target.Dev)
		id = x.Target.Dev
	}
	call += fmt.Sprintf(", %q", id)
	if x.Target.Dev != id {
		call += fmt.Sprintf(", dev = %q", x.Target.Dev)
	}
	if x.Source.Bridge != "br-int" {
		call += fmt.Sprintf(", bridge = %q", x.Source.Bridge)
	}
	if x.MAC.Address == "" {
		b.todo(r, h, "the interface XML has no MAC; attach() of an iface-id needs mac=")
	} else {
		call += ", mac = " + m.macExpr(x.MAC.Address)
	}
	b.add("%s)", call)
}

// foldIfaceID marks the ovs-vsctl records that set dev's iface-id as
// written by attach().
func (m *mapper) foldIfaceID(host, dev string) {
	for ri := range m.runs {
		for i := range m.runs[ri].Records {
			r := &m.runs[ri].Records[i]
			if r.Host != host || r.Argv[0] != "ovs-vsctl" {
				continue
			}
			if cmds := vsctlCommands(r.Argv[1:]); len(cmds) == 1 {
				if d, _, ok := ifaceID(cmds[0]); ok && d == dev {
					m.folded[r] = true
				}
			}
		}
	}
}

// vmRef is the expression of VM name on h, declaring it first (with a
// TODO) when no virt-install of the scripts installs it.
func (m *mapper) vmRef(b *body, r *shellrec.Record, h *hostInfo, name string) string {
	key := h.name + "/" + name
	if !m.vms[key] && !m.declared[key] {
		like := m.vmLike[h.name]
		if like.name == "" {
			like = m.vmLike[""]
		}
		if like.name != "" {
			b.todo(r, h, fmt.Sprintf("no script installs VM %s on %s; declared here like %s of %s", name, h.name, like.name, like.where))
		} else {
			like.args = ", disk_gib = 10"
			b.todo(r, h, fmt.Sprintf("no script installs VM %s on %s; declared here with a blank disk: give its image", name, h.name))
		}
		b.add("vms[%q] = vm(%q, host = %s%s)", key, name, h.ident, like.args)
		m.declared[key] = true
	}
	return fmt.Sprintf("vms[%q]", key)
}

func (m *mapper) virtInstall(b *body, r *shellrec.Record, h *hostInfo) {
	name, args := m.vmArgs(r)
	if name == "" {
		b.commentedSh(r, h, "virt-install without --name")
		return
	}
	key := h.name + "/" + name
	if n := flags(r.Argv[1:])["network"]; n != "" {
		b.todo(r, h, fmt.Sprintf("virt-install's --network %s is not declared: vm() makes no NIC; attach() plugs NICs into OVS", n))
	}
	if m.declared[key] {
		b.todo(r, h, fmt.Sprintf("VM %s is installed on %s a second time; declared once", name, h.name))
		return
	}
	m.declared[key] = true
	b.add("vms[%q] = vm(%q, host = %s%s)", key, name, h.ident, args)
}

// vmArgs returns the VM name of a virt-install command line and vm()'s
// arguments after host=.
func (m *mapper) vmArgs(r *shellrec.Record) (name, args string) {
	f := flags(r.Argv[1:])
	if disk := subOptions(f["disk"])["path"]; disk != "" {
		if url, ok := m.images[r.Host+"/"+disk]; ok {
			args += fmt.Sprintf(", image = %q", url)
		} else {
			args += fmt.Sprintf(", image = %q", disk)
		}
	}
	if v, err := strconv.Atoi(f["vcpus"]); err == nil {
		args += fmt.Sprintf(", vcpus = %d", v)
	}
	mem := f["memory"]
	if mem == "" {
		mem = f["ram"]
	}
	if v, err := strconv.Atoi(mem); err == nil {
		args += fmt.Sprintf(", memory_mib = %d", v)
	}
	if v := f["os-variant"]; v != "" {
		args += fmt.Sprintf(", os_variant = %q", v)
	}
	return f["name"], args
}
