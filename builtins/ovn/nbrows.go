package ovn

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/interp"
)

// pending is a column whose desired value waits for a future.
type pending struct {
	column, key string // key: the map key within column, or ""
	future      *interp.Future
}

// label is the plan field of a pending value: "chassis_name", "options:chassis".
func (p pending) label() string {
	if p.key == "" {
		return p.column
	}
	return p.column + ":" + p.key
}

// desired is the row an action wants, in canonical form: columns hold
// string, int, bool, sorted sets, maps, rowRef or nil (empty set, map or
// optional value).
type desired struct {
	action  *Row
	spec    *Table
	name    string // name column, "" when unnamed
	cols    map[string]any
	pending []pending
}

// desiredFor builds the row of an action, resolving futures from the run's
// outputs; a future not known yet (always, in a dry-run) becomes pending.
// Futures are found by type: a column's value, or a value in a map column.
func (d *NBDriver) desiredFor(ctx context.Context, a interp.Action) (*desired, error) {
	r, ok := a.(*Row)
	if !ok {
		m := a.Meta()
		return nil, fmt.Errorf("nb: %s %s (%s): the NB driver does not handle %T", m.Kind, m.Name, m.Pos(), a)
	}
	// Only the columns the row sets are held: a table describes up to 20
	// columns, a row sets a few, and this runs for every action.
	w := &desired{action: r, spec: r.T, cols: make(map[string]any, len(r.Cols)+2)}
	if r.T.named() {
		w.name = r.M.Name
	}
	for _, c := range r.T.Columns {
		switch v := r.Cols[c].(type) {
		case *interp.Future:
			s, p, err := resolveValue(ctx, v)
			if err != nil {
				return nil, actionError(r, "%s: %v", c, err)
			}
			if p != nil {
				w.pending = append(w.pending, pending{c, "", p})
			}
			w.cols[c] = optValue(s)
		case map[string]any:
			m := make(map[string]string, len(v))
			for _, k := range slices.Sorted(maps.Keys(v)) {
				s, p, err := resolveValue(ctx, v[k])
				if err != nil {
					return nil, actionError(r, "%s:%s: %v", c, k, err)
				}
				if p != nil {
					w.pending = append(w.pending, pending{c, k, p})
					continue
				}
				m[k] = s
			}
			w.cols[c] = canonMap(m)
		case nil:
		default:
			w.cols[c] = v
		}
	}
	d.scalarDefaults(w)
	if slices.Contains(r.T.Columns, "external_ids") {
		ext, _ := w.cols["external_ids"].(map[string]string)
		t := make(map[string]string, len(ext)+2)
		maps.Copy(t, ext)
		t[TagRunbook] = d.cfg.Owner
		t[TagAction] = r.M.ID
		w.cols["external_ids"] = t
	}
	if err := d.checkColumns(w); err != nil {
		return nil, err
	}
	return w, nil
}

// scalarDefaults gives an unset column that the server's schema makes a
// plain integer or boolean (ACL tier, label, log) the value the server
// stores for it, 0 or false, instead of "empty", which such a column never
// is: otherwise every plan would find it changed. A column the server lacks
// stays unset, so an older NB takes the row.
func (d *NBDriver) scalarDefaults(w *desired) {
	ts := d.db.Schema().Table(w.spec.Name)
	if ts == nil {
		return
	}
	for _, c := range w.spec.Columns {
		if w.cols[c] != nil {
			continue
		}
		cs := ts.Column(c)
		if cs == nil {
			continue
		}
		switch cs.Type {
		case ovsdb.TypeInteger:
			w.cols[c] = 0
		case ovsdb.TypeBoolean:
			w.cols[c] = false
		}
	}
}

