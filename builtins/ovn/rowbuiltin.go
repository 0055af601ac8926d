package ovn

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// row() declares a row of any Northbound table no builtin describes. Its
// Table is built per call from the embedded schema and lives in the action
// only: it is never added to the described tables (package state shared by
// every evaluation), so the driver sees it through Row.T like any other.
var _ = family(interp.Builtin{Domain: "ovn", Name: "row", Signature: "row(table, key=, on=, **columns)", Fn: rowBuiltin,
	Doc: `Declares a row of any Northbound table no other builtin declares, as ovn-nbctl create (and add, for
the row referencing it) makes it: row("Copp", name="copp1", meters={"arp": "meter1"}). Each other keyword
argument is a column, checked at evaluation against its type in the OVN 26.03 NB schema: a string (one
of the enum's values if it has one), an integer within its bounds, a bool, a declared row for a
reference (its handle, or its name for a named table), a list for a set and a dict for a map, within
their size bounds; None empties an optional column; a column whose empty value is invalid must be
given. At plan time the connected NB's schema is checked too: a column or table it lacks (an older OVN)
is an error naming it and the server's schema version. The row is owned, diffed and destroyed like any
other: ovnrun writes exactly the columns the call sets, plus external_ids (its ownership tags), and
never the others (drop a column from the call and its value stays: set it empty instead). key= (a
column or a list of them) identifies the row: "name" if the table has one, else required
(row("Chassis_Template_Var", key="chassis", chassis="hv1", variables={...})); a row with that key made
by another tool is refused without --adopt. Rows of a non-root table live only while referenced:
on=(parent, column) names the declared row that references this one (its handle or name) and the
column, as ovn-nbctl add does: row("Forwarding_Group", name="fg1", on=(sw, "forwarding_groups"), ...).
A root table's row may take on= too (on=(sw, "copp")). Refused: tables another builtin declares
(Logical_Switch: ls(); two declarations of one table would fight over its columns), single-row tables
(NB_Global, SSL), Connection (referenced only by NB_Global: use nb_connection()), and tables without
external_ids, where ovnrun could not tag its rows. Returns a handle with attributes id, name and
table.`})

// row(table, key=, on=, **columns)
func rowBuiltin(c *interp.Call) (starlark.Value, error) {
	if len(c.Args) != 1 {
		return nil, c.Errorf("got %d positional arguments, want 1 (the table); columns are keyword arguments", len(c.Args))
	}
	table, ok := starlark.AsString(c.Args[0])
	if !ok {
		return nil, c.Errorf("table: got %s, want the name of a Northbound table", c.Args[0].Type())
	}
	sch := nbSchema()
	ts, err := rowTable(c, sch, table)
	if err != nil {
		return nil, err
	}
	var keyv, onv starlark.Value
	cols := map[string]any{}
	var deps []string
	for _, kv := range c.Kwargs {
		col := string(kv[0].(starlark.String))
		switch col {
		case "key":
			keyv = kv[1]
			continue
		case "on":
			onv = kv[1]
			continue
		}
		cs := ts.Column(col)
		if cs == nil || strings.HasPrefix(col, "_") {
			hint := ""
			if s := interp.Suggest(col, columnNames(ts)); s != "" {
				hint = fmt.Sprintf(" (did you mean %s?)", s)
			}
			return nil, c.Errorf("table %s has no column %s%s; its columns: %s", table, col, hint, strings.Join(columnNames(ts), ", "))
		}
		if cs.Ephemeral() {
			return nil, c.Errorf("column %s of %s is written by OVN, not by runbooks", col, table)
		}
		cv := &columnValue{c: c, table: table, col: col, cs: cs}
		v, err := cv.convert(kv[1])
		if err != nil {
			return nil, err
		}
		cols[col], deps = v, append(deps, cv.deps...)
	}
	for _, col := range columnNames(ts) {
		if _, set := cols[col]; !set && required(ts.Columns[col]) {
			return nil, c.Errorf("column %s of %s is required: its empty value is not %s", col, table, typeText(ts.Columns[col]))
		}
	}
	key, err := rowKey(c, ts, table, keyv, cols)
	if err != nil {
		return nil, err
	}
	t := &Table{Name: table, Key: key, KeyConflicts: true}
	for _, col := range slices.Sorted(func(yield func(string) bool) {
		for col := range cols {
			if col != "external_ids" && !(t.named() && col == "name") && !yield(col) {
				return
			}
		}
	}) {
		t.Columns = append(t.Columns, col)
	}
	t.Columns = append(t.Columns, "external_ids")
	var parent *Row
	if onv != nil {
		ref, p, err := rowParent(c, sch, table, onv)
		if err != nil {
			return nil, err
		}
		t.In, parent = []*Ref{ref}, p
		deps = append(deps, p.M.ID)
	} else if !ts.IsRoot {
		return nil, c.Errorf("%s rows live only while a row references them: on=(parent, column) names it, through one of %s",
			table, refList(sch.referrers(table)))
	}
	name, err := rowName(t, cols, parent)
	if err != nil {
		return nil, c.Errorf("%v", err)
	}
	if t.named() {
		delete(cols, "name")
	}
	a := newRow(t, name, cols, dedup(deps)...)
	if parent != nil {
		a.link(t.In[0], parent.M.Name)
	}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return &RowHandle{handle: handle{t.Kind(), name}, a: a}, nil
}

