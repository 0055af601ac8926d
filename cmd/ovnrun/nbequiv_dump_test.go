package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// The normalised dumps TestSameRowsAsNBCtl compares: every row of every
// table of a database, read with one ovsdb-client transaction, as text in
// which nothing depends on UUIDs or on which tool wrote the row.

// dbRow is a row as OVSDB's JSON notation gives it.
type dbRow map[string]any

// selectAll reads every row of every table of db (a database of the server
// at sock): one transaction, so the dump is one consistent state.
func selectAll(t *testing.T, sock, db string) map[string][]dbRow {
	t.Helper()
	out, err := exec.Command("ovsdb-client", "get-schema", sock, db).Output()
	if err != nil {
		t.Fatalf("ovsdb-client get-schema %s: %v", db, err)
	}
	var schema struct {
		Tables map[string]any `json:"tables"`
	}
	if err := json.Unmarshal(out, &schema); err != nil {
		t.Fatal(err)
	}
	tables := slices.Sorted(maps.Keys(schema.Tables))
	ops := []any{db}
	for _, table := range tables {
		ops = append(ops, map[string]any{"op": "select", "table": table, "where": []any{}})
	}
	txn, _ := json.Marshal(ops)
	out, err = exec.Command("ovsdb-client", "transact", sock, string(txn)).Output()
	if err != nil {
		t.Fatalf("ovsdb-client transact (select every table of %s): %v", db, err)
	}
	var results []struct {
		Rows  []dbRow `json:"rows"`
		Error string  `json:"error"`
	}
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(tables) {
		t.Fatalf("select every table of %s: %v, %d results for %d tables", db, err, len(results), len(tables))
	}
	all := map[string][]dbRow{}
	for i, table := range tables {
		if results[i].Error != "" {
			t.Fatalf("select %s: %s", table, results[i].Error)
		}
		all[table] = results[i].Rows
	}
	return all
}

// uuidOf is the UUID of a row's _uuid (or any ["uuid", U] value).
func uuidOf(v any) string {
	if a, ok := v.([]any); ok && len(a) == 2 && a[0] == "uuid" {
		return a[1].(string)
	}
	return ""
}

// dumper turns a database's rows into text. A reference becomes the label of
// the row it names: TABLE:NAME when the row's name is unique in its table,
// else TABLE{its columns}, so that two databases built by different tools in
// different orders read the same.
type dumper struct {
	rows   map[string]dbRow  // by UUID
	table  map[string]string // UUID -> table
	named  map[string]int    // "TABLE:NAME" -> rows so named
	labels map[string]string // UUID -> label, once computed; "" while computing
	// skip says which columns and map keys a row's text leaves out.
	skip func(table, column, key string) bool
}

func newDumper(all map[string][]dbRow, skip func(table, column, key string) bool) *dumper {
	d := &dumper{rows: map[string]dbRow{}, table: map[string]string{}, named: map[string]int{},
		labels: map[string]string{}, skip: skip}
	for table, rows := range all {
		for _, r := range rows {
			u := uuidOf(r["_uuid"])
			d.rows[u], d.table[u] = r, table
			if name, ok := r["name"].(string); ok && name != "" {
				d.named[table+":"+name]++
			}
		}
	}
	return d
}

func (d *dumper) label(uuid string) string {
	if l, ok := d.labels[uuid]; ok {
		if l == "" {
			return "(cycle)"
		}
		return l
	}
	r, table := d.rows[uuid], d.table[uuid]
	if r == nil {
		return "(no such row)"
	}
	if name, ok := r["name"].(string); ok && d.named[table+":"+name] == 1 {
		d.labels[uuid] = table + ":" + name
		return d.labels[uuid]
	}
	d.labels[uuid] = ""
	d.labels[uuid] = table + "{" + d.columns(table, r) + "}"
	return d.labels[uuid]
}

// columns is a row's non-empty columns in name order. An empty set, map or
// string is the column's default, so leaving it out loses nothing when both
// databases have the same schema.
func (d *dumper) columns(table string, r dbRow) string {
	var cols []string
	for _, c := range slices.Sorted(maps.Keys(r)) {
		if c == "_uuid" || c == "_version" || d.skip(table, c, "") {
			continue
		}
		if v := d.value(table, c, r[c]); v != "" && v != `""` && v != "[]" && v != "{}" {
			cols = append(cols, c+"="+v)
		}
	}
	return strings.Join(cols, " ")
}

