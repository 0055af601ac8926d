package ovn

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/ovnrun/ovnrun/internal/topo"
	"github.com/ovnrun/ovnrun/interp"
)

// Row is the action of every NB row a runbook declares: one row of the
// table T. Builtins fill Cols with the columns of T.Columns they set, in
// canonical form (see canon); the driver, the plan and the graph read the
// row through T, so adding a table adds no code here.
//
// A value may be, or (for a map column) hold, an *interp.Future: a value
// known only at apply time (the chassis name of a host). The driver finds
// futures by their type.
type Row struct {
	interp.ActionMeta
	T *Table
	// Cols are the columns the runbook sets; columns of T.Columns it does
	// not set are empty. external_ids holds the runbook's own keys; the
	// ownership tags are added by the driver.
	Cols map[string]any
	// Links are the rows that must reference this one.
	Links []Link
}

// Link says that the row named Parent of Ref.Table references the row
// through Ref.Column.
type Link struct {
	Ref    *Ref
	Parent string
}

// rowRef is a reference to the row of another action of the runbook, by
// action ID, resolved to a UUID when the transaction is built.
type rowRef struct{ id string }

func (r rowRef) String() string { return r.id }

// newRow returns the action of a row of t named name (the action's name,
// which is also the name column for named tables), with canonical columns.
func newRow(t *Table, name string, cols map[string]any, deps ...string) *Row {
	r := &Row{ActionMeta: meta(t.Kind(), name, deps...), T: t, Cols: make(map[string]any, len(cols))}
	for c, v := range cols {
		r.Cols[c] = canon(v)
	}
	return r
}

// link adds a reference from parent (a row of ref.Table) to r.
func (r *Row) link(ref *Ref, parent string) { r.Links = append(r.Links, Link{ref, parent}) }

// canon returns v in the canonical form the driver compares: sets sorted,
// empty values nil, maps and sets copied.
func canon(v any) any {
	switch v := v.(type) {
	case []string:
		return canonSet(v)
	case map[string]string:
		return canonMap(v)
	case interp.StringMap:
		return canonMap(v)
	case interp.StringList:
		return canonSet(v)
	case map[string]int:
		if len(v) == 0 {
			return nil
		}
		return maps.Clone(v)
	case []int:
		if len(v) == 0 {
			return nil
		}
		return slices.Sorted(slices.Values(v))
	case []rowRef:
		if len(v) == 0 {
			return nil
		}
		s := slices.Clone(v)
		sort.Slice(s, func(i, j int) bool { return s[i].id < s[j].id })
		return s
	case map[string]any:
		if len(v) == 0 {
			return nil
		}
		futures := false
		for _, x := range v {
			_, f := x.(*interp.Future)
			futures = futures || f
		}
		if !futures {
			m := make(map[string]string, len(v))
			for k, x := range v {
				m[k] = fmt.Sprint(x)
			}
			return m
		}
		return maps.Clone(v)
	case string:
		if v == "" {
			return nil
		}
	case fmt.Stringer:
		if s := v.String(); s != "" {
			if _, ok := v.(*interp.Future); !ok {
				if _, ok := v.(rowRef); !ok {
					return s
				}
			}
		} else {
			return nil
		}
	}
	return v
}

// Fields implements interp.Action: the referencing rows, then the columns
// in the table's order. A map column holding futures shows its known keys
// under the column and each future as "column:key".
func (r *Row) Fields() []interp.Field {
	var fs []interp.Field
	for _, ref := range r.T.In {
		if v := r.linkValue(ref); v != nil {
			fs = append(fs, interp.F(ref.Field, v))
		}
	}
	for _, c := range r.T.Columns {
		v, ok := r.Cols[c]
		if !ok || v == nil {
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			known := map[string]string{}
			var futures []string
			for k, x := range v {
				if s, ok := x.(string); ok {
					known[k] = s
				} else {
					futures = append(futures, k)
				}
			}
			if len(known) > 0 {
				fs = append(fs, interp.F(c, known))
			}
			sort.Strings(futures)
			for _, k := range futures {
				fs = append(fs, interp.F(c+":"+k, v[k]))
			}
		case rowRef:
			fs = append(fs, interp.F(c, v.id))
		case []rowRef:
			ids := make([]string, len(v))
			for i, x := range v {
				ids[i] = x.id
			}
			fs = append(fs, interp.F(c, ids))
		default:
			fs = append(fs, interp.F(c, v))
		}
	}
	return fs
}

// linkValue is the plan field of ref: the parent's name, the sorted names
// for a Many reference, nil when the row has none.
func (r *Row) linkValue(ref *Ref) any {
	var names []string
	for _, l := range r.Links {
		if l.Ref == ref {
			names = append(names, l.Parent)
		}
	}
	return linkNames(ref, names)
}

// parent returns the row that references r through ref, "" when none.
func (r *Row) parent(ref *Ref) string {
	for _, l := range r.Links {
		if l.Ref == ref {
			return l.Parent
		}
	}
	return ""
}

// Describe implements topo.Element through the table's description.
func (r *Row) Describe(b *topo.Builder) {
	if r.T.Describe != nil {
		r.T.Describe(r, b)
	}
}

var _ topo.Element = (*Row)(nil)

// str returns a string column ("" when unset or not known yet).
func (r *Row) str(c string) string {
	switch v := r.Cols[c].(type) {
	case string:
		return v
	case fmt.Stringer:
		return v.String()
	}
	return ""
}

// strs returns a set-of-strings column.
func (r *Row) strs(c string) []string {
	v, _ := r.Cols[c].([]string)
	return v
}

// strMap returns the known keys of a map column.
func (r *Row) strMap(c string) map[string]string {
	switch v := r.Cols[c].(type) {
	case map[string]string:
		return v
	case map[string]any:
		m := map[string]string{}
		for k, x := range v {
			if s, ok := x.(string); ok {
				m[k] = s
			}
		}
		return m
	}
	return nil
}

// int returns an integer column (0 when unset).
func (r *Row) int(c string) int {
	v, _ := r.Cols[c].(int)
	return v
}

// future returns the value of key in map column c, or the column itself
// when key is "": a string, a *interp.Future, or nil.
func (r *Row) future(c, key string) any {
	v := r.Cols[c]
	if key == "" {
		return v
	}
	switch m := v.(type) {
	case map[string]any:
		return m[key]
	case map[string]string:
		if s, ok := m[key]; ok {
			return s
		}
	}
	return nil
}
