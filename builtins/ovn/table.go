package ovn

import (
	"slices"
	"strings"

	"github.com/ovnrun/ovnrun/internal/topo"
)

// Table describes one Northbound table as ovnrun manages it. It is the only
// place a table's columns are listed: the plan's fields, the diff, the
// transaction, the live read, adopt, destroy and the graph all read it. The
// kinds of references (strong or weak, root table or not) come from the
// connected server's schema, not from here.
type Table struct {
	Name string // NB table: "Logical_Switch"
	kind string // Name in lower case, set by describe
	// Key are the columns that identify a row: {"name"} for tables whose
	// rows have a name; for the others the natural key ovn-nbctl finds a
	// row by (NAT: type, external_ip, logical_ip). Rows of this runbook are
	// found by their ownership tag first; the key finds a row another tool
	// made, to refuse or adopt it. Nil: such rows are never matched.
	Key []string
	// KeyConflicts says a row another tool made with the same key is the
	// same row (refused without --adopt). Otherwise it is matched only with
	// --adopt: DHCP_Options rows may repeat a CIDR.
	KeyConflicts bool
	// Columns are the columns ovnrun writes, in plan order. Key columns
	// other than name are among them; name is identity and never changes.
	Columns []string
	// Read are columns ovnrun reads but never writes: what ovn-northd
	// fills in, and what the graph of a live NB shows.
	Read []string
	// In are the columns of other tables through which rows of this table
	// are referenced by rows the runbook names (a switch's ports, a port
	// group's acls). ovnrun adds and removes its own rows there, by
	// mutation, and never overwrites those columns.
	In []*Ref
	// Describe draws the row in `ovnrun graph`; nil when it has no part.
	Describe func(r *Row, b *topo.Builder)
	// Builtin names the builtins that declare its rows, for messages:
	// row() refuses a described table and points there.
	Builtin string
}

// Ref is a column of a named table that references rows of another table.
type Ref struct {
	Table  string // the referencing table: "Logical_Switch"
	Column string // its column: "ports"
	// Field is the plan field naming the referencing rows: "switch".
	Field string
	// Many: a row may be referenced by several rows through this column
	// (a load balancer on several switches); the field is a list.
	Many bool
}

// Kind is the action kind of the table's rows: its name in lower case.
func (t *Table) Kind() string {
	if t.kind != "" {
		return t.kind
	}
	return strings.ToLower(t.Name)
}

// named reports whether rows are identified by their name column.
func (t *Table) named() bool { return len(t.Key) == 1 && t.Key[0] == "name" }

// ref returns the In reference through column of table, or nil.
func (t *Table) ref(table, column string) *Ref {
	for _, r := range t.In {
		if r.Table == table && r.Column == column {
			return r
		}
	}
	return nil
}

// tables lists the described tables in the order of ordered().
var tables []*Table

// describe adds t to the described tables; each family's file describes
// its tables with it.
func describe(t *Table) *Table {
	for _, o := range tables {
		if o.Name == t.Name {
			panic("ovn: table " + t.Name + " is described twice")
		}
	}
	t.kind = strings.ToLower(t.Name) // once: every row of the table asks
	tables = ordered(append(tables, t))
	return t
}

// ordered sorts ts so that each table comes after the tables that reference
// it through In (a switch before its ports), level by level, by name within
// a level: the order plans list rows in and destroy walks backwards.
func ordered(ts []*Table) []*Table {
	level := map[string]int{}
	var depth func(t *Table, seen int) int
	depth = func(t *Table, seen int) int {
		if l, ok := level[t.Name]; ok {
			return l
		}
		l := 0
		for _, r := range t.In {
			if p := find(ts, r.Table); p != nil && p != t && seen < len(ts) {
				l = max(l, depth(p, seen+1)+1)
			}
		}
		level[t.Name] = l
		return l
	}
	out := slices.Clone(ts)
	for _, t := range out {
		depth(t, 0)
	}
	slices.SortStableFunc(out, func(a, b *Table) int {
		if d := level[a.Name] - level[b.Name]; d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func find(ts []*Table, name string) *Table {
	for _, t := range ts {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// tableNamed returns the description of an NB table, or nil.
func tableNamed(name string) *Table { return find(tables, name) }

// tableRank orders tables for destroy: described tables in the order of
// ordered(), others (rows made by row()) after them.
func tableRank(name string) int {
	if i := slices.IndexFunc(tables, func(t *Table) bool { return t.Name == name }); i >= 0 {
		return i
	}
	return len(tables)
}

// describedColumns lists the columns of the described tables, with the
// columns that reference them: what the graph of a live NB reads.
func describedColumns() map[string][]string {
	want := map[string][]string{}
	for _, t := range tables {
		cols := slices.Concat(t.Columns, t.Read)
		if t.named() {
			cols = append(cols, "name")
		}
		want[t.Name] = append(want[t.Name], cols...)
		for _, r := range t.In {
			want[r.Table] = append(want[r.Table], r.Column)
		}
	}
	return want
}
