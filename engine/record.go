package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

// How the engine records what drivers did: the op each reports, and the
// journal records of a batch, also of one that failed halfway.

// Recorder is told what the engine applies; the journal implements it.
type Recorder interface {
	// RecordStart is called before a command action runs, so that a run
	// killed while it runs knows it may have run.
	RecordStart(a interp.Action, start time.Time) error
	// Record is called when actions are done, with all the actions of one
	// driver call at once (one journal write).
	Record(recs ...ActionRecord) error
	// RecordOutputs is called with outputs read after an action was done.
	RecordOutputs(id string, outputs map[string]string) error
}

type recorderKey struct{}

// WithRecorder makes ApplyChanges report to r.
func WithRecorder(ctx context.Context, r Recorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, r)
}

// recordPartial journals what a failed Apply did all the same, so that a
// resumed run skips it, and returns err with anything that went wrong doing
// so.
func (r *resolver) recordPartial(b batch, hashes []string, res interp.Outcomes, err error, t0 time.Time) error {
	var partial interp.PartialError
	if !errors.As(err, &partial) || r.recorder == nil {
		return err
	}
	applied := map[string]bool{}
	for _, id := range partial.AppliedIDs() {
		applied[id] = true
	}
	var recs []ActionRecord
	for i, c := range b.changes {
		id := c.Action.Meta().ID
		if !applied[id] {
			continue
		}
		op, oerr := outcomeOp(b.driver, c, res)
		err = errors.Join(err, oerr)
		recs = append(recs, newActionRecord(c.Action, hashes[i], op, res[id].Outputs, t0, time.Now()))
	}
	if len(recs) > 0 {
		r.merge(res.Outputs())
		if jerr := r.recorder.Record(recs...); jerr != nil {
			err = errors.Join(err, jerr)
		}
	}
	return err
}

// outcomeOp is the op the driver reports having carried out for c. A
// driver that reports none breaks the Driver contract: the error says so,
// and the plan's op, returned with it, is the journal's best record.
func outcomeOp(driver string, c interp.Change, res interp.Outcomes) (interp.Op, error) {
	if op := res[c.Action.Meta().ID].Op; op != "" {
		return op, nil
	}
	m := c.Action.Meta()
	return c.Op, fmt.Errorf("driver %q did not report what it did to %s %s (%s)", driver, m.Kind, m.Name, m.Pos())
}
