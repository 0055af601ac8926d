package nbimport

import (
	"fmt"
	"slices"
	"strings"
)

// The ACL family: address_set(), port_group(), meter(), acl(), qos().

func (w *writer) addressSets() {
	for _, a := range w.rows("Address_Set") {
		c := newCall("address_set", quote(str(a, "name"))).set("addresses", listLit(strs(a, "addresses")))
		w.line("%s", c.set("external_ids", externalIDs(a)))
		w.done[a.UUID] = true
	}
	w.blank()
}

func (w *writer) portGroups() {
	for _, g := range w.rows("Port_Group") {
		var ports []string
		for _, u := range refs(g, "ports") {
			if p := w.row("Logical_Switch_Port", u); p != nil {
				ports = append(ports, str(p, "name"))
			}
		}
		slices.Sort(ports)
		v := w.ident(str(g, "name"))
		c := newCall("port_group", quote(str(g, "name"))).set("ports", listLit(ports))
		w.line("%s = %s", v, c.set("external_ids", externalIDs(g)))
		w.vars[g.UUID], w.done[g.UUID] = v, true
	}
	w.blank()
}

func (w *writer) meters() {
	for _, m := range w.rows("Meter") {
		var bands []string
		for _, u := range refs(m, "bands") {
			if b := w.row("Meter_Band", u); b != nil {
				burst, _ := num(b, "burst_size")
				rate, _ := num(b, "rate")
				bands = append(bands, fmt.Sprintf(`{"action": %s, "rate": %d, "burst_size": %d}`, quote(str(b, "action")), rate, burst))
				w.done[u] = true
			}
		}
		slices.Sort(bands)
		c := newCall("meter", quote(str(m, "name")), quote(str(m, "unit"))).set("bands", "["+strings.Join(bands, ", ")+"]")
		if f, set := boolean(m, "fair"); set && f {
			c.set("fair", "True")
		}
		w.line("%s", c.set("external_ids", externalIDs(m)))
		w.done[m.UUID] = true
	}
	w.blank()
}

// acls writes the ACLs of each switch, then of each port group.
func (w *writer) acls() {
	for _, on := range []string{"Logical_Switch", "Port_Group"} {
		for _, p := range w.sortedByName(on) {
			on := w.vars[p.UUID]
			if on == "" {
				continue
			}
			for _, a := range w.children(p, "acls", "ACL", "tier", "direction", "priority", "match") {
				w.line("%s", w.aclCall(on, a))
			}
		}
	}
	w.blank()
}

func (w *writer) aclCall(on string, a *row) *call {
	c := newCall("acl", on, quote(str(a, "direction")), intLitOf(a, "priority"), quote(str(a, "match")), quote(str(a, "action")))
	l, _ := boolean(a, "log")
	logging := str(a, "name") != "" || str(a, "severity") != "" || str(a, "meter") != ""
	if l {
		c.set("log", "True")
	} else if logging {
		// name=, severity= and meter= imply logging unless log=False says not.
		c.set("log", "False")
	}
	c.set("name", strLit(str(a, "name"))).set("severity", strLit(str(a, "severity"))).set("meter", strLit(str(a, "meter")))
	if n, _ := num(a, "label"); n != 0 {
		c.set("label", intLit(n))
	}
	if n, _ := num(a, "tier"); n != 0 {
		c.set("tier", intLit(n))
	}
	return c.set("options", dictLit(smap(a, "options"))).set("external_ids", externalIDs(a))
}

func (w *writer) qosRules() {
	for _, s := range w.sortedByName("Logical_Switch") {
		sv := w.vars[s.UUID]
		if sv == "" {
			continue
		}
		for _, q := range w.children(s, "qos_rules", "QoS", "direction", "priority", "match") {
			c := newCall("qos", sv, quote(str(q, "direction")), intLitOf(q, "priority"), quote(str(q, "match")))
			bw, act := intMap(q, "bandwidth"), intMap(q, "action")
			for _, k := range []string{"rate", "burst"} {
				if n, ok := bw[k]; ok {
					c.set(k, intLit(n))
				}
			}
			if n, ok := act["dscp"]; ok {
				c.set("dscp", intLit(n))
			}
			w.line("%s", c.set("external_ids", externalIDs(q)))
		}
	}
	w.blank()
}

// sortedByName lists every row of table (imported or not) by name.
func (w *writer) sortedByName(table string) []*row {
	var out []*row
	for _, r := range w.st.Tables[table] {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *row) int { return strings.Compare(str(a, "name"), str(b, "name")) })
	return out
}

func intMap(r *row, c string) map[string]int {
	m, _ := r.Cols[c].(map[string]int)
	return m
}
