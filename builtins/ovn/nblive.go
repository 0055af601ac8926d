package ovn

import (
	"context"
	"maps"
	"reflect"
	"slices"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

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
// every row, indexed the ways the driver looks rows up.
type snapshot struct {
	owner string
	// legacy is the tag older ovnrun wrote for this runbook (NBConfig.Legacy);
	// claimed are the rows carrying it that owned holds: those whose action
	// no row with the owner's own tag has.
	legacy  string
	claimed map[string]bool
	state   *ovsdbmodel.ReplicaState // what it was made from
	refCols refColumns
	roots   map[string]bool // root tables of the schema
	byUUID  map[string]*liveRow
	byTable map[string][]*liveRow // sorted by UUID
	byName  map[string]map[string][]*liveRow
	owned   map[string]map[string]*liveRow // table -> ovnrun:action -> row of this runbook
	// referrers are, by UUID, the rows that reference a row and through
	// which column.
	referrers map[string][]referrer
	global    *liveRow // the NB_Global row, if any
	// adopting are the rows of other tools that actions of this run take
	// over (--adopt), by action ID, and their action IDs by UUID: a
	// reference to such a row is a reference to the action's row. The
	// driver records them as it compares actions, referenced rows first
	// (the plan's order); the rows themselves are never modified.
	adopting   map[string]*liveRow
	adoptingOf map[string]string
}

// adopt records that action id takes over r.
func (s *snapshot) adopt(id string, r *liveRow) {
	s.adopting[id] = r
	s.adoptingOf[r.uuid] = id
}

// referrer is a row that references another through column.
type referrer struct {
	row    *liveRow
	column string
}

// refColumns are, by table, the reference columns of the server's schema.
type refColumns map[string]map[string]refColumn

// refColumn is what a reference column references, as the schema says.
type refColumn struct {
	table  string
	strong bool
	inMap  bool // a map's keys or values, which mutations cannot remove by UUID alone
}

// rootTables are the root tables of schema.
func rootTables(schema *ovsdb.DatabaseSchema) map[string]bool {
	roots := map[string]bool{}
	for name, ts := range schema.Tables {
		roots[name] = ts.IsRoot
	}
	return roots
}

func newRefColumns(schema *ovsdb.DatabaseSchema) refColumns {
	rc := refColumns{}
	for name, ts := range schema.Tables {
		for c, cs := range ts.Columns {
			if cs.TypeObj == nil {
				continue
			}
			for i, bt := range []*ovsdb.BaseType{cs.TypeObj.Key, cs.TypeObj.Value} {
				if bt == nil || bt.Type != ovsdb.TypeUUID {
					continue
				}
				if ref, err := bt.RefTable(); err == nil && ref != "" {
					typ, err := bt.RefType()
					if rc[name] == nil {
						rc[name] = map[string]refColumn{}
					}
					rc[name][c] = refColumn{ref, err != nil || typ != ovsdb.Weak, i == 1 || cs.TypeObj.Value != nil}
				}
			}
		}
	}
	return rc
}

// snapshot returns the driver's view of the NB, once the cache shows the
// driver's own last transaction.
func (d *NBDriver) snapshot(ctx context.Context) (*snapshot, error) {
	d.snapMu.Lock()
	defer d.snapMu.Unlock()
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
	names := slices.Sorted(maps.Keys(st.Tables))
	l := readLedger(st)
	n := 0
	for _, table := range names {
		n += len(st.Tables[table])
	}
	s := &snapshot{
		owner:      d.cfg.Owner,
		legacy:     d.cfg.Legacy,
		claimed:    map[string]bool{},
		state:      st,
		refCols:    d.refCols,
		roots:      d.roots,
		byUUID:     make(map[string]*liveRow, n),
		byTable:    map[string][]*liveRow{},
		byName:     map[string]map[string][]*liveRow{},
		owned:      map[string]map[string]*liveRow{},
		referrers:  make(map[string][]referrer, n),
		adopting:   map[string]*liveRow{},
		adoptingOf: map[string]string{},
	}
	for _, table := range names {
		rows := st.Tables[table]
		s.byName[table] = make(map[string][]*liveRow, len(rows))
		s.owned[table] = make(map[string]*liveRow, len(rows))
		s.byTable[table] = make([]*liveRow, 0, len(rows))
		untagged := d.untagged(table)
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
			if untagged {
				r = l.withOwner(r)
			}
			s.add(r)
		}
	}
	s.claimLegacy()
	if g := s.byTable["NB_Global"]; len(g) > 0 {
		s.global = g[0]
	}
	for _, table := range names {
		cols := slices.Sorted(maps.Keys(s.refCols[table]))
		for _, r := range s.byTable[table] {
			for _, c := range cols {
				for _, child := range r.refs(c) {
					s.referrers[child] = append(s.referrers[child], referrer{r, c})
				}
			}
		}
	}
	d.last = s
	return s, nil
}

