// Package nbimport writes a runbook from a live Northbound database: the
// rows it holds become the typed builtins of builtins/ovn (ls(), lsp(),
// lr(), lrp(peer=), acl(), ...) a person would have written, inside one
// step("topology", ...). It reads the NB with internal/ovsdbmodel's Replica
// and learns which tables have a builtin from builtins/ovn's table
// descriptions; rows of the other tables become row() calls. It may import
// builtins/ovn, internal/ovsdbmodel, interp, libovsdb and the standard
// library.
package nbimport

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
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
	// SSL are the files an ssl: NB needs (ovn.ConnectOptions).
	SSL ovsdbmodel.TLSFiles
}

// Import reads the NB at addr and returns the text of a runbook declaring
// its rows.
func Import(ctx context.Context, addr string, opt Options) ([]byte, error) {
	st, schema, err := read(ctx, addr, opt.SSL)
	if err != nil {
		return nil, err
	}
	return Write(st, schema, opt), nil
}

// read takes one snapshot of every column of every table of the NB.
func read(ctx context.Context, addr string, ssl ovsdbmodel.TLSFiles) (*ovsdbmodel.ReplicaState, *ovsdb.DatabaseSchema, error) {
	endpoints := ovn.SplitEndpoints(addr)
	if len(endpoints) == 0 {
		return nil, nil, fmt.Errorf("import: no Northbound address")
	}
	opts, err := ovn.ConnectOptions(endpoints, ssl)
	if err != nil {
		return nil, nil, fmt.Errorf("import: %w", err)
	}
	db, err := ovsdbmodel.Open(ctx, endpoints, "OVN_Northbound", opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("import: %s: %w", addr, err)
	}
	defer db.Close()
	schema := db.Schema()
	want := map[string][]string{}
	for name, ts := range schema.Tables {
		want[name] = slices.Collect(maps.Keys(ts.Columns))
	}
	r, err := ovsdbmodel.Replicate(ctx, db.Endpoint(), &schema, want, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("import: %s: %w", addr, err)
	}
	defer r.Close()
	return r.State(), &schema, nil
}

// Write returns the runbook declaring the rows of st, a snapshot of every
// column of an NB with schema.
func Write(st *ovsdbmodel.ReplicaState, schema *ovsdb.DatabaseSchema, opt Options) []byte {
	w := newWriter(st, schema, opt)
	w.topology()
	return w.text()
}

// text assembles the runbook: header, prelude, chassis variables, the
// topology function and its step.
func (w *writer) text() []byte {
	var b bytes.Buffer
	src := w.opt.Source
	if src == "" {
		src = "a Northbound database"
	}
	fmt.Fprintf(&b, "# Imported from the Northbound database at %s by ovnrun import, %s.\n", src,
		w.opt.Now.UTC().Format(time.RFC3339))
	switch n := w.skippedOwned; {
	case n == 1:
		b.WriteString("# 1 row owned by another ovnrun runbook was left out (ovnrun import --include-owned takes it).\n")
	case n > 1:
		fmt.Fprintf(&b, "# %d rows owned by other ovnrun runbooks were left out (ovnrun import --include-owned takes them).\n", n)
	}
	b.WriteString("\n")
	if p := strings.TrimSpace(w.opt.Prelude); p != "" {
		b.WriteString(p + "\n\n")
	}
	if !strings.Contains(w.opt.Prelude, "ovn_nb(") && w.opt.Source != "" {
		fmt.Fprintf(&b, "ovn_nb(var(\"nb\", %s))\n\n", quote(w.opt.Source))
	}
	if len(w.chassisVars) > 0 {
		b.WriteString("# Chassis names (their system-id); override with --var.\n")
		for _, name := range slices.Sorted(maps.Keys(w.chassisVars)) {
			v := w.chassisVars[name]
			fmt.Fprintf(&b, "%s = var(%s, %s)\n", v, quote(v), quote(name))
		}
		b.WriteString("\n")
	}
	b.WriteString("def topology():\n")
	if body := bytes.TrimRight(w.body.Bytes(), "\n"); len(body) == 0 {
		b.WriteString("    pass\n")
	} else {
		b.Write(body)
		b.WriteString("\n")
	}
	b.WriteString("\nstep(\"topology\", topology)\n")
	return b.Bytes()
}
