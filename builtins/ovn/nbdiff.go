package ovn

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"

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
	// links are the references to add or remove so that exactly the
	// desired rows reference it through the table's In columns.
	links []linkChange
}

// linkChange adds (or removes) a reference to the row from the row named
// parent of ref.Table, or from the live row old.
type linkChange struct {
	ref    *Ref
	parent string
	old    *liveRow // set for removals
}

// diff compares the desired row of a with the snapshot. Results are
// memoised per snapshot for actions without futures (whose desired row
// never changes), so Plan, Preflight and Apply of an unchanged NB compare
// each action once.
func (d *NBDriver) diff(ctx context.Context, s *snapshot, a interp.Action) (*rowPlan, error) {
	// Only actions without futures are memoised, so a memoised one needs
	// no look through its columns again.
	if d.diffOf == s {
		if rp := d.diffs[a]; rp != nil {
			return rp, nil
		}
	}
	rp, err := d.compare(ctx, s, a)
	if err != nil || usesFuture(a) {
		return rp, err
	}
	if d.diffOf != s {
		d.diffOf, d.diffs = s, map[interp.Action]*rowPlan{}
	}
	d.diffs[a] = rp
	return rp, nil
}

// usesFuture reports whether a's row holds a future, which only a map
// column (map[string]any) or a column's own value can.
func usesFuture(a interp.Action) bool {
	r, ok := a.(*Row)
	if !ok {
		return false
	}
	for _, v := range r.Cols {
		switch v.(type) {
		case *interp.Future, map[string]any:
			return true
		}
	}
	return false
}

func (d *NBDriver) compare(ctx context.Context, s *snapshot, a interp.Action) (*rowPlan, error) {
	w, err := d.desiredFor(ctx, a)
	if err != nil {
		return nil, err
	}
	rp := &rowPlan{want: w, live: s.find(w, d.cfg.Adopt)}
	if rp.live == nil {
		return rp, nil
	}
	if !s.ownedByUs(rp.live) {
		rp.foreign = "was not created by ovnrun"
		if other := rp.live.runbook; other != "" {
			rp.foreign = fmt.Sprintf("belongs to runbook %q", other)
		}
		if d.cfg.Adopt {
			s.adopt(w.action.M.ID, rp.live)
		}
	}
	masked := map[string]string{} // column -> map key whose value is pending
	for _, p := range w.pending {
		masked[p.column] = p.key
	}
	table := w.spec.Name
	for _, c := range w.spec.Columns {
		key, isPending := masked[c]
		if isPending && key == "" {
			continue // the whole column waits for a future: reported below
		}
		live, want := rp.live.cols[c], w.cols[c]
		if !isPending && s.sameAsLive(table, c, live, want) {
			continue
		}
		old := s.canon(table, c, live)
		if isPending {
			old, want = withoutKey(old, key), withoutKey(want, key)
		}
		if !reflect.DeepEqual(old, want) {
			rp.diffs = append(rp.diffs, interp.FieldDiff{Key: c, Old: old, New: want})
			rp.changed = append(rp.changed, c)
		}
	}
	for _, p := range w.pending {
		old := s.canon(table, p.column, rp.live.cols[p.column])
		if m, ok := old.(map[string]string); ok {
			old = optValue(m[p.key])
		}
		rp.diffs = append(rp.diffs, interp.FieldDiff{Key: p.label(), Old: old, New: p.future})
	}
	rp.compareLinks(s)
	return rp, nil
}

// compareLinks finds the references to add and remove so that exactly the
// declared rows reference the row through each In column.
func (rp *rowPlan) compareLinks(s *snapshot) {
	for _, ref := range rp.want.spec.In {
		n := len(rp.links) // links of the references before this one
		want := map[string]bool{}
		for _, l := range rp.want.action.Links {
			if l.Ref == ref {
				want[l.Parent] = true
			}
		}
		have := map[string]bool{}
		var oldNames []string
		for _, p := range s.parents(rp.live.uuid, ref) {
			switch {
			case want[p.name()] && !have[p.name()] && s.named(ref.Table, p.name()) == p:
				have[p.name()] = true
			case ref.Many && !s.ownedByUs(p):
				continue // another tool's row may use ours too: not ours to undo
			default:
				rp.links = append(rp.links, linkChange{ref: ref, old: p})
			}
			oldNames = append(oldNames, p.name())
		}
		changed := len(rp.links) > n
		for _, name := range slices.Sorted(maps.Keys(want)) {
			if !have[name] {
				rp.links = append(rp.links, linkChange{ref: ref, parent: name})
				changed = true
			}
		}
		if changed {
			rp.diffs = append(rp.diffs, interp.FieldDiff{Key: ref.Field, Old: linkNames(ref, oldNames), New: rp.want.action.linkValue(ref)})
		}
	}
}

// linkNames is the plan value of the names of a row's parents.
func linkNames(ref *Ref, names []string) any {
	switch {
	case len(names) == 0:
		return nil
	case !ref.Many && len(names) == 1:
		return names[0]
	}
	return slices.Sorted(slices.Values(names))
}

// find returns the live row of w: by name for named tables, else by the
// ownership tag, else a row with the same natural key that another tool
// made: on the desired parent for rows with one, else in the whole table.
// Such a row is a conflict (Table.KeyConflicts) or, with --adopt, the row to
// adopt instead of making a second one.
func (s *snapshot) find(w *desired, adopt bool) *liveRow {
	if w.spec.named() {
		return s.named(w.spec.Name, w.name)
	}
	if r := s.owned[w.spec.Name][w.action.M.ID]; r != nil {
		return r
	}
	if w.spec.Key == nil || !(w.spec.KeyConflicts || adopt) {
		return nil
	}
	candidates := s.byTable[w.spec.Name]
	if len(w.action.Links) > 0 {
		l := w.action.Links[0]
		parent := s.named(l.Ref.Table, l.Parent)
		if parent == nil {
			return nil
		}
		candidates = nil
		for _, uuid := range parent.refs(l.Ref.Column) {
			if r := s.byUUID[uuid]; r != nil {
				candidates = append(candidates, r)
			}
		}
	}
	// Of the rows with the same key, the one most like the desired row
	// that no other action of this run takes over: rows may share a key
	// and differ elsewhere (two ACLs, one applied after load balancing).
	var best *liveRow
	bestScore := -1
	for _, r := range candidates {
		if s.ownedByUs(r) {
			continue
		}
		if id := s.adoptingOf[r.uuid]; id != "" && id != w.action.M.ID {
			continue
		}
		same := true
		for _, c := range w.spec.Key {
			same = same && s.equal(w.spec.Name, c, r.cols[c], w.cols[c])
		}
		if !same {
			continue
		}
		score := 0
		for _, c := range w.spec.Columns {
			if s.equal(w.spec.Name, c, r.cols[c], w.cols[c]) {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = r, score
		}
	}
	return best
}

// equal reports whether a live value of table's column equals a desired
// one.
func (s *snapshot) equal(table, column string, live, want any) bool {
	return reflect.DeepEqual(s.canon(table, column, live), want)
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
		return fmt.Sprintf("%s %q", rp.want.spec.Name, rp.want.name)
	}
	return fmt.Sprintf("%s row %s", rp.want.spec.Name, rp.live.uuid)
}

// refusal is the error for a row that exists but is not this runbook's,
// unless adopting is allowed.
func (rp *rowPlan) refusal(adopt bool) error {
	if rp.foreign == "" || adopt {
		return nil
	}
	return actionError(rp.want.action, "%s exists and %s: refusing to take it over (pass --adopt to do so)", rp.what(), rp.foreign)
}
