// Package engine runs a plan: it asks the drivers for the changes of each
// step (PlanChanges, the same for a dry-run and an apply), applies them in
// lanes, one per host, journals every action (Journal), holds the run lock
// (Lock) and decides what a resumed run skips (Resume).
//
// engine imports interp (actions, plans, changes and the Driver contract)
// and no domain: drivers reach it only through interp's interfaces, and
// domain packages under builtins/ import engine, never the other way round.
package engine
