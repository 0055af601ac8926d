package convert

import (
	"cmp"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ovnrun/ovnrun/internal/shellrec"
)

// hostInfo is what the scripts say about one host.
type hostInfo struct {
	name, ident string // host name, Starlark variable
	address     string // its ovn-encap-ip, when a script sets one
	systemID    string // its system-id: set by a script, or a chassis name the NB uses
	guessed     string // why systemID was assumed, for a TODO line
}

// vmTemplate is how a script installs a VM, for VMs only attached to.
type vmTemplate struct{ name, where, args string }

// mapper turns recorded commands into Starlark, in two passes: scan
// learns what later commands need (addresses, iface-ids, images, MACs),
// then each script's records become the body of one step.
type mapper struct {
	runs    []shellrec.Result
	facts   Facts
	hosts   []*hostInfo
	byName  map[string]*hostInfo
	chassis map[string]string // chassis name -> host variable, for nbimport

	ifaceIDs map[string]string         // host/dev -> iface-id the scripts set
	folded   map[*shellrec.Record]bool // set-interface records folded into attach()
	images   map[string]string         // host/path -> URL wget fetched it from
	wgets    map[string]*shellrec.Record
	usedWget map[*shellrec.Record]bool
	bridges  map[string][]string // host/bridge -> ports added
	macKey   map[string]string   // MAC -> key of NIC_MACS, for MACs several scripts repeat
	macOrder []string

	vms      map[string]bool       // host/name installed by virt-install
	vmLike   map[string]vmTemplate // host ("" any host) -> the first VM it installs, for VMs no script installs
	declared map[string]bool       // host/name declared so far in the output
	services map[string]bool       // host/unit/state declared
	idKeys   map[string]bool       // host/key set by ovs_external_ids
	nb       string                // the ovn_nb() line
}

func newMapper(runs []shellrec.Result, facts Facts) *mapper {
	m := &mapper{runs: runs, facts: facts, byName: map[string]*hostInfo{}, chassis: map[string]string{},
		ifaceIDs: map[string]string{}, folded: map[*shellrec.Record]bool{}, images: map[string]string{},
		wgets: map[string]*shellrec.Record{}, usedWget: map[*shellrec.Record]bool{}, bridges: map[string][]string{},
		macKey: map[string]string{}, vmLike: map[string]vmTemplate{}, vms: map[string]bool{}, declared: map[string]bool{}, services: map[string]bool{},
		idKeys: map[string]bool{}}
	for i := range m.runs {
		if m.runs[i].Script.Host == "" {
			m.runs[i].Script.Host = facts.Central
		}
		for j := range m.runs[i].Records {
			m.runs[i].Records[j].Host = m.runs[i].Script.Host
		}
		m.host(m.runs[i].Script.Host)
	}
	m.scan()
	m.mapChassis()
	return m
}

var identRE = regexp.MustCompile(`[^A-Za-z0-9_]`)

func (m *mapper) host(name string) *hostInfo {
	if h := m.byName[name]; h != nil {
		return h
	}
	ident := identRE.ReplaceAllString(name, "_")
	if ident == "" || (ident[0] >= '0' && ident[0] <= '9') || slices.Contains(reservedNames, ident) {
		ident = "host_" + ident
	}
	h := &hostInfo{name: name, ident: ident}
	m.hosts = append(m.hosts, h)
	m.byName[name] = h
	return h
}

// reservedNames are builtins and step functions a host variable must not shadow.
var reservedNames = []string{"host", "vm", "vms", "attach", "service", "bridge", "step", "var", "sh", "ls", "lr",
	"lsp", "lrp", "dhcp", "ping", "exec", "trace", "topology", "NIC_MACS"}

var macRE = regexp.MustCompile(`(?i)\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b`)