// rowTable returns the schema of table, or why row() does not declare its
// rows.
func rowTable(c *interp.Call, sch *refSchema, table string) (*ovsdb.TableSchema, error) {
	if t := tableNamed(table); t != nil {
		by := t.Builtin
		if by == "" {
			by = "its builtin (see ovnrun doc ovn)"
		}
		return nil, c.Errorf("%s rows are declared with %s; row() is for tables no builtin declares (two declarations of one table would fight over its columns)", table, by)
	}
	ts, ok := sch.Tables[table]
	if !ok {
		hint := ""
		if s := interp.Suggest(table, slices.Sorted(func(yield func(string) bool) {
			for n := range sch.Tables {
				if !yield(n) {
					return
				}
			}
		})); s != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", s)
		}
		return nil, c.Errorf("%s is not a table of the %s Northbound schema%s", table, nbSchemaVersion, hint)
	}
	if why := sch.declarable(table); why != "" {
		return nil, c.Errorf("%s %s", table, why)
	}
	if !ts.IsRoot {
		// The parent must be a row ovnrun declares: one with a name, of a
		// table it can own.
		var parents []schemaRef
		for _, r := range sch.referrers(table) {
			if sch.declarable(r.table) == "" && sch.Tables[r.table].Column("name") != nil {
				parents = append(parents, r)
			}
		}
		if len(parents) == 0 {
			return nil, c.Errorf("%s rows are referenced only through %s, by rows ovnrun does not own", table, refList(sch.referrers(table)))
		}
	}
	return &ts, nil
}

// required reports whether the column's empty value ("", 0, no element) is
// not valid, so that a row cannot be inserted without a value for it.
func required(cs *ovsdb.ColumnSchema) bool {
	ty := cs.TypeObj
	if ty.Min() == 0 || cs.Ephemeral() {
		return false
	}
	if ty.Max() != 1 || ty.Value != nil {
		return true
	}
	switch bt := ty.Key; bt.Type {
	case ovsdb.TypeString:
		return bt.Enum != nil && !slices.Contains(bt.Enum, any(""))
	case ovsdb.TypeInteger:
		lo, _ := bt.MinInteger()
		hi, _ := bt.MaxInteger()
		return lo > 0 || hi < 0
	case ovsdb.TypeUUID:
		return true
	}
	return false
}