func (d *dumper) value(table, column string, v any) string {
	a, ok := v.([]any)
	if !ok {
		if s, ok := v.(string); ok {
			return strconv.Quote(s)
		}
		return fmt.Sprint(v)
	}
	switch a[0] {
	case "uuid":
		return "@" + d.label(a[1].(string))
	case "set":
		var elems []string
		for _, e := range a[1].([]any) {
			elems = append(elems, d.value(table, column, e))
		}
		slices.Sort(elems)
		return "[" + strings.Join(elems, " ") + "]"
	case "map":
		var pairs []string
		for _, kv := range a[1].([]any) {
			kv := kv.([]any)
			k := d.value(table, column, kv[0])
			if s, ok := kv[0].(string); ok && d.skip(table, column, s) {
				continue
			}
			pairs = append(pairs, k+"="+d.value(table, column, kv[1]))
		}
		slices.Sort(pairs)
		return "{" + strings.Join(pairs, " ") + "}"
	}
	return fmt.Sprint(v)
}

// text is the dump: per table with rows, its name and one sorted line per row.
func (d *dumper) text(all map[string][]dbRow) string {
	var b strings.Builder
	for _, table := range slices.Sorted(maps.Keys(all)) {
		if len(all[table]) == 0 {
			continue
		}
		var lines []string
		for _, r := range all[table] {
			lines = append(lines, "  "+d.columns(table, r))
		}
		slices.Sort(lines)
		fmt.Fprintf(&b, "%s\n%s\n", table, strings.Join(lines, "\n"))
	}
	return b.String()
}

// nbSkip leaves out what differs between two NBs holding the same rows:
//   - external_ids ovnrun:*: ovnrun's ownership tags, the one thing it adds;
//   - NB_Global's nb_cfg, sb_cfg, hv_cfg and their timestamps: counters of
//     --wait handshakes, which nbctl.sh and ovnrun do different numbers of;
//   - NB_Global options:svc_monitor_mac: ovn-northd picks it at random.
//
// Everything else ovn-northd writes (up, NB_Global options) is compared: it
// follows from the rows, so it must match too; dynamicAddresses handles
// dynamic_addresses. Connection and SSL rows are rows like any other: the
// test's servers listen on sockets given on their command line, so both
// NBs start with none.
func nbSkip(table, column, key string) bool {
	if column == "external_ids" && strings.HasPrefix(key, "ovnrun:") {
		return true
	}
	if table != "NB_Global" {
		return false
	}
	switch column {
	case "nb_cfg", "sb_cfg", "hv_cfg", "nb_cfg_timestamp", "sb_cfg_timestamp", "hv_cfg_timestamp":
		return true
	}
	return column == "options" && key == "svc_monitor_mac"
}

// nbDumpAll is the normalised text of every row of the central's NB.
func nbDumpAll(t *testing.T, c *daemons.Central) string {
	t.Helper()
	all := selectAll(t, c.NB.Sock, "OVN_Northbound")
	pools := dynamicAddresses(all)
	return newDumper(all, nbSkip).text(all) + pools
}

// dynamicAddresses takes out of each port's dynamic_addresses what depends
// on the order in which ovn-northd met the ports: it hands out a switch's
// free addresses in turn, and ovn-nbctl adds ports one transaction at a
// time where ovnrun adds them in one. A port's IPv4 address becomes
// (ipv4), and so do its MAC and IPv6 address when its addresses name no
// MAC (the IPv6 one derives from the MAC). What was handed out is kept per
// switch: the text returned lists, for each switch, the sorted addresses
// that were taken out, so the same pool must have been handed out.
func dynamicAddresses(all map[string][]dbRow) string {
	switchOf := map[string]string{}
	for _, ls := range all["Logical_Switch"] {
		for _, p := range setOf(ls["ports"]) {
			switchOf[uuidOf(p)] = fmt.Sprint(ls["name"])
		}
	}
	handed := map[string][]string{}
	for _, p := range all["Logical_Switch_Port"] {
		dyn, ok := p["dynamic_addresses"].(string)
		if !ok || dyn == "" {
			continue
		}
		macGiven := false
		for _, a := range setOf(p["addresses"]) {
			if f := strings.Fields(fmt.Sprint(a)); len(f) > 1 && f[1] == "dynamic" {
				macGiven = true // "MAC dynamic"; a bare "dynamic" leaves the MAC to northd
			}
		}
		f := strings.Fields(dyn)
		for i, tok := range f {
			var kind string
			switch {
			case i == 0 && !macGiven:
				kind = "(mac)"
			case strings.Count(tok, ".") == 3:
				kind = "(ipv4)"
			case strings.Contains(tok, "::") || strings.Count(tok, ":") > 5:
				if !macGiven {
					kind = "(ipv6)"
				}
			}
			if kind != "" {
				sw := switchOf[uuidOf(p["_uuid"])]
				handed[sw] = append(handed[sw], tok)
				f[i] = kind
			}
		}
		p["dynamic_addresses"] = strings.Join(f, " ")
	}
	if len(handed) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("dynamic addresses handed out, per switch\n")
	for _, sw := range slices.Sorted(maps.Keys(handed)) {
		slices.Sort(handed[sw])
		fmt.Fprintf(&b, "  %s: %s\n", sw, strings.Join(handed[sw], " "))
	}
	return b.String()
}

