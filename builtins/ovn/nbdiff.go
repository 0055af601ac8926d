package ovn

import (
	"context"
	"fmt"
	"maps"
	"reflect"

	"github.com/ovnrun/ovnrun/interp"
)

// rowPlan is the outcome of comparing one action's desired row with the NB.
type rowPlan struct {
	want *desired
	live *liveRow // nil: the row is to be created
	// foreign says why an existing row is not this runbook's ("" when it
	// is, or when the row is new).
	foreign string
	diffs   []interp.FieldDiff
	changed []string // columns to write
	// move: the row is not referenced by the desired parent (yet).
	move      bool
	oldParent *liveRow
}

// diff compares the desired row of a with the snapshot. Results are
// memoised per snapshot for actions without futures (whose desired row
// never changes), so Plan, Preflight and Apply of an unchanged NB compare
// each action once.
func (d *NBDriver) diff(ctx context.Context, s *snapshot, a interp.Action) (*rowPlan, error) {
	memo := !usesFuture(a)
	if memo && d.diffOf == s {
		if rp := d.diffs[a]; rp != nil {
			return rp, nil
		}
	}
	rp, err := d.compare(ctx, s, a)
	if err != nil || !memo {
		return rp, err
	}
	if d.diffOf != s {
		d.diffOf, d.diffs = s, map[interp.Action]*rowPlan{}
	}
	d.diffs[a] = rp
	return rp, nil
}

func usesFuture(a interp.Action) bool {
	switch a := a.(type) {
	case *GatewayChassis:
		_, ok := a.ChassisName.(*interp.Future)
		return ok
	case *LogicalRouter:
		_, ok := a.ChassisOption.(*interp.Future)
		return ok
	}
	return false
}

func (d *NBDriver) compare(ctx context.Context, s *snapshot, a interp.Action) (*rowPlan, error) {
	w, err := d.desiredFor(ctx, a)
	if err != nil {
		return nil, err
	}
	rp := &rowPlan{want: w, live: s.find(w)}
	if rp.live == nil {
		return rp, nil
	}
	if ext := rp.live.externalIDs(); ext[TagRunbook] != s.owner {
		rp.foreign = "was not created by ovnrun"
		if other := ext[TagRunbook]; other != "" {
			rp.foreign = fmt.Sprintf("belongs to runbook %q", other)
		}
	}
	masked := map[string]string{} // column -> map key whose value is pending
	for _, p := range w.pending {
		masked[p.column] = p.key
	}
	for _, c := range w.spec.columns {
		key, isPending := masked[c]
		if isPending && key == "" {
			continue // the whole column waits for a future: reported below
		}
		live, want := rp.live.cols[c], w.cols[c]
		if !isPending && s.sameAsLive(c, live, want) {
			continue
		}
		old := s.canon(c, live)
		if isPending {
			old, want = withoutKey(old, key), withoutKey(want, key)
		}
		if !reflect.DeepEqual(old, want) {
			rp.diffs = append(rp.diffs, interp.FieldDiff{Key: c, Old: old, New: want})
			rp.changed = append(rp.changed, c)
		}
	}
	for _, p := range w.pending {
		old := s.canon(p.column, rp.live.cols[p.column])
		if m, ok := old.(map[string]string); ok {
			old = optValue(m[p.key])
		}
		rp.diffs = append(rp.diffs, interp.FieldDiff{Key: p.label(), Old: old, New: p.future})
	}
	if par := w.spec.parent; par != nil {
		rp.oldParent = s.parentOf[rp.live.uuid]
		target := s.named(par.table, w.parent)
		if rp.oldParent == nil || target == nil || rp.oldParent.uuid != target.uuid {
			rp.move = true
			var old any
			if rp.oldParent != nil {
				old = rp.oldParent.name()
			}
			rp.diffs = append(rp.diffs, interp.FieldDiff{Key: par.key, Old: old, New: w.parent})
		}
	}
	return rp, nil
}

// find returns the live row of w: by name for named tables, else by the
// ownership tag, else (NAT, routes) a row with the same natural key on the
// desired parent, which another tool made and which would conflict.
func (s *snapshot) find(w *desired) *liveRow {
	if w.spec.named {
		return s.named(w.spec.name, w.name)
	}
	if r := s.owned[w.spec.name][w.action.Meta().ID]; r != nil {
		return r
	}
	if w.spec.natural == nil {
		return nil // DHCP_Options rows may repeat a CIDR: another tool's are no conflict
	}
	parent := s.named(w.spec.parent.table, w.parent)
	if parent == nil {
		return nil
	}
	for _, uuid := range parent.refs(w.spec.parent.column) {
		r := s.byUUID[uuid]
		if r == nil || s.ownedByUs(r) {
			continue
		}
		same := true
		for _, c := range w.spec.natural {
			same = same && reflect.DeepEqual(s.canon(c, r.cols[c]), w.cols[c])
		}
		if same {
			return r
		}
	}
	return nil
}

func withoutKey(v any, key string) any {
	m, ok := v.(map[string]string)
	if !ok {
		return v
	}
	m = maps.Clone(m)
	delete(m, key)
	return canonMap(m)
}

func (rp *rowPlan) op() interp.Op {
	switch {
	case rp.live == nil:
		return interp.OpCreate
	case len(rp.diffs) > 0 || rp.foreign != "":
		return interp.OpUpdate
	}
	return interp.OpUnchanged
}

// change is the plan's view of rp.
func (rp *rowPlan) change(adopt bool) interp.Change {
	c := interp.Change{Action: rp.want.action, Op: rp.op()}
	if c.Op == interp.OpUpdate {
		c.Diffs = rp.diffs
	}
	switch {
	case rp.foreign != "" && adopt:
		c.Note = fmt.Sprintf("adopting %s, which %s", rp.what(), rp.foreign)
	case rp.foreign != "":
		c.Note = fmt.Sprintf("%s exists and %s; apply refuses to take it over without --adopt", rp.what(), rp.foreign)
	}
	return c
}

// what names the live row for messages: `Logical_Switch "ls1"`.
func (rp *rowPlan) what() string {
	if rp.want.name != "" {
		return fmt.Sprintf("%s %q", rp.want.spec.name, rp.want.name)
	}
	return fmt.Sprintf("%s row %s", rp.want.spec.name, rp.live.uuid)
}

// refusal is the error for a row that exists but is not this runbook's,
// unless adopting is allowed.
func (rp *rowPlan) refusal(adopt bool) error {
	if rp.foreign == "" || adopt {
		return nil
	}
	return actionError(rp.want.action, "%s exists and %s: refusing to take it over (pass --adopt to do so)", rp.what(), rp.foreign)
}