// rowKey returns the key columns: key= (a column or a list of them), else
// "name" when the table has one. Key columns must be set, and be single
// values.
func rowKey(c *interp.Call, ts *ovsdb.TableSchema, table string, v starlark.Value, cols map[string]any) ([]string, error) {
	var key []string
	switch v := v.(type) {
	case nil:
		if ts.Column("name") == nil {
			return nil, c.Errorf("%s has no name column: key= must name the columns that identify its rows", table)
		}
		key = []string{"name"}
	case starlark.String:
		key = []string{string(v)}
	default:
		var l interp.StringList
		if err := l.Unpack(v); err != nil || len(l) == 0 {
			return nil, c.Errorf("key: got %s, want a column of %s or a list of them", v.Type(), table)
		}
		key = l
	}
	for _, k := range key {
		cs := ts.Column(k)
		if cs == nil {
			return nil, c.Errorf("key: table %s has no column %s", table, k)
		}
		if cs.TypeObj.Value != nil || cs.TypeObj.Max() != 1 || refTable(cs) != "" {
			return nil, c.Errorf("key: column %s of %s is %s; a key column holds one string, integer or bool", k, table, typeText(cs))
		}
		if _, set := cols[k]; !set {
			return nil, c.Errorf("key column %s of %s is not set: give %s=", k, table, k)
		}
	}
	return key, nil
}

// rowParent resolves on=(parent, column): the named row that references
// the new row through its column, and the reference.
func rowParent(c *interp.Call, sch *refSchema, table string, v starlark.Value) (*Ref, *Row, error) {
	pair, ok := v.(starlark.Indexable)
	if _, isString := v.(starlark.String); isString || !ok || pair.Len() != 2 {
		return nil, nil, c.Errorf("on: got %s, want (parent, column): the row that references this one and its column", v.Type())
	}
	col, ok := starlark.AsString(pair.Index(1))
	if !ok {
		return nil, nil, c.Errorf("on: the column is %s, want a string", pair.Index(1).Type())
	}
	var cands []schemaRef
	for _, r := range sch.referrers(table) {
		if r.column == col {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		return nil, nil, c.Errorf("on: no table references %s through a column %s; %s rows are referenced through %s", table, col, table, refList(sch.referrers(table)))
	}
	var p *Row
	var errs []string
	for _, r := range cands {
		row, err := declaredRow(c, pair.Index(0), r.table)
		if err == nil {
			p = row
			break
		}
		errs = append(errs, err.Error())
	}
	if p == nil {
		return nil, nil, c.Errorf("on: %s", strings.Join(errs, "; "))
	}
	if !p.T.named() {
		return nil, nil, c.Errorf("on: %s %s has no name; a parent is a named row", p.T.Name, p.M.Name)
	}
	return &Ref{Table: p.T.Name, Column: col, Field: p.T.Kind(), Many: sch.Tables[table].IsRoot}, p, nil
}

// rowName is the action's name: the name column for named tables, else
// the parent's name (if any) and the key's values joined with "/", as
// nat() and route() name theirs.
func rowName(t *Table, cols map[string]any, parent *Row) (string, error) {
	if t.named() {
		name, _ := cols["name"].(string)
		if err := interp.CheckName(name); err != nil {
			return "", fmt.Errorf("name: %v", err)
		}
		return name, nil
	}
	var parts []string
	if parent != nil {
		parts = append(parts, parent.M.Name)
	}
	for _, k := range t.Key {
		parts = append(parts, fmt.Sprint(cols[k]))
	}
	return strings.Join(parts, "/"), nil
}

func refList(refs []schemaRef) string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

func dedup(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// RowHandle is the handle of a row declared with row().
type RowHandle struct {
	handle
	a *Row
}

func (h *RowHandle) AttrNames() []string { return []string{"id", "name", "table"} }

func (h *RowHandle) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.String(h.a.M.ID), nil
	case "name":
		return starlark.String(h.a.M.Name), nil
	case "table":
		return starlark.String(h.a.T.Name), nil
	}
	return nil, nil
}
