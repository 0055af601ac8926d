package nbimport

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
)

type row = ovsdbmodel.Row

// writer turns one snapshot of the NB into the body of the topology
// function. Family files (switch.go, router.go, ...) hold one writer method
// per builtin; this file holds what they share.
type writer struct {
	st     *ovsdbmodel.ReplicaState
	schema *ovsdb.DatabaseSchema // nil: no row() calls
	opt    Options
	owner  func(table string, cols map[string]any) string
	body   bytes.Buffer

	skippedOwned int
	done         map[string]bool   // rows written (or left out on purpose), by UUID
	vars         map[string]string // Starlark variable of a row, by UUID
	used         map[string]bool   // identifiers taken
	chassisVars  map[string]string // chassis name -> variable declared at the top
	// peerPorts are the switch ports lrp(peer=) declares: switch port
	// UUID -> router port UUID; peerOf is the other way round.
	peerPorts map[string]string
	peerOf    map[string]*row
	switchOf  map[string]*row // switch of a switch port, by the port's UUID
}

func newWriter(st *ovsdbmodel.ReplicaState, schema *ovsdb.DatabaseSchema, opt Options) *writer {
	w := &writer{st: st, schema: schema, opt: opt, owner: ovn.Owners(st), done: map[string]bool{},
		vars: map[string]string{}, used: map[string]bool{}, chassisVars: map[string]string{},
		peerPorts: map[string]string{}, peerOf: map[string]*row{}}
	for _, n := range reserved {
		w.used[n] = true
	}
	for _, v := range opt.Chassis {
		w.used[v] = true
	}
	return w
}

// reserved are names a variable must not shadow: Starlark's keywords and
// the builtins an imported runbook calls.
var reserved = []string{"and", "break", "continue", "def", "elif", "else", "for", "if", "in", "lambda",
	"load", "not", "or", "pass", "return", "while", "None", "True", "False", "topology", "var", "step",
	"acl", "address_set", "bfd", "dhcp", "dns", "gateway_chassis", "ha_chassis_group", "load_balancer",
	"load_balancer_group", "localnet", "lr", "lrp", "ls", "lsp", "meter", "mirror", "nat", "ovn_nb",
	"port_group", "qos", "route", "router_policy", "row", "static_mac_binding", "len", "str", "dict", "list"}

// topology writes every row, family by family, in the order the builtins
// need: a row's arguments are declared before it.
func (w *writer) topology() {
	w.dhcpOptions()
	w.haChassisGroups()
	w.switches()
	w.routers()
	w.addressSets()
	w.portGroups()
	w.meters()
	w.acls()
	w.qosRules()
	w.loadBalancers()
	w.dnsRecords()
	w.mirrors()
	w.others()
}

// rows returns the rows of table sorted by key (a name, or the first
// column given), after leaving out those another runbook owns.
func (w *writer) rows(table string, sortBy ...string) []*row {
	var out []*row
	for _, r := range w.st.Tables[table] {
		if !w.keep(table, r) {
			continue
		}
		out = append(out, r)
	}
	if len(sortBy) == 0 {
		sortBy = []string{"name"}
	}
	sort.Slice(out, func(i, j int) bool {
		for _, c := range sortBy {
			a, b := fmt.Sprint(out[i].Cols[c]), fmt.Sprint(out[j].Cols[c])
			if a != b {
				return a < b
			}
		}
		return out[i].UUID < out[j].UUID
	})
	return out
}

// keep reports whether r is imported; a row another runbook owns is
// counted and marked done, so it is not reported as left over.
func (w *writer) keep(table string, r *row) bool {
	if w.done[r.UUID] {
		return false
	}
	if w.owned(table, r) {
		w.skippedOwned++
		w.done[r.UUID] = true
		return false
	}
	return true
}

// owned reports whether r is left out as another runbook's.
func (w *writer) owned(table string, r *row) bool {
	return !w.opt.IncludeOwned && w.owner(table, r.Cols) != ""
}

