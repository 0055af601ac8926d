package nbimport

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/builtins/ovn"
)

// Tables without a builtin become row() calls; what neither a builtin nor
// row() can declare is named in a comment, so that nothing goes missing
// silently.

// notRows are tables no runbook declares rows of: the NB's own settings.
var notRows = map[string]bool{"NB_Global": true, "Connection": true, "SSL": true}

func (w *writer) others() {
	described := map[string]bool{}
	for _, t := range ovn.Described() {
		described[t.Name] = true
	}
	for _, table := range slices.Sorted(mapsKeys(w.st.Tables)) {
		if notRows[table] {
			continue
		}
		rows := w.rows(table, "name")
		if len(rows) == 0 {
			continue
		}
		ts := w.schemaTable(table)
		if described[table] || ts == nil || ts.Column("external_ids") == nil {
			why := "no builtin declares them as they are (or no imported row references them)"
			if !described[table] {
				why = "the table has no external_ids, which row() needs to tag its rows"
			}
			w.line("# Not imported: %d %s row(s): %s.", len(rows), table, why)
			for _, r := range rows {
				w.done[r.UUID] = true
			}
			continue
		}
		for _, r := range rows {
			if s := w.rowCall(table, ts, r); s != "" {
				w.line("# %s has no builtin of its own.", table)
				w.line("%s", s)
			} else {
				w.line("# Not imported: %s row %s: it references rows row() cannot name.", table, r.UUID)
			}
			w.done[r.UUID] = true
		}
	}
	w.blank()
}

func (w *writer) schemaTable(table string) *ovsdb.TableSchema {
	if w.schema == nil {
		return nil
	}
	return w.schema.Table(table)
}

// rowCall writes row(table, ...) with r's set columns; "" when a column
// references a row it cannot name.
func (w *writer) rowCall(table string, ts *ovsdb.TableSchema, r *row) string {
	c := newCall("row", quote(table))
	var key []string
	for _, col := range slices.Sorted(mapsKeys(ts.Columns)) {
		cs := ts.Columns[col]
		if col == "external_ids" || strings.HasPrefix(col, "_") || cs.Ephemeral() {
			continue
		}
		if cs.TypeObj != nil && (cs.TypeObj.Key.Type == ovsdb.TypeUUID || cs.TypeObj.Value != nil && cs.TypeObj.Value.Type == ovsdb.TypeUUID) {
			if len(refs(r, col)) > 0 {
				return ""
			}
			continue
		}
		e := valueLit(r.Cols[col])
		if e == "" {
			continue
		}
		c.set(col, e)
		key = append(key, col)
	}
	if _, named := ts.Columns["name"]; !named {
		if len(ts.Indexes) > 0 {
			key = ts.Indexes[0]
		}
		c.kw = append([]string{"key = " + listLit(key)}, c.kw...)
	}
	if p, col := w.referrer(r.UUID); p != "" {
		c.set("on", fmt.Sprintf("(%s, %s)", p, quote(col)))
	} else if !ts.IsRoot {
		return ""
	}
	return c.set("external_ids", externalIDs(r)).String()
}

// referrer finds an imported row with a variable that references uuid.
func (w *writer) referrer(uuid string) (string, string) {
	for _, table := range []string{"Logical_Switch", "Logical_Router"} {
		for _, p := range w.st.Tables[table] {
			for col := range p.Cols {
				if slices.Contains(refs(p, col), uuid) && w.vars[p.UUID] != "" {
					return w.vars[p.UUID], col
				}
			}
		}
	}
	return "", ""
}

// valueLit writes a column's native value; "" for an empty one.
func valueLit(v any) string {
	switch v := v.(type) {
	case string:
		return strLit(v)
	case *string:
		if v != nil {
			return quote(*v)
		}
	case int:
		if v != 0 {
			return intLit(v)
		}
	case *int:
		if v != nil {
			return intLit(*v)
		}
	case bool:
		if v {
			return "True"
		}
	case *bool:
		if v != nil {
			return boolLit(*v)
		}
	case []string:
		return listLit(sorted(v))
	case map[string]string:
		return dictLit(v)
	case []int:
		if len(v) > 0 {
			s := slices.Clone(v)
			sort.Ints(s)
			parts := make([]string, len(s))
			for i, n := range s {
				parts[i] = intLit(n)
			}
			return "[" + join(parts) + "]"
		}
	}
	return ""
}
