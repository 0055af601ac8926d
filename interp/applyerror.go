package interp

import (
	"context"
	"errors"
	"fmt"
	"github.com/ovnrun/ovnrun/internal/lanes"
)

// The one error family of drivers: an action's failure names the action,
// its host and where the runbook declared it (ActionError); a driver call
// that failed after applying some of its changes says which (ApplyError),
// so that the engine journals them (PartialError).

// ActionError is the failure of one action.
type ActionError struct {
	Action Action
	Err    error
}

// NewActionError returns err as the failure of a.
func NewActionError(a Action, err error) error { return &ActionError{Action: a, Err: err} }

// Host is the host the action failed on; "" for actions of no host.
func (e *ActionError) Host() string { return e.Action.Meta().Host }

// Error reads "KIND NAME (FILE:LINE): ERR". An error with a detail (a
// command's output) is shown by its detail, which names what ran: a failed
// command's own message would repeat the host, which the action's name
// carries.
func (e *ActionError) Error() string {
	m := e.Action.Meta()
	msg := e.Err.Error()
	var detail interface{ Detail() string }
	if errors.As(e.Err, &detail) {
		msg = detail.Detail()
	}
	if p := m.Pos(); p.File != "" {
		return fmt.Sprintf("%s %s (%s): %s", m.Kind, m.Name, p, msg)
	}
	return fmt.Sprintf("%s %s: %s", m.Kind, m.Name, msg)
}

func (e *ActionError) Unwrap() error { return e.Err }

// ApplyError is what a driver's Apply returns when some of its changes
// failed (on one host or several): the failures, and the IDs of the
// actions applied all the same (on other hosts, or before the failure on
// the same one), whose outcomes Apply also returned.
type ApplyError struct {
	Err     error
	Applied []string
}

var _ PartialError = (*ApplyError)(nil)

func (e *ApplyError) Error() string { return e.Err.Error() }
func (e *ApplyError) Unwrap() error { return e.Err }

// AppliedIDs implements PartialError.
func (e *ApplyError) AppliedIDs() []string { return e.Applied }

// DefaultParallel bounds how many hosts a run configures at once.
const DefaultParallel = lanes.Default

type parallelKey struct{}

// WithParallel bounds how many hosts a run configures at once.
func WithParallel(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, parallelKey{}, n)
}

// Parallel returns how many hosts a run configures at once: what
// WithParallel set, else DefaultParallel. Drivers that fan out over hosts
// (internal/lanes) bound themselves by it.
func Parallel(ctx context.Context) int {
	if n, _ := ctx.Value(parallelKey{}).(int); n > 0 {
		return n
	}
	return DefaultParallel
}