// parents returns the rows that reference uuid through ref.
func (s *snapshot) parents(uuid string, ref *Ref) []*liveRow {
	var out []*liveRow
	for _, p := range s.referrers[uuid] {
		if p.row.table == ref.Table && p.column == ref.Column {
			out = append(out, p.row)
		}
	}
	return out
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

func (s *snapshot) ownedByUs(r *liveRow) bool { return r.runbook == s.owner || s.claimed[r.uuid] }

// claimLegacy makes the rows tagged with the legacy tag this runbook's, for
// actions that no row with the owner's tag holds: an older ovnrun made them
// for this runbook, or for a copy of it elsewhere that wrote the same tag,
// so they are matched to declared actions (and re-tagged on apply) but
// never pruned (PlanDestroy).
func (s *snapshot) claimLegacy() {
	if s.legacy == "" || s.legacy == s.owner {
		return
	}
	for _, table := range slices.Sorted(maps.Keys(s.byTable)) {
		for _, r := range s.byTable[table] {
			if r.runbook == s.legacy && r.action != "" && s.owned[table][r.action] == nil {
				s.owned[table][r.action] = r
				s.claimed[r.uuid] = true
			}
		}
	}
}

// ownedRow returns the row of this runbook made for action id, in any
// table, or the row it takes over.
func (s *snapshot) ownedRow(id string) *liveRow {
	for _, m := range s.owned {
		if r := m[id]; r != nil {
			return r
		}
	}
	return s.adopting[id]
}

// canon turns a live column value of table into the canonical form of
// desired rows. References to rows of this runbook become rowRefs so they
// compare equal to the reference an action declares.
func (s *snapshot) canon(table, column string, v any) any {
	_, isRef := s.refCols[table][column]
	switch v := v.(type) {
	case string:
		if isRef { // a reference that must hold one row (Network_Function inport)
			return s.canon(table, column, &v)
		}
		return optValue(v) // "" is the empty value, as in desired rows
	case int, bool:
		return v
	case *string:
		if v == nil {
			return nil
		}
		if isRef {
			if id := s.actionOf(*v); id != "" {
				return rowRef{id}
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
		if isRef && len(v) > 0 {
			return s.canonRefs(v)
		}
		return canonSet(v)
	case map[string]string:
		return canonMap(v)
	}
	return canon(v)
}

// canonRefs is a set of references: rowRefs when all are rows of this
// runbook, else the sorted UUIDs (which no declared value equals).
func (s *snapshot) canonRefs(uuids []string) any {
	refs := make([]rowRef, 0, len(uuids))
	for _, u := range uuids {
		id := s.actionOf(u)
		if id == "" {
			return canonSet(uuids)
		}
		refs = append(refs, rowRef{id})
	}
	return canon(refs)
}

// actionOf returns the action whose row uuid is: a row of this runbook, or
// one an action takes over; "" for others.
func (s *snapshot) actionOf(uuid string) string {
	if r := s.byUUID[uuid]; r != nil && s.ownedByUs(r) {
		return r.action
	}
	return s.adoptingOf[uuid]
}

// sameAsLive reports whether the live value v of column equals the
// canonical desired value want, as reflect.DeepEqual(s.canon(column, v),
// want) would, without building the canonical form: comparing every column
// of every action is most of planning a large runbook.
func (s *snapshot) sameAsLive(table, column string, v, want any) bool {
	switch v := v.(type) {
	case string:
		if _, isRef := s.refCols[table][column]; isRef {
			break // canon resolves references to rows of this runbook
		}
		if v == "" {
			return want == nil
		}
		w, ok := want.(string)
		return ok && w == v
	case int:
		w, ok := want.(int)
		return ok && w == v
	case bool:
		w, ok := want.(bool)
		return ok && w == v
	case *string:
		if _, isRef := s.refCols[table][column]; v == nil || isRef {
			break // canon resolves references to rows of this runbook
		}
		w, ok := want.(string)
		return ok && w == *v
	case []string:
		if len(v) == 0 {
			return want == nil
		}
		if _, isRef := s.refCols[table][column]; isRef {
			break
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
	return reflect.DeepEqual(s.canon(table, column, v), want)
}