// scan is the first pass.
func (m *mapper) scan() {
	macScripts := map[string]map[string]bool{}
	for ri := range m.runs {
		for i := range m.runs[ri].Records {
			r := &m.runs[ri].Records[i]
			h := m.byName[r.Host]
			texts := slices.Clone(r.Argv)
			for _, f := range r.Files {
				texts = append(texts, f)
			}
			for _, t := range texts {
				for _, mac := range macRE.FindAllString(t, -1) {
					mac = strings.ToLower(mac)
					if macScripts[mac] == nil {
						macScripts[mac] = map[string]bool{}
						m.macOrder = append(m.macOrder, mac)
					}
					macScripts[mac][r.Script] = true
				}
			}
			switch r.Argv[0] {
			case "ovs-vsctl":
				for _, c := range vsctlCommands(r.Argv[1:]) {
					if ids, ok := openVSwitchIDs(c); ok {
						for _, kv := range ids {
							switch kv[0] {
							// The first value is the one the script sets; a
							// second becomes a TODO.
							case "ovn-encap-ip":
								h.address = cmp.Or(h.address, kv[1])
							case "system-id":
								h.systemID = cmp.Or(h.systemID, kv[1])
							}
						}
					}
					if dev, id, ok := ifaceID(c); ok && len(vsctlCommands(r.Argv[1:])) == 1 {
						m.ifaceIDs[r.Host+"/"+dev] = id
					}
					if len(c) == 3 && c[0] == "add-port" {
						key := r.Host + "/" + c[1]
						m.bridges[key] = append(m.bridges[key], c[2])
					}
				}
			case "wget":
				if url, file, ok := wgetTarget(r.Argv[1:]); ok {
					m.images[r.Host+"/"+file] = url
					m.wgets[r.Host+"/"+file] = r
				}
			case "virt-install":
				f := flags(r.Argv[1:])
				if f["name"] != "" {
					m.vms[r.Host+"/"+f["name"]] = true
				}
				// The download is the VM's image: vm(image=URL) fetches it.
				if w := m.wgets[r.Host+"/"+subOptions(f["disk"])["path"]]; w != nil {
					m.usedWget[w] = true
				}
				if name, args := m.vmArgs(r); name != "" {
					for _, k := range []string{r.Host, ""} {
						if m.vmLike[k].name == "" {
							m.vmLike[k] = vmTemplate{name: name, where: r.Where(), args: args}
						}
					}
				}
			case "virsh":
				if x, ok := m.attachXML(r); ok && x.MAC.Address != "" {
					if _, ok := m.macKey[strings.ToLower(x.MAC.Address)]; !ok {
						m.macKey[strings.ToLower(x.MAC.Address)] = x.Target.Dev
					}
				}
			}
		}
	}
	// Only MACs that several scripts repeat go in the table.
	n := 0
	for _, mac := range m.macOrder {
		if len(macScripts[mac]) < 2 {
			delete(m.macKey, mac)
			continue
		}
		if _, ok := m.macKey[mac]; !ok {
			n++
			m.macKey[mac] = fmt.Sprintf("mac%d", n)
		}
	}
}

// attachXML returns the interface of `virsh attach-device DOMAIN FILE`.
func (m *mapper) attachXML(r *shellrec.Record) (interfaceXML, bool) {
	if len(r.Argv) < 4 || r.Argv[1] != "attach-device" {
		return interfaceXML{}, false
	}
	text, ok := r.Files[r.Argv[3]]
	if !ok {
		return interfaceXML{}, false
	}
	return ovsInterface(text)
}

// mapChassis gives each chassis name the NB uses a host: the host whose
// script sets that system-id, else (one name only) the central node, with
// a TODO line, since no script says which machine the chassis is.
func (m *mapper) mapChassis() {
	var unknown []string
	for _, name := range m.facts.Chassis {
		found := false
		for _, h := range m.hosts {
			if h.systemID == name {
				m.chassis[name] = h.ident
				found = true
			}
		}
		if !found {
			unknown = append(unknown, name)
		}
	}
	if c := m.byName[m.facts.Central]; len(unknown) == 1 && c != nil && c.systemID == "" {
		c.systemID = unknown[0]
		c.guessed = fmt.Sprintf("the NB names chassis %s, but no script sets a system-id: taken to be %s, the central node", unknown[0], c.name)
		m.chassis[unknown[0]] = c.ident
	}
}

