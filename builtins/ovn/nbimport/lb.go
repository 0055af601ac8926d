package nbimport

import (
	"slices"
	"strings"
)

// The load balancer family and its neighbours: load_balancer(),
// load_balancer_group(), dns(), mirror().

func (w *writer) loadBalancers() {
	users := func(table, column string) map[string][]string { // lb UUID -> names of imported users
		m := map[string][]string{}
		for _, p := range w.st.Tables[table] {
			if w.vars[p.UUID] == "" {
				continue
			}
			for _, u := range refs(p, column) {
				m[u] = append(m[u], str(p, "name"))
			}
		}
		return m
	}
	lbSwitches, lbRouters := users("Logical_Switch", "load_balancer"), users("Logical_Router", "load_balancer")
	for _, lb := range w.rows("Load_Balancer") {
		c := newCall("load_balancer", quote(str(lb, "name")), dictLit(smap(lb, "vips")))
		if len(smap(lb, "vips")) == 0 {
			c.args[1] = "{}"
		}
		c.set("protocol", strLit(str(lb, "protocol")))
		hc := map[string]map[string]string{}
		for _, u := range refs(lb, "health_check") {
			if h := w.row("Load_Balancer_Health_Check", u); h != nil {
				hc[str(h, "vip")] = smap(h, "options")
				w.done[u] = true
			}
		}
		if len(hc) > 0 {
			var parts []string
			for _, vip := range slices.Sorted(mapsKeys(hc)) {
				o := dictLit(hc[vip])
				if o == "" {
					o = "{}"
				}
				parts = append(parts, quote(vip)+": "+o)
			}
			c.set("health_check", "{"+join(parts)+"}")
		}
		c.set("ip_port_mappings", dictLit(smap(lb, "ip_port_mappings"))).
			set("selection_fields", listLit(strs(lb, "selection_fields"))).set("options", dictLit(smap(lb, "options")))
		c.set("switches", listLit(sorted(lbSwitches[lb.UUID]))).set("routers", listLit(sorted(lbRouters[lb.UUID])))
		v := w.ident(str(lb, "name"))
		w.line("%s = %s", v, c.set("external_ids", externalIDs(lb)))
		w.vars[lb.UUID], w.done[lb.UUID] = v, true
	}
	w.blank()
	gSwitches, gRouters := users("Logical_Switch", "load_balancer_group"), users("Logical_Router", "load_balancer_group")
	for _, g := range w.rows("Load_Balancer_Group") {
		var lbs []string
		for _, u := range refs(g, "load_balancer") {
			if v := w.vars[u]; v != "" {
				lbs = append(lbs, v)
			}
		}
		c := newCall("load_balancer_group", quote(str(g, "name")))
		if len(lbs) > 0 {
			c.set("lbs", "["+join(sorted(lbs))+"]")
		}
		w.line("%s", c.set("switches", listLit(sorted(gSwitches[g.UUID]))).set("routers", listLit(sorted(gRouters[g.UUID]))))
		w.done[g.UUID] = true
	}
	w.blank()
}

func (w *writer) dnsRecords() {
	users := map[string][]string{}
	for _, s := range w.st.Tables["Logical_Switch"] {
		if w.vars[s.UUID] != "" {
			for _, u := range refs(s, "dns_records") {
				users[u] = append(users[u], str(s, "name"))
			}
		}
	}
	for _, d := range w.rows("DNS", "records") {
		c := newCall("dns").set("records", recordsLit(smap(d, "records"))).set("switches", listLit(sorted(users[d.UUID])))
		w.line("%s", c.set("external_ids", externalIDs(d)))
		w.done[d.UUID] = true
	}
	w.blank()
}

func (w *writer) mirrors() {
	users := map[string][]string{}
	for _, p := range w.st.Tables["Logical_Switch_Port"] {
		if w.done[p.UUID] {
			for _, u := range refs(p, "mirror_rules") {
				users[u] = append(users[u], str(p, "name"))
			}
		}
	}
	for _, m := range w.rows("Mirror") {
		c := newCall("mirror", quote(str(m, "name")), quote(str(m, "type")), quote(str(m, "sink"))).
			set("filter", strLit(str(m, "filter")))
		if n, _ := num(m, "index"); n != 0 {
			c.set("index", intLit(n))
		}
		w.line("%s", c.set("ports", listLit(sorted(users[m.UUID]))).set("external_ids", externalIDs(m)))
		w.done[m.UUID] = true
	}
	w.blank()
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// recordsLit writes DNS records: a host with several addresses as a list.
func recordsLit(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(mapsKeys(m)) {
		v := quote(m[k])
		if f := strings.Fields(m[k]); len(f) > 1 {
			v = listLit(f)
		}
		parts = append(parts, quote(k)+": "+v)
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + join(parts) + "}"
}
