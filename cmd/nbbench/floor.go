package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// The libovsdb references of issue 13 (docs/speed.md): the floor, one
// hand-built transaction of the workload's rows from a libovsdb client
// holding no monitor, and read+diff, libovsdb's own client reading the NB
// into its cache and comparing it with the same rows built in memory. Both
// are modes of cmd/nbfloor, run as a process of their own like ovnrun, so
// that nbbench itself imports only the standard library.

// floorRun runs nbfloor once in mode ("insert" or "read-diff") against c
// and returns its measurement and its one line of output.
func (b *bench) floorRun(ctx context.Context, c *central, mode string) (measurement, string, error) {
	args := []string{"-nb", c.nb, "-switches", strconv.Itoa(b.switches), "-ports", strconv.Itoa(b.ports),
		"-owner", filepath.Base(b.runbook), mode}
	cmd := b.lab.command(ctx, b.nbfloor, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	m, err := measure(cmd)
	if err != nil {
		return m, "", fmt.Errorf("nbfloor %s: %w\n%s", strings.Join(args, " "), err, tail(stderr.String(), 10))
	}
	return m, strings.TrimSpace(stdout.String()), nil
}

// floorInsert measures one floor run on a fresh NB and checks that it left
// exactly ovnrun's rows, tags included.
func (b *bench) floorInsert(ctx context.Context) (measurement, string, error) {
	c, err := b.freshCentral(ctx)
	if err != nil {
		return measurement{}, "", err
	}
	m, out, err := b.floorRun(ctx, c, "insert")
	if err != nil {
		return m, "", err
	}
	return m, out, b.verify(ctx, c, "floor", true)
}

// readDiff measures one read+diff run against c, which must hold the rows.
func (b *bench) readDiff(ctx context.Context, c *central) (measurement, string, error) {
	m, out, err := b.floorRun(ctx, c, "read-diff")
	if err == nil && !strings.HasPrefix(out, "no change") {
		err = fmt.Errorf("nbfloor read-diff: %s", out)
	}
	return m, out, err
}

// inProcess returns the part of nbfloor's line after the first "; ": its
// own timings.
func inProcess(out string) string {
	_, t, _ := strings.Cut(out, "; ")
	return t
}