// prelude writes the hosts, the NIC MAC table and one step per script.
func (m *mapper) prelude() string {
	var b strings.Builder
	b.WriteString("# Hosts: one per --host tag; addresses are the ovn-encap-ip the scripts set.\n")
	for _, h := range m.hosts {
		if h.address != "" {
			fmt.Fprintf(&b, "%s_address = var(%q, %q)\n", h.ident, h.ident+"_address", h.address)
		}
	}
	for _, h := range m.hosts {
		addr := fmt.Sprintf("var(%q, %q)", h.ident+"_address", h.name)
		if h.address != "" {
			addr = h.ident + "_address"
		}
		if h.guessed != "" {
			fmt.Fprintf(&b, "# TODO: check: %s.\n", h.guessed)
		}
		if h.systemID != "" {
			fmt.Fprintf(&b, "%s = host(%q, address = %s, system_id = var(%q, %q))\n", h.ident, h.name, addr, h.ident+"_system_id", h.systemID)
		} else {
			fmt.Fprintf(&b, "%s = host(%q, address = %s)\n", h.ident, h.name, addr)
		}
	}
	var steps strings.Builder
	for ri := range m.runs {
		m.step(&steps, &m.runs[ri])
	}
	b.WriteString("\n")
	if m.nb == "" {
		c := m.byName[m.facts.Central]
		fmt.Fprintf(&b, "# TODO: check: no script sets the NB's connection (ovn-nbctl set-connection); port 6641 assumed.\n")
		m.nb = fmt.Sprintf("ovn_nb(%s)", m.strExpr("tcp:"+c.addressOr()+":6641"))
	}
	b.WriteString(m.nb + "\n")
	if len(m.macKey) > 0 {
		b.WriteString("\n# MACs several scripts repeat: the NICs' and their logical ports'.\nNIC_MACS = {\n")
		for _, mac := range m.macOrder {
			if k, ok := m.macKey[mac]; ok {
				fmt.Fprintf(&b, "    %q: %q,\n", k, mac)
			}
		}
		b.WriteString("}\n")
	}
	b.WriteString("\nvms = {}  # \"host/name\" -> vm\n")
	b.WriteString(steps.String())
	return b.String()
}

func (h *hostInfo) addressOr() string {
	if h.address != "" {
		return h.address
	}
	return h.name
}

// strExpr is s as a Starlark expression, with a host's address written as
// that host's address variable.
func (m *mapper) strExpr(s string) string {
	for _, h := range m.hosts {
		if h.address == "" || !strings.Contains(s, h.address) {
			continue
		}
		if s == h.address {
			return h.ident + "_address"
		}
		f := strings.ReplaceAll(s, "%", "%%")
		return fmt.Sprintf("%q %% %s_address", strings.Replace(f, h.address, "%s", 1), h.ident)
	}
	return strconv.Quote(s)
}

// macExpr is a MAC as a Starlark expression: its NIC_MACS entry if it has one.
func (m *mapper) macExpr(mac string) string {
	if k, ok := m.macKey[strings.ToLower(mac)]; ok {
		return fmt.Sprintf("NIC_MACS[%q]", k)
	}
	return strconv.Quote(mac)
}

// finish puts the header on nbimport's text and writes the shared MACs in
// the topology as NIC_MACS entries.
func (m *mapper) finish(text []byte, scripts []string, now time.Time) []byte {
	s := string(text)
	if _, rest, ok := strings.Cut(s, "\n"); ok && strings.HasPrefix(s, "# Imported") {
		s = rest
	}
	var tagged []string
	for _, r := range m.runs {
		tagged = append(tagged, fmt.Sprintf("%s on %s", filepath.Base(r.Script.Path), r.Script.Host))
	}
	header := fmt.Sprintf("# Converted from shell scripts by ovnrun convert, %s: %s.\n", now.UTC().Format(time.RFC3339), strings.Join(tagged, ", ")) +
		"# Each script is a step on its host; their ovn-nbctl commands built the topology step. Lines marked\n" +
		"# \"TODO: check\" are commands without a builtin, or guesses: read them before applying.\n"
	top := strings.Index(s, "\ndef topology():")
	if top < 0 {
		return []byte(header + s)
	}
	body := s[top:]
	for mac, k := range m.macKey {
		ref := fmt.Sprintf("NIC_MACS[%q]", k)
		body = strings.ReplaceAll(body, strconv.Quote(mac), ref)
		body = strings.ReplaceAll(body, strconv.Quote(mac+" dynamic"), ref+` + " dynamic"`)
	}
	return []byte(header + s[:top] + body)
}
