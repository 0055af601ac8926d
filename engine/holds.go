package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/ovnrun/ovnrun/interp"
)

// Holds: where a runbook's owner may have things, so that a run can prune
// them after the runbook stopped declaring every action of a driver (its
// last VM, its last NB row, every setting of a host). A run opens only the
// drivers of what it declares; a prune also opens those its journal's last
// run said the owner holds. An entry is a driver's name, and DRIVER@HOST
// for things on a host. Each run records them at its start (what it may
// leave behind if it dies) and at its end (what it left); docs/ownership.md.

// holdsOf returns the holds of the steps' actions of drivers that delete.
func (t *drivers) holdsOf(steps []*interp.Step) map[string]bool {
	out := map[string]bool{}
	for _, s := range steps {
		for _, a := range s.Actions {
			m := a.Meta()
			if s := t.specs[m.Driver]; s == nil || s.Destroy == 0 {
				continue
			}
			out[m.Driver] = true
			if m.Host != "" {
				out[m.Driver+"@"+m.Host] = true
			}
		}
	}
	return out
}

// holdDriver is the driver of a hold.
func holdDriver(h string) string {
	d, _, _ := strings.Cut(h, "@")
	return d
}

// HeldHosts returns the hosts held lists for any of drivers, sorted.
func HeldHosts(held []string, drivers ...string) []string {
	seen := map[string]bool{}
	for _, h := range held {
		if d, host, ok := strings.Cut(h, "@"); ok && slices.Contains(drivers, d) {
			seen[host] = true
		}
	}
	out := make([]string, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// heldDrivers returns the drivers that held names and the run does not
// open already: a prune opens them too.
func (t *drivers) heldDrivers(held []string, needed map[string]bool) map[string]bool {
	out := map[string]bool{}
	for _, h := range held {
		if d := holdDriver(h); t.specs[d] != nil && t.specs[d].Destroy > 0 && !needed[d] {
			out[d] = true
		}
	}
	return out
}

// openHeld opens, spec by spec, the held drivers for a prune. One that
// cannot be opened (the runbook names no NB any more) is noted, and its
// things are left; the names of those opened are returned.
func (t *drivers) openHeld(ctx context.Context, env OpenEnv, held map[string]bool, out map[string]interp.Driver) (map[string]bool, error) {
	opened := map[string]bool{}
	for _, n := range t.names {
		if !held[n] || opened[n] {
			continue
		}
		one := map[string]bool{}
		for _, m := range t.specs[n].Names {
			one[m] = true
		}
		if _, err := t.open(ctx, env, one, out); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			fmt.Fprintf(env.Log, "ovnrun: note: the last run left things of owner %s in %s, which this run cannot reach to prune them: %v\n",
				env.Owner, n, err)
			continue
		}
		for m := range one {
			opened[m] = true
		}
	}
	return opened, nil
}

// holdsAfter returns what the owner holds after a run that declared
// declared and planned planned: what it declares, what the last run held in
// drivers that did not prune (swept), and in those that did, what their
// prune or destroy kept, or, when the run failed (applied false), all
// they planned to remove.
func holdsAfter(declared map[string]bool, prev []string, swept map[string]bool, planned []interp.StepChanges, removing string, applied bool) []string {
	out := map[string]bool{}
	for h := range declared {
		out[h] = true
	}
	for _, h := range prev {
		if !swept[holdDriver(h)] || !applied {
			out[h] = true
		}
	}
	for _, sc := range planned {
		if sc.Step.Name != removing {
			continue
		}
		for _, c := range sc.Changes {
			if applied && (c.Op == interp.OpDelete || c.Op == interp.OpUpdate) {
				continue // done
			}
			m := c.Action.Meta()
			out[m.Driver] = true
			if m.Host != "" {
				out[m.Driver+"@"+m.Host] = true
			}
		}
	}
	list := make([]string, 0, len(out))
	for h := range out {
		list = append(list, h)
	}
	sort.Strings(list)
	return list
}

// lastHolds returns the holds the journal at path recorded last: those of
// its last run's end, or of its start when it died. A journal that has
// none (none yet, or written by an older ovnrun) holds nothing.
func lastHolds(path string) ([]string, error) {
	if r, ok := lastRecord(path); ok && r.Type == "run_end" {
		return r.Holds, nil // the usual case, without reading the whole journal
	}
	j, err := ReadJournal(path)
	if err != nil {
		return nil, err
	}
	runs := j.Runs()
	if len(runs) == 0 {
		return nil, nil
	}
	return runs[len(runs)-1].Holds, nil
}

// lastRecord reads the journal's last line alone, when it is whole and
// short.
func lastRecord(path string) (journalRecord, bool) {
	f, err := os.Open(path)
	if err != nil {
		return journalRecord{}, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return journalRecord{}, false
	}
	const tail = 64 << 10
	off := max(st.Size()-tail, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return journalRecord{}, false
	}
	line, ok := bytes.CutSuffix(buf, []byte("\n"))
	if !ok {
		return journalRecord{}, false
	}
	i := bytes.LastIndexByte(line, '\n')
	if i < 0 && off > 0 {
		return journalRecord{}, false
	}
	r, err := decodeRecord(line[i+1:])
	return r, err == nil
}
