package ovn

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"sync"

	"github.com/ovn-kubernetes/libovsdb/model"
)

// liveRow is one row of the driver's cache: its columns as libovsdb's native
// Go values (string, int, bool, *T for optional values, []T, maps).
type liveRow struct {
	table string
	uuid  string
	cols  map[string]any
	// Read once: the name column and the ownership tags.
	rowName, runbook, action string
}

func newLiveRow(table, uuid string, m model.Model) *liveRow {
	r := &liveRow{table: table, uuid: uuid, cols: columnsOf(m)}
	r.rowName, _ = r.cols["name"].(string)
	ext := r.externalIDs()
	r.runbook, r.action = ext[TagRunbook], ext[TagAction]
	return r
}

func (r *liveRow) name() string { return r.rowName }

func (r *liveRow) externalIDs() map[string]string {
	m, _ := r.cols["external_ids"].(map[string]string)
	return m
}

// refs returns the UUIDs a reference column holds.
func (r *liveRow) refs(column string) []string {
	switch v := r.cols[column].(type) {
	case []string:
		return v
	case *string:
		if v != nil {
			return []string{*v}
		}
	}
	return nil
}

// snapshot is a consistent-enough view of the NB for one Plan or Apply:
// every managed row, indexed the ways the driver looks rows up.
type snapshot struct {
	owner    string
	models   map[string]map[string]model.Model // table -> UUID -> the cache's row
	byUUID   map[string]*liveRow
	byTable  map[string][]*liveRow // sorted by UUID
	byName   map[string]map[string][]*liveRow
	owned    map[string]map[string]*liveRow // table -> ovnrun:action -> row of this runbook
	parentOf map[string]*liveRow            // child UUID -> the row referencing it
	global   *liveRow                       // the NB_Global row, if any
}

// snapshot returns the driver's view of the NB, once the cache shows the
// driver's own last transaction.
func (d *NBDriver) snapshot(ctx context.Context) (*snapshot, error) {
	if u := d.unsettled; u != nil {
		d.unsettled = nil
		if err := d.settle(ctx, u.applied, u.deleted); err != nil {
			return nil, err
		}
	}
	return d.read(ctx)
}

// read returns the driver's view of the NB now. Reading the cache is
// cheap (libovsdb replaces a cached row on every change and never modifies
// it, so pointer identity tells changed rows apart): when no row changed
// since the last snapshot, that snapshot is returned as is, and otherwise
// only changed rows are read again. Snapshots are never modified.
func (d *NBDriver) read(ctx context.Context) (*snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	names := []string{"NB_Global"}
	for _, t := range tables {
		names = append(names, t.name)
	}
	cache := d.db.Client().Cache()
	views := map[string]map[string]model.Model{}
	same := d.last != nil
	for _, table := range names {
		if d.db.Table(table) == nil || cache == nil || cache.Table(table) == nil {
			continue // Check reports it when an action needs it
		}
		rows := cache.Table(table).RowsShallow()
		views[table] = rows
		if same {
			prev := d.last.models[table]
			same = len(prev) == len(rows)
			for u, m := range rows {
				if !same {
					break
				}
				same = prev[u] == m
			}
		}
	}
	if same {
		return d.last, nil
	}
	s := &snapshot{
		owner:    d.cfg.Owner,
		models:   views,
		byUUID:   map[string]*liveRow{},
		byTable:  map[string][]*liveRow{},
		byName:   map[string]map[string][]*liveRow{},
		owned:    map[string]map[string]*liveRow{},
		parentOf: map[string]*liveRow{},
	}
	for _, table := range names {
		s.byName[table] = map[string][]*liveRow{}
		s.owned[table] = map[string]*liveRow{}
		rows := views[table]
		for _, uuid := range slices.Sorted(maps.Keys(rows)) {
			r := (*liveRow)(nil)
			if d.last != nil && d.last.models[table][uuid] == rows[uuid] {
				r = d.last.byUUID[uuid]
			}
			if r == nil {
				r = newLiveRow(table, uuid, rows[uuid])
			}
			s.add(r)
		}
	}
	if g := s.byTable["NB_Global"]; len(g) > 0 {
		s.global = g[0]
	}
	for _, t := range tables {
		if t.parent == nil {
			continue
		}
		for _, p := range s.byTable[t.parent.table] {
			for _, child := range p.refs(t.parent.column) {
				s.parentOf[child] = p
			}
		}
	}
	d.last = s
	return s, nil
}

func (s *snapshot) add(r *liveRow) {
	s.byUUID[r.uuid] = r
	s.byTable[r.table] = append(s.byTable[r.table], r)
	if n := r.name(); n != "" {
		s.byName[r.table][n] = append(s.byName[r.table][n], r)
	}
	if r.runbook == s.owner && r.action != "" {
		s.owned[r.table][r.action] = r
	}
}

// named returns the row of table called name, preferring this runbook's own
// when names repeat (Logical_Switch and Logical_Router names are not unique).
func (s *snapshot) named(table, name string) *liveRow {
	rows := s.byName[table][name]
	for _, r := range rows {
		if s.ownedByUs(r) {
			return r
		}
	}
	if len(rows) > 0 {
		return rows[0]
	}
	return nil
}

func (s *snapshot) ownedByUs(r *liveRow) bool { return r.runbook == s.owner }

// canon turns a live column value into the canonical form of desired rows.
// References to DHCP_Options rows of this runbook become rowRefs so they
// compare equal to the reference an action declares.
func (s *snapshot) canon(column string, v any) any {
	switch v := v.(type) {
	case string:
		return v
	case int, bool:
		return v
	case *string:
		if v == nil {
			return nil
		}
		if isDHCPRef(column) {
			if r := s.byUUID[*v]; r != nil && s.ownedByUs(r) {
				return rowRef{r.action}
			}
		}
		return *v
	case *int:
		if v == nil {
			return nil
		}
		return *v
	case *bool:
		if v == nil {
			return nil
		}
		return *v
	case []string:
		return canonSet(v)
	case map[string]string:
		return canonMap(v)
	}
	return v
}

func isDHCPRef(column string) bool {
	for _, c := range dhcpRefColumns {
		if c == column {
			return true
		}
	}
	return false
}

// fieldIndexes caches, per model type, which struct field holds which
// column, so reading thousands of rows costs one reflection pass each.
var fieldIndexes sync.Map // reflect.Type -> []fieldColumn

type fieldColumn struct {
	index  int
	column string
}

// columnsOf reads every modelled column of a row built by ovsdbmodel.
func columnsOf(m model.Model) map[string]any {
	v := reflect.ValueOf(m).Elem()
	fcs, ok := fieldIndexes.Load(v.Type())
	if !ok {
		var list []fieldColumn
		for i := range v.NumField() {
			if c := v.Type().Field(i).Tag.Get("ovsdb"); c != "" {
				list = append(list, fieldColumn{i, c})
			}
		}
		fcs, _ = fieldIndexes.LoadOrStore(v.Type(), list)
	}
	cols := map[string]any{}
	for _, fc := range fcs.([]fieldColumn) {
		cols[fc.column] = v.Field(fc.index).Interface()
	}
	return cols
}
