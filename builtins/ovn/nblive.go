package ovn

import (
	"context"
	"maps"
	"reflect"
	"slices"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
)

// liveRow is one row of the driver's cache: its columns as libovsdb's native
// Go values (string, int, bool, *T for optional values, []T, maps).
type liveRow struct {
	table string
	uuid  string
	cols  map[string]any // shared with row: never modified
	row   *ovsdbmodel.Row
	// Read once: the name column and the ownership tags.
	rowName, runbook, action string
}

func newLiveRow(table string, row *ovsdbmodel.Row) *liveRow {
	r := &liveRow{table: table, uuid: row.UUID, cols: row.Cols, row: row}
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
	state    *ovsdbmodel.ReplicaState // what it was made from
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

// read returns the driver's view of the NB now. Reading the replica is
// cheap: its states and rows are never modified, so an unchanged state gives
// back the last snapshot as is, and otherwise only changed rows are read
// again. Snapshots are never modified.
func (d *NBDriver) read(ctx context.Context) (*snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep, err := d.currentReplica(ctx)
	if err != nil {
		return nil, err
	}
	st := rep.State()
	if d.last != nil && d.last.state == st {
		return d.last, nil
	}
	names := []string{"NB_Global"}
	for _, t := range tables {
		names = append(names, t.name)
	}
	n := 0
	for _, table := range names {
		n += len(st.Tables[table])
	}
	s := &snapshot{
		owner:    d.cfg.Owner,
		state:    st,
		byUUID:   make(map[string]*liveRow, n),
		byTable:  map[string][]*liveRow{},
		byName:   map[string]map[string][]*liveRow{},
		owned:    map[string]map[string]*liveRow{},
		parentOf: map[string]*liveRow{},
	}
	for _, table := range names {
		rows := st.Tables[table] // nil when the server lacks the table: Check reports it when an action needs it
		s.byName[table] = make(map[string][]*liveRow, len(rows))
		s.owned[table] = make(map[string]*liveRow, len(rows))
		s.byTable[table] = make([]*liveRow, 0, len(rows))
		for _, uuid := range slices.Sorted(maps.Keys(rows)) {
			r := (*liveRow)(nil)
			if d.last != nil {
				if prev := d.last.byUUID[uuid]; prev != nil && prev.row == rows[uuid] {
					r = prev
				}
			}
			if r == nil {
				r = newLiveRow(table, rows[uuid])
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

// sameAsLive reports whether the live value v of column equals the
// canonical desired value want, as reflect.DeepEqual(s.canon(column, v),
// want) would, without building the canonical form: comparing every column
// of every action is most of planning a large runbook.
func (s *snapshot) sameAsLive(column string, v, want any) bool {
	switch v := v.(type) {
	case string:
		w, ok := want.(string)
		return ok && w == v
	case int:
		w, ok := want.(int)
		return ok && w == v
	case bool:
		w, ok := want.(bool)
		return ok && w == v
	case *string:
		if v == nil || isDHCPRef(column) {
			break // canon resolves references to rows of this runbook
		}
		w, ok := want.(string)
		return ok && w == *v
	case []string:
		if len(v) == 0 {
			return want == nil
		}
		w, ok := want.([]string)
		if !ok || len(w) != len(v) {
			return false
		}
		if slices.IsSorted(v) {
			return slices.Equal(v, w)
		}
	case map[string]string:
		if len(v) == 0 {
			return want == nil
		}
		w, ok := want.(map[string]string)
		return ok && maps.Equal(v, w)
	}
	return reflect.DeepEqual(s.canon(column, v), want)
}

func isDHCPRef(column string) bool {
	for _, c := range dhcpRefColumns {
		if c == column {
			return true
		}
	}
	return false
}