// flowCounts is the number of SB Logical_Flow rows of each datapath, one
// line per datapath named by its logical switch or router. A flow shared
// through a Logical_DP_Group counts for each datapath of the group.
func flowCounts(t *testing.T, c *daemons.Central) string {
	t.Helper()
	all := selectAll(t, c.SB.Sock, "OVN_Southbound")
	name := map[string]string{}
	for _, r := range all["Datapath_Binding"] {
		ids := stringMap(r["external_ids"])
		kind := "switch"
		if _, ok := ids["logical-router"]; ok {
			kind = "router"
		}
		name[uuidOf(r["_uuid"])] = kind + " " + ids["name"]
	}
	group := map[string][]string{}
	for _, r := range all["Logical_DP_Group"] {
		for _, e := range setOf(r["datapaths"]) {
			group[uuidOf(r["_uuid"])] = append(group[uuidOf(r["_uuid"])], uuidOf(e))
		}
	}
	count := map[string]int{}
	for _, f := range all["Logical_Flow"] {
		if u := uuidOf(f["logical_datapath"]); u != "" {
			count[name[u]]++
		}
		if g := uuidOf(f["logical_dp_group"]); g != "" {
			for _, u := range group[g] {
				count[name[u]]++
			}
		}
	}
	var b strings.Builder
	for _, dp := range slices.Sorted(maps.Keys(count)) {
		fmt.Fprintf(&b, "%s: %d logical flows\n", dp, count[dp])
	}
	return b.String()
}

// setOf is the elements of an OVSDB set; a set of one may be the bare value.
func setOf(v any) []any {
	if a, ok := v.([]any); ok && len(a) == 2 && a[0] == "set" {
		return a[1].([]any)
	}
	return []any{v}
}

// stringMap reads an OVSDB map of strings.
func stringMap(v any) map[string]string {
	m := map[string]string{}
	for _, kv := range v.([]any)[1].([]any) {
		kv := kv.([]any)
		m[fmt.Sprint(kv[0])] = fmt.Sprint(kv[1])
	}
	return m
}

// dbRecords are the transaction records ovsdb-server appended to its
// database file since offset: one JSON object per committed transaction.
func dbRecords(t *testing.T, file string, offset int64) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) < offset {
		t.Fatalf("%s shrank from %d to %d bytes: ovsdb-server compacted it, so its records cannot be counted", file, offset, len(data))
	}
	var records []string
	sc := bufio.NewScanner(bytes.NewReader(data[offset:]))
	sc.Buffer(nil, len(data))
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, "OVSDB JSON ") {
			records = append(records, line)
		}
	}
	return records
}

// northdBookkeeping reports whether a database record only moves ovn-northd's
// NB_Global sb_cfg/hv_cfg (and their timestamps): what northd writes when
// it catches up with an nb_cfg, not a change of any row a client sent.
func northdBookkeeping(record string) bool {
	var rec map[string]json.RawMessage
	if json.Unmarshal([]byte(record), &rec) != nil {
		return false
	}
	for table, raw := range rec {
		if strings.HasPrefix(table, "_") {
			continue // _date, _comment, _is_diff
		}
		if table != "NB_Global" {
			return false
		}
		var rows map[string]map[string]any
		if json.Unmarshal(raw, &rows) != nil {
			return false
		}
		for _, cols := range rows {
			for c := range cols {
				if c != "sb_cfg" && c != "hv_cfg" && c != "sb_cfg_timestamp" && c != "hv_cfg_timestamp" {
					return false
				}
			}
		}
	}
	return true
}
