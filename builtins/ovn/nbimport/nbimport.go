// Package nbimport writes a runbook from a live Northbound database: the
// rows it holds become the typed builtins of builtins/ovn (ls(), lsp(),
// lr(), lrp(), acl(), ...) a person would have written, inside one
// step("topology", ...). It reads the NB with internal/ovsdbmodel and takes
// what it knows of tables from builtins/ovn's table descriptions. It may
// import builtins/ovn, internal/ovsdbmodel, libovsdb and the standard
// library.
package nbimport

import (
	"context"
	"fmt"
	"time"
)

// Options says what Import writes besides the NB's rows.
type Options struct {
	// IncludeOwned also writes rows another ovnrun runbook owns (rows with
	// ovnrun's ownership tags); they are skipped otherwise.
	IncludeOwned bool
	Source       string // shown in the header comment
	Now          time.Time
	// Chassis maps a chassis name to a Starlark expression the caller
	// defines (a host variable); Import writes that expression instead of
	// declaring a variable of its own for the chassis.
	Chassis map[string]string
	// Prelude is Starlark inserted after the header and loads, before the
	// topology step.
	Prelude string
}

// Import reads the NB at addr and returns the text of a runbook declaring
// its rows.
func Import(ctx context.Context, addr string, opt Options) ([]byte, error) {
	return nil, fmt.Errorf("import: not implemented yet")
}
