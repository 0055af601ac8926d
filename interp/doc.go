// Package interp is the Starlark host of ovnrun: it evaluates a runbook into a
// typed Plan, resolves load() statements, keeps the registry of builtins, and
// defines the interfaces (Action, Driver, Resolve and the outputs of a run)
// through which domain packages plug in their resources and effects. Running
// a plan (apply, journal, lock, resume) is package engine's.
//
// Evaluation is pure: nothing here performs network or host I/O, and builtins
// only validate arguments and append actions to the plan. interp imports no
// driver library (libovsdb, ssh, libvirt); the domain packages under builtins/
// import interp, never the other way round.
package interp