// checkColumns refuses, at plan time, a value for a column the server's
// schema lacks (an older OVN): the error names the column, the table and the
// server's schema version. Columns left empty may be missing.
func (d *NBDriver) checkColumns(w *desired) error {
	if d.hasColumns(w) {
		return d.checkEnums(w)
	}
	var cols []string
	if w.spec.named() {
		cols = append(cols, "name")
	}
	for _, c := range w.spec.Columns {
		if w.cols[c] != nil {
			cols = append(cols, c)
		}
	}
	for _, p := range w.pending {
		cols = append(cols, p.column)
	}
	for _, l := range w.action.Links {
		if err := d.db.Check(l.Ref.Table, l.Ref.Column); err != nil {
			return actionError(w.action, "%w", err)
		}
	}
	if err := d.db.Check(w.spec.Name, cols...); err != nil {
		return actionError(w.action, "%w", err)
	}
	return d.checkEnums(w)
}

// hasColumns reports, without allocating, whether the server's schema has
// every column w writes and every reference column that links it: true for
// nearly every action of a plan, which then needs no error built.
func (d *NBDriver) hasColumns(w *desired) bool {
	ts := d.db.Schema().Table(w.spec.Name)
	if ts == nil || w.spec.named() && ts.Column("name") == nil {
		return false
	}
	for _, c := range w.spec.Columns {
		if w.cols[c] != nil && ts.Column(c) == nil {
			return false
		}
	}
	for _, p := range w.pending {
		if ts.Column(p.column) == nil {
			return false
		}
	}
	for _, l := range w.action.Links {
		if lt := d.db.Schema().Table(l.Ref.Table); lt == nil || lt.Column(l.Ref.Column) == nil {
			return false
		}
	}
	return true
}

// checkEnums refuses, at plan time, a value the server's schema does not
// allow in a column with a set of allowed values (an ACL action "pass" on
// an NB older than 22.06): the server would refuse the whole step.
func (d *NBDriver) checkEnums(w *desired) error {
	ts := d.db.Schema().Table(w.spec.Name)
	for _, c := range w.spec.Columns {
		if w.cols[c] == nil {
			continue // most columns of a row: no schema look-up for them
		}
		cs := ts.Column(c)
		if cs == nil || cs.TypeObj == nil ||
			(cs.TypeObj.Key == nil || cs.TypeObj.Key.Enum == nil) && (cs.TypeObj.Value == nil || cs.TypeObj.Value.Enum == nil) {
			continue
		}
		var keys, vals []string
		switch v := w.cols[c].(type) {
		case string:
			keys = []string{v}
		case []string:
			keys = v
		case map[string]string:
			for k, x := range v {
				keys, vals = append(keys, k), append(vals, x)
			}
		case map[string]int:
			for k := range v {
				keys = append(keys, k)
			}
		}
		for i, list := range [][]string{keys, vals} {
			bt := cs.TypeObj.Key
			if i == 1 {
				bt = cs.TypeObj.Value
			}
			if bt == nil || bt.Enum == nil {
				continue
			}
			for _, x := range list {
				if !slices.ContainsFunc(bt.Enum, func(e any) bool { return e == x }) {
					allowed := make([]string, len(bt.Enum))
					for j, e := range bt.Enum {
						allowed[j] = fmt.Sprint(e)
					}
					slices.Sort(allowed)
					return actionError(w.action, "column %s of table %s: %q is not allowed by the server's OVN_Northbound schema version %s (allowed: %s)",
						c, w.spec.Name, x, d.db.SchemaVersion(), strings.Join(allowed, ", "))
				}
			}
		}
	}
	return nil
}

// resolveValue turns a string-or-future field into its value, or returns the
// future when its value is not known yet.
func resolveValue(ctx context.Context, v any) (string, *interp.Future, error) {
	switch v := v.(type) {
	case string:
		return v, nil, nil
	case *interp.Future:
		s, err := interp.Resolve(ctx, v)
		var unresolved *interp.UnresolvedError
		if errors.As(err, &unresolved) {
			return "", v, nil
		}
		return s, nil, err
	}
	return "", nil, fmt.Errorf("got %T, want a string or a future", v)
}

func canonSet(ss []string) any {
	if len(ss) == 0 {
		return nil
	}
	return slices.Sorted(slices.Values(ss))
}

func canonMap(m map[string]string) any {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

func optValue(s string) any {
	if s == "" {
		return nil
	}
	return s
}