// row returns the row of table with uuid, nil when there is none.
func (w *writer) row(table, uuid string) *row { return w.st.Tables[table][uuid] }

// line writes one statement of the topology function.
func (w *writer) line(format string, args ...any) {
	w.body.WriteString("    ")
	fmt.Fprintf(&w.body, format, args...)
	w.body.WriteString("\n")
}

// blank separates groups of statements.
func (w *writer) blank() {
	if w.body.Len() > 0 && !bytes.HasSuffix(w.body.Bytes(), []byte("\n\n")) {
		w.body.WriteString("\n")
	}
}

// ident returns a fresh variable name made of name.
func (w *writer) ident(name string) string {
	var b strings.Builder
	for i, c := range name {
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0:
			b.WriteRune(c)
		case c >= '0' && c <= '9':
			b.WriteString("_" + string(c))
		default:
			b.WriteRune('_')
		}
	}
	base := b.String()
	if base == "" {
		base = "x"
	}
	id := base
	for n := 2; w.used[id]; n++ {
		id = fmt.Sprintf("%s_%d", base, n)
	}
	w.used[id] = true
	return id
}

// chassis returns the expression naming a chassis: the caller's, else a
// variable declared at the top of the runbook.
func (w *writer) chassis(name string) string {
	if e, ok := w.opt.Chassis[name]; ok {
		return e
	}
	if v, ok := w.chassisVars[name]; ok {
		return v
	}
	v := w.ident("chassis_" + name)
	w.chassisVars[name] = v
	return v
}

// call is a builtin call being written: positional arguments, then
// keyword arguments in the order added.
type call struct {
	fn   string
	args []string
	kw   []string
}

func newCall(fn string, args ...string) *call { return &call{fn: fn, args: args} }

// set adds a keyword argument; an empty expression adds nothing.
func (c *call) set(key, expr string) *call {
	if expr != "" {
		c.kw = append(c.kw, key+" = "+expr)
	}
	return c
}

// String writes the call on one line, or one argument a line when long.
func (c *call) String() string {
	all := slices.Concat(c.args, c.kw)
	one := c.fn + "(" + strings.Join(all, ", ") + ")"
	if len(one) <= 100 {
		return one
	}
	return c.fn + "(\n        " + strings.Join(all, ",\n        ") + ",\n    )"
}

// Starlark literals. Each returns "" for an empty value, so that call.set
// leaves the argument out.

func quote(s string) string { return strconv.Quote(s) }

func strLit(s string) string {
	if s == "" {
		return ""
	}
	return quote(s)
}

func listLit(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = quote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func dictLit(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, quote(k)+": "+quote(m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func intLit(n int) string { return strconv.Itoa(n) }

func boolLit(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// Column values, from the native values a Replica holds.

func str(r *row, c string) string {
	switch v := r.Cols[c].(type) {
	case string:
		return v
	case *string:
		if v != nil {
			return *v
		}
	}
	return ""
}

func strs(r *row, c string) []string {
	v, _ := r.Cols[c].([]string)
	return slices.Sorted(slices.Values(v))
}

func num(r *row, c string) (int, bool) {
	switch v := r.Cols[c].(type) {
	case int:
		return v, true
	case *int:
		if v != nil {
			return *v, true
		}
	}
	return 0, false
}

func boolean(r *row, c string) (b, set bool) {
	switch v := r.Cols[c].(type) {
	case bool:
		return v, true
	case *bool:
		if v != nil {
			return *v, true
		}
	}
	return false, false
}

func smap(r *row, c string) map[string]string {
	v, _ := r.Cols[c].(map[string]string)
	return v
}

// externalIDs are a row's external_ids without ovnrun's ownership tags.
func externalIDs(r *row) string {
	m := smap(r, "external_ids")
	out := map[string]string{}
	for k, v := range m {
		if !ovn.IsTag(k) {
			out[k] = v
		}
	}
	return dictLit(out)
}

// without returns m less keys.
func without(m map[string]string, keys ...string) map[string]string {
	out := maps.Clone(m)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}
