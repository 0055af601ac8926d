package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// row is one line of the result table.
type row struct {
	variant  string
	wall     time.Duration
	estimate bool  // extrapolated from a sample
	rss      int64 // peak RSS in KiB
	notes    string
}

// ovnrunRun runs the ovnrun binary once against c with the lab's runbook
// and returns its measurement and stdout. Every run names the NB with --nb,
// so a runbook's own ovn_nb() address is never contacted, with the owner
// nbfloor tags its rows with (the runbook's base name), and --yes: the NB is
// not an emulated lab's (--lab), so an apply would ask.
func (b *bench) ovnrunRun(ctx context.Context, c *central, flags ...string) (measurement, string, error) {
	args := append([]string{"--nb", c.nb, "--owner", filepath.Base(b.runbook), "--yes"}, flags...)
	cmd := b.lab.command(ctx, b.ovnrun, append(args, b.runbook)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	m, err := measure(cmd)
	if err != nil {
		return m, "", fmt.Errorf("ovnrun %s: %w\n%s", strings.Join(append(args, b.runbook), " "), err, tail(stderr.String(), 10))
	}
	return m, stdout.String(), nil
}

// results are the rows of the table the targets are computed from.
type results struct {
	apply, noop, dryRun, chained, floor, readDiff row
	others                                        []row // (b) and (a)
}

// buildRows measures the three ways of building the rows from an empty NB:
// the floor, (c) and ovnrun apply, one after the other in each of b.repeat
// rounds, each on a fresh NB with its own ovn-northd, so that a burst of
// load on the shared machine hits one round's variants alike rather than
// every run of one variant. ovnrun goes last: the no-op re-run and the
// dry-run use the NB it left, which is returned.
func (b *bench) buildRows(ctx context.Context, res *results) (*central, error) {
	var applies, chained, floors []measurement
	var appliedIns, floorNotes []string
	var c *central
	for i := range b.repeat {
		b.logf("round %d/%d: the floor (nbfloor insert)", i+1, b.repeat)
		m, out, err := b.floorInsert(ctx)
		if err != nil {
			return nil, err
		}
		floors, floorNotes = append(floors, m), append(floorNotes, inProcess(out))

		if !b.noChained {
			b.logf("round %d/%d: (c) ovn-nbctl, %d commands joined by --", i+1, b.repeat, len(b.cmds))
			if m, err = b.chainedRun(ctx); err != nil {
				return nil, err
			}
			chained = append(chained, m)
		}

		b.logf("round %d/%d: ovnrun apply from an empty NB", i+1, b.repeat)
		if c, err = b.freshCentral(ctx); err != nil {
			return nil, err
		}
		m, out, err = b.ovnrunRun(ctx, c)
		if err != nil {
			return nil, err
		}
		want := fmt.Sprintf("Step scale: %d created", b.rows())
		if !strings.Contains(out, want) {
			return nil, fmt.Errorf("ovnrun apply: output lacks %q:\n%s", want, tail(out, 5))
		}
		if err := b.verify(ctx, c, "ovnrun", true); err != nil {
			return nil, err
		}
		applies, appliedIns = append(applies, m), append(appliedIns, appliedIn(out))
	}
	res.apply = row{"ovnrun apply, empty NB", best(applies), false, maxRSS(applies),
		fmt.Sprintf("evaluate+plan+apply, 1 transaction; %s; in-process apply %s", spread(applies), strings.Join(appliedIns, ", "))}
	res.floor = row{"floor: libovsdb, 1 hand-built transaction", best(floors), false, maxRSS(floors),
		fmt.Sprintf("no monitor; %s; %s", spread(floors), floorNotes[slices.Index(floors, bestOf(floors))])}
	if b.noChained {
		return c, nil
	}
	res.chained = row{fmt.Sprintf("(c) ovn-nbctl, 1 process, %d commands joined by --", len(b.cmds)), best(chained), false, maxRSS(chained), spread(chained)}
	if n := len(chunks(b.cmds)); n > 1 {
		res.chained.variant = fmt.Sprintf("(c) ovn-nbctl, %d processes in turn, %d commands joined by --", n, len(b.cmds))
		res.chained.notes += fmt.Sprintf("; %d processes, as Linux gives one at most 6 MB of arguments", n)
	}
	return c, nil
}

// populatedRows measures, on the NB ovnrun built, once ovn-northd has caught
// up: ovnrun's no-op re-run, its dry-run, and libovsdb's read+diff, in
// rounds like buildRows.
func (b *bench) populatedRows(ctx context.Context, c *central, res *results) error {
	b.logf("waiting for ovn-northd to digest %d rows", b.rows())
	start := time.Now()
	if err := b.lab.syncNorthd(ctx, c); err != nil {
		return err
	}
	northd := time.Since(start)
	var noops, dries, reads []measurement
	var readNotes []string
	for i := range b.repeat {
		b.logf("round %d/%d: ovnrun no-op re-run, dry-run, libovsdb read+diff", i+1, b.repeat)
		m, out, err := b.ovnrunRun(ctx, c)
		if err != nil {
			return err
		}
		if want := "No changes.\n\nNothing to apply."; !strings.Contains(out, want) {
			return fmt.Errorf("ovnrun no-op re-run: output lacks %q:\n%s", want, tail(out, 5))
		}
		noops = append(noops, m)
		if m, out, err = b.ovnrunRun(ctx, c, "--dry-run"); err != nil {
			return err
		}
		if !strings.HasSuffix(strings.TrimSpace(out), "No changes.") {
			return fmt.Errorf("ovnrun --dry-run: the plan does not end in \"No changes.\":\n%s", tail(out, 5))
		}
		dries = append(dries, m)
		if m, out, err = b.readDiff(ctx, c); err != nil {
			return err
		}
		reads, readNotes = append(reads, m), append(readNotes, inProcess(out))
	}
	res.noop = row{"ovnrun no-op re-run", best(noops), false, maxRSS(noops),
		fmt.Sprintf("all %d unchanged: nothing sent, nothing journaled; %s; after northd caught up (%s)", b.rows(), spread(noops), round(northd))}
	res.dryRun = row{"ovnrun --dry-run, populated NB", best(dries), false, maxRSS(dries),
		fmt.Sprintf("\"No changes.\"; %s", spread(dries))}
	res.readDiff = row{"read+diff: libovsdb client, monitor and compare", best(reads), false, maxRSS(reads),
		fmt.Sprintf("\"no change\"; %s; %s", spread(reads), readNotes[slices.Index(reads, bestOf(reads))])}
	return nil
}

// appliedIn returns the duration of ovnrun's last line, "Applied N step(s)
// in D." or "Applied N step(s) in D: what was done."
func appliedIn(out string) string {
	i := strings.LastIndex(out, "Applied ")
	if i < 0 {
		return "?"
	}
	line, _, _ := strings.Cut(out[i:], "\n")
	_, d, _ := strings.Cut(line, " in ")
	d, _, _ = strings.Cut(d, ":")
	return strings.TrimSuffix(d, ".")
}

// chainedRun measures (c) once on a fresh NB: one ovn-nbctl process running
// every command, joined by "--"; or, past what the kernel lets one process
// be given, the fewest such processes one after the other.
func (b *bench) chainedRun(ctx context.Context) (measurement, error) {
	c, err := b.freshCentral(ctx)
	if err != nil {
		return measurement{}, err
	}
	var total measurement
	for _, cmds := range chunks(b.cmds) {
		cmd := b.lab.command(ctx, "ovn-nbctl", append([]string{"--db=" + c.nb, "--timeout=3600"}, joined(cmds)...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		m, err := measure(cmd)
		if err != nil {
			return m, fmt.Errorf("ovn-nbctl with %d joined commands: %w: %s", len(cmds), err, tail(stderr.String(), 5))
		}
		total.wall += m.wall
		total.maxRSS = max(total.maxRSS, m.maxRSS)
	}
	return total, b.verify(ctx, c, "(c)", false)
}

// maxArgBytes is what one ovn-nbctl process is given at most: Linux caps a
// process's arguments (strings and pointers) at 6 MB whatever the stack
// limit, and the environment and ovn-nbctl's own flags need a little.
const maxArgBytes = 6<<20 - 64<<10

// chunks splits cmds into the fewest runs that each fit in maxArgBytes.
func chunks(cmds []command) [][]command {
	var out [][]command
	start, size := 0, 0
	for i, c := range cmds {
		n := 3 + 8 // "--", its NUL and its pointer
		for _, a := range c {
			n += len(a) + 1 + 8
		}
		if size+n > maxArgBytes && i > start {
			out = append(out, cmds[start:i])
			start, size = i, 0
		}
		size += n
	}
	return append(out, cmds[start:])
}

// daemonRow measures (b): an ovn-nbctl daemon, and one ovn-nbctl client
// call per command. With b.daemonSample > 0 it samples like perCommandRow.
func (b *bench) daemonRow(ctx context.Context) (row, error) {
	c, err := b.freshCentral(ctx)
	if err != nil {
		return row{}, err
	}
	pidfile := filepath.Join(b.lab.dir, "ovn-nbctl.pid")
	b.lab.addPidfile(pidfile)
	out, err := b.lab.run(ctx, "ovn-nbctl", "--db="+c.nb, "--detach", "--pidfile="+pidfile,
		"--log-file="+filepath.Join(b.lab.dir, "ovn-nbctl.log"))
	if err != nil {
		return row{}, err
	}
	ctl := strings.TrimSpace(out)
	if ctl == "" {
		return row{}, fmt.Errorf("ovn-nbctl --detach printed no control socket")
	}
	env := append(slices.Clone(b.lab.env), "OVN_NB_DAEMON="+ctl)
	call := func(cmd command) (measurement, error) {
		c := b.lab.command(ctx, "ovn-nbctl", cmd...)
		c.Env = env
		var stderr strings.Builder
		c.Stderr = &stderr
		m, err := measure(c)
		if err != nil {
			return m, fmt.Errorf("ovn-nbctl (daemon) %s: %w: %s", strings.Join(cmd, " "), err, tail(stderr.String(), 3))
		}
		return m, nil
	}
	daemonPeak := func() int64 {
		data, _ := os.ReadFile(pidfile)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		return hwm(pid)
	}
	if b.daemonSample > 0 {
		r, err := b.sampled(ctx, c, b.daemonSample, call)
		if err != nil {
			return row{}, err
		}
		r.variant = "(b) ovn-nbctl daemon, 1 client call per command"
		r.notes += fmt.Sprintf("; daemon peak RSS %s", mib(daemonPeak()))
		return r, nil
	}
	b.logf("(b) ovn-nbctl daemon mode: %d client calls", len(b.cmds))
	var total time.Duration
	var peak int64
	for i, cmd := range b.cmds {
		m, err := call(cmd)
		if err != nil {
			return row{}, err
		}
		total += m.wall
		peak = max(peak, m.maxRSS)
		if (i+1)%5000 == 0 {
			b.logf("  %d calls, %s", i+1, round(total))
		}
	}
	daemon := daemonPeak()
	if err := b.verify(ctx, c, "(b)", false); err != nil {
		return row{}, err
	}
	return row{"(b) ovn-nbctl daemon, 1 client call per command", total, false, max(peak, daemon),
		fmt.Sprintf("%d calls, every one run; peak RSS of the daemon %s, of a client %s", len(b.cmds), mib(daemon), mib(peak))}, nil
}

// perCommandRow measures (a): one ovn-nbctl process per command, on a
// sample, extrapolated.
func (b *bench) perCommandRow(ctx context.Context) (row, error) {
	c, err := b.freshCentral(ctx)
	if err != nil {
		return row{}, err
	}
	call := func(cmd command) (measurement, error) {
		cc := b.lab.command(ctx, "ovn-nbctl", append([]string{"--db=" + c.nb}, cmd...)...)
		var stderr strings.Builder
		cc.Stderr = &stderr
		m, err := measure(cc)
		if err != nil {
			return m, fmt.Errorf("ovn-nbctl %s: %w: %s", strings.Join(cmd, " "), err, tail(stderr.String(), 3))
		}
		return m, nil
	}
	r, err := b.sampled(ctx, c, b.sample, call)
	if err != nil {
		return row{}, err
	}
	r.variant = "(a) ovn-nbctl, 1 process per command"
	if err := b.verify(ctx, c, "(a)", false); err != nil {
		return row{}, err
	}
	return r, nil
}

// sampled times n of the commands one by one, in windows spread over the
// whole run: a call costs more as the NB grows (ovn-nbctl reads the whole
// database each time), so the first commands alone would underestimate.
// The commands between windows run untimed, batched in one process, so the
// NB ends complete. The total is the integral of the per-call cost over the
// run, interpolated linearly between the windows' midpoints.
func (b *bench) sampled(ctx context.Context, c *central, n int, call func(command) (measurement, error)) (row, error) {
	total := len(b.cmds)
	n = min(n, total)
	k := min(b.windows, n)
	size := n / k
	type window struct {
		mid  float64
		mean time.Duration
	}
	var windows []window
	var peak int64
	done := 0
	for w := range k {
		start := 0
		if k > 1 {
			start = w * (total - size) / (k - 1)
		}
		if start > done {
			if err := b.fill(ctx, c, b.cmds[done:start]); err != nil {
				return row{}, err
			}
		}
		b.logf("  window %d/%d: commands %d-%d, timed one by one", w+1, k, start+1, start+size)
		var sum time.Duration
		for _, cmd := range b.cmds[start : start+size] {
			m, err := call(cmd)
			if err != nil {
				return row{}, err
			}
			sum += m.wall
			peak = max(peak, m.maxRSS)
		}
		windows = append(windows, window{float64(start) + float64(size)/2, sum / time.Duration(size)})
		done = start + size
	}
	if done < total {
		if err := b.fill(ctx, c, b.cmds[done:]); err != nil {
			return row{}, err
		}
	}
	// Integrate: flat before the first midpoint and after the last,
	// trapezoids between.
	est := float64(windows[0].mean) * windows[0].mid
	for i := 1; i < len(windows); i++ {
		a, z := windows[i-1], windows[i]
		est += (float64(a.mean) + float64(z.mean)) / 2 * (z.mid - a.mid)
	}
	last := windows[len(windows)-1]
	est += float64(last.mean) * (float64(total) - last.mid)
	var means []string
	for _, w := range windows {
		means = append(means, fmt.Sprintf("%.1f", float64(w.mean)/float64(time.Millisecond)))
	}
	notes := fmt.Sprintf("extrapolated from %d of %d calls in %d windows; ms per call as the NB grows: %s; the first window alone would give %s",
		k*size, total, k, strings.Join(means, ", "), round(windows[0].mean*time.Duration(total)))
	return row{wall: time.Duration(est), estimate: true, rss: peak, notes: notes}, nil
}

// fill runs cmds untimed in one ovn-nbctl process.
func (b *bench) fill(ctx context.Context, c *central, cmds []command) error {
	b.logf("  %d commands untimed, in one process", len(cmds))
	_, err := b.lab.run(ctx, "ovn-nbctl", append([]string{"--db=" + c.nb, "--timeout=600"}, joined(cmds)...)...)
	return err
}

// verify checks that the NB holds exactly the workload's rows, the same for
// every variant; with tagged, also the same external_ids as every tagged
// variant before (ovnrun and the floor write the same ownership tags;
// ovn-nbctl writes none).
func (b *bench) verify(ctx context.Context, c *central, who string, tagged bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	digest, withTags, switches, ports, err := nbDigest(strings.TrimPrefix(c.nb, "unix:"))
	if err != nil {
		return fmt.Errorf("%s: reading the NB: %w", who, err)
	}
	if switches != b.switches || ports != b.switches*b.ports {
		return fmt.Errorf("%s: the NB holds %d switches and %d ports, want %d and %d", who, switches, ports, b.switches, b.switches*b.ports)
	}
	if b.digest == "" {
		b.digest = digest
	} else if digest != b.digest {
		return fmt.Errorf("%s: the NB's rows differ from those of the variants before (digest %s, want %s)", who, digest, b.digest)
	}
	if !tagged {
		return nil
	}
	if b.tagDigest == "" {
		b.tagDigest = withTags
	} else if withTags != b.tagDigest {
		return fmt.Errorf("%s: the NB's external_ids differ from those of the variants before (digest %s, want %s)", who, withTags, b.tagDigest)
	}
	return nil
}

// best is the shortest wall time: the run least disturbed by the rest of
// the machine.
func best(ms []measurement) time.Duration { return bestOf(ms).wall }

func bestOf(ms []measurement) measurement {
	return slices.MinFunc(ms, func(a, b measurement) int { return cmp.Compare(a.wall, b.wall) })
}

func maxRSS(ms []measurement) int64 {
	var peak int64
	for _, m := range ms {
		peak = max(peak, m.maxRSS)
	}
	return peak
}

// spread describes repeated measurements: "best of 3, range 0.61-0.70 s".
func spread(ms []measurement) string {
	if len(ms) == 1 {
		return "1 run"
	}
	lo, hi := ms[0].wall, ms[0].wall
	for _, m := range ms {
		lo, hi = min(lo, m.wall), max(hi, m.wall)
	}
	return fmt.Sprintf("best of %d, range %s-%s", len(ms), strings.TrimSuffix(seconds(lo), " s"), seconds(hi))
}

func seconds(d time.Duration) string {
	switch {
	case d >= 100*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func round(d time.Duration) string { return seconds(d) }

func mib(kib int64) string {
	if kib == 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f MB", float64(kib)/1024)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
