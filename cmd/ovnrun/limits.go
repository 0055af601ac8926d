package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/interp"
)

// evalLimits bound the evaluation of a runbook: the commands that evaluate
// one (run, graph, trace) take them as flags.
type evalLimits struct {
	maxSteps  uint64
	maxMemory byteSize
}

func defaultEvalLimits() evalLimits {
	return evalLimits{maxSteps: interp.DefaultMaxSteps, maxMemory: interp.DefaultMaxMemory}
}

func addEvalLimitFlags(fs *pflag.FlagSet, l *evalLimits) {
	*l = defaultEvalLimits()
	fs.Uint64Var(&l.maxSteps, "max-steps", l.maxSteps, "stop evaluating the runbook after `N` Starlark steps (0: no limit)")
	fs.Var(&l.maxMemory, "max-memory", "stop evaluating the runbook when its values take more memory than this, e.g. 512MiB, 2GiB (0: no limit)")
}

// apply sets the limits in opts. The Go runtime's soft memory limit (see
// tuneGC) is lowered to --max-memory when it is above, so that the
// collector frees garbage before the watchdog would count it.
func (l evalLimits) apply(opts *interp.Options) {
	opts.MaxSteps, opts.MaxMemory = l.maxSteps, uint64(l.maxMemory)
	if m := int64(l.maxMemory); m > 0 && debug.SetMemoryLimit(-1) > m {
		debug.SetMemoryLimit(m)
	}
}

// byteSize is a --max-memory value: plain bytes or a number with a binary
// (KiB, MiB, GiB, TiB) or decimal (KB, MB, GB, TB) unit.
type byteSize uint64

func (b *byteSize) String() string { return interp.FormatBytes(uint64(*b)) }
func (b *byteSize) Type() string   { return "SIZE" }

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	num, mult := strings.TrimSpace(s), 1.0
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || v*mult >= 1<<63 {
		return fmt.Errorf("%q: want a size such as 512MiB, 2GiB or a number of bytes", s)
	}
	*b = byteSize(v * mult)
	return nil
}

// interruptContext returns a context that SIGINT or SIGTERM cancels, for a
// command to stop its evaluation, planning or apply cleanly. After the first
// signal the default action is restored, so a second one kills ovnrun at
// once (a killed apply can still be resumed: docs/journal.md). stop
// releases the signals.
func interruptContext(stderr io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			signal.Stop(sigs)
			fmt.Fprintf(stderr, "ovnrun: %v: stopping (a second signal kills ovnrun at once)\n", s)
			cancel(errInterrupted)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// errInterrupted is the cause of a context interruptContext cancelled.
var errInterrupted = fmt.Errorf("interrupted")
