package interp

import (
	"context"
	"fmt"
)

// What a driver may rely on while the engine plans and applies: the outputs
// (resolved futures) of the run so far, and the optional interfaces through
// which a driver tells the engine more. The engine (package engine) keeps
// the outputs and answers Resolve; interp only defines the contract, so that
// domain packages need not import the engine to implement a driver.

// Outputs are the resolved futures of a run: action ID, then attribute.
type Outputs map[string]map[string]string

// Get returns one output.
func (o Outputs) Get(id, attr string) (string, bool) {
	v, ok := o[id][attr]
	return v, ok
}

// Merge records the outputs a driver returned.
func (o Outputs) Merge(out map[string]map[string]string) {
	for id, attrs := range out {
		if o[id] == nil {
			o[id] = map[string]string{}
		}
		for k, v := range attrs {
			o[id][k] = v
		}
	}
}

// OutputReader is implemented by drivers that can produce an output after
// their Apply returned, possibly waiting for it (a dynamic address that
// ovn-northd assigns a moment later). The engine asks it only when a later
// action needs the value.
type OutputReader interface {
	ReadOutput(ctx context.Context, id, attr string) (string, error)
}

// PrefixReader is an OutputReader that also produces outputs for IDs that
// name no action of the plan: "host/NAME" futures (a host's chassis name) are
// read from the host by the driver that reaches its OVS database. The engine
// asks it for every future whose ID starts with OutputPrefix.
type PrefixReader interface {
	OutputReader
	OutputPrefix() string
}

// ResultOutput names the output in which a command action reports what it
// found, in one line ("3 sent, 3 received, 0% loss, rtt avg 0.61 ms");
// the progress line of the command shows it.
const ResultOutput = "result"

// Checker is implemented by drivers whose actions only observe and mostly
// wait (for a port, a lease, replies), such as the check driver. --parallel
// bounds how many hosts are configured at once; a lane of a step made only
// of a Checker's changes is not counted in that bound, so that many hosts'
// checks wait at once rather than in turns.
type Checker interface {
	Checks() bool
}

// Preflighter is implemented by drivers that can refuse a whole run before
// anything is applied, such as the NB driver refusing rows ovnrun did not
// create. The engine calls Preflight with every change of the driver, all
// steps, before applying any.
type Preflighter interface {
	Preflight(ctx context.Context, changes []Change) error
}

// PartialError is implemented by driver errors after which some of the
// changes given to Apply were nonetheless carried out (on the hosts that did
// not fail): the engine journals those, with the ops Apply reported for them.
type PartialError interface {
	error
	AppliedIDs() []string
}

// UnresolvedError says that a future's value is not known yet.
type UnresolvedError struct{ Future *Future }

func (e *UnresolvedError) Error() string {
	return fmt.Sprintf("%s of %s is known only after that action is applied, and it is not known yet", e.Future.Attr, e.Future.From)
}

// A Resolver gives futures their values during a run; the engine puts one
// in the context it hands drivers.
type Resolver interface {
	Resolve(ctx context.Context, f *Future) (string, error)
}

type resolverKey struct{}
type outputsKey struct{}

// WithResolver makes Resolve ask r.
func WithResolver(ctx context.Context, r Resolver) context.Context {
	return context.WithValue(ctx, resolverKey{}, r)
}

// WithOutputs makes a run use out as its outputs: it starts from what it
// holds (a resumed run, chassis names read before planning) and records new
// outputs into it.
func WithOutputs(ctx context.Context, out Outputs) context.Context {
	return context.WithValue(ctx, outputsKey{}, out)
}

// OutputsFrom returns the outputs WithOutputs set, or new empty ones.
func OutputsFrom(ctx context.Context) Outputs {
	if o, ok := ctx.Value(outputsKey{}).(Outputs); ok && o != nil {
		return o
	}
	return Outputs{}
}

// Resolve returns the value of f for a driver: from the outputs of actions
// already applied, or, during apply, from the driver of the action that
// produces it. It returns an *UnresolvedError when the value is not known,
// as always in a dry-run for values of actions that are yet to be applied.
func Resolve(ctx context.Context, f *Future) (string, error) {
	r, _ := ctx.Value(resolverKey{}).(Resolver)
	if r == nil {
		return "", &UnresolvedError{f}
	}
	return r.Resolve(ctx, f)
}
