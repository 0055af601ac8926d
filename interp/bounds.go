package interp

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"go.starlark.net/starlark"
)

// DefaultMaxSteps bounds the Starlark steps of one evaluation unless the
// caller says otherwise (ovnrun --max-steps). Measured with
// BenchmarkEvaluate10000x10 (cmd/ovnrun): the 10,000 switches x 10 ports
// of a 110,000-action runbook take 8.2M steps (2.1 s). 100M is 12 times
// that, as the default memory limit is about 8 times what that runbook
// keeps; a bare loop that never ends stops after 0.5-0.8 s, one doing
// string work in each turn after about 7 s.
const DefaultMaxSteps = 100_000_000

// DefaultMaxMemory bounds the heap during evaluation unless the caller says
// otherwise (ovnrun --max-memory): the 110,000-action runbook above keeps
// 133 MiB.
const DefaultMaxMemory = 1 << 30

// watchEvery is how often the watchdog samples the heap. Reading
// runtime/metrics costs microseconds and does not stop the world; at the
// rate Starlark allocates (under 1 GB/s) a runbook overshoots the limit by
// at most a few MiB between samples.
const watchEvery = 5 * time.Millisecond

// heapMetric is the memory the watchdog compares with the limit: live
// objects and garbage not yet swept.
const heapMetric = "/memory/classes/heap/objects:bytes"

// bounds tracks the threads of one evaluation (a runbook and the files it
// loads, each a thread, nested) so that the step limit holds over all of
// them and the watchdog can cancel whichever is running.
type bounds struct {
	mu      sync.Mutex
	threads []*starlark.Thread // executing, outermost first
	done    uint64             // steps of the threads that finished
	stop    string             // why the evaluation was cancelled; "" if it was not
}

// startThread registers th before it executes, giving it what is left of
// the step budget.
func (ev *Eval) startThread(th *starlark.Thread) {
	b := &ev.bounds
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stop != "" {
		th.Cancel(b.stop)
	}
	if limit := ev.opts.MaxSteps; limit > 0 {
		// SetMaxExecutionSteps(0) would mean no limit.
		th.SetMaxExecutionSteps(max(ev.stepsLeftLocked(), 1))
		th.OnMaxSteps = func(*starlark.Thread) {
			ev.cancel(fmt.Sprintf("evaluation stopped after %d steps: is there a loop that does not end? (--max-steps raises the limit)", limit))
		}
	}
	b.threads = append(b.threads, th)
}

// endThread unregisters th once it has executed, and charges its steps to
// the file that loaded it, which is waiting in load() on this goroutine.
func (ev *Eval) endThread(th *starlark.Thread) {
	b := &ev.bounds
	b.mu.Lock()
	defer b.mu.Unlock()
	b.threads = b.threads[:len(b.threads)-1]
	b.done += th.ExecutionSteps()
	if n := len(b.threads); n > 0 && ev.opts.MaxSteps > 0 {
		parent := b.threads[n-1]
		parent.SetMaxExecutionSteps(parent.ExecutionSteps() + max(ev.stepsLeftLocked(), 1))
	}
}

// stepsLeftLocked is what remains of the step budget; b.mu is held.
func (ev *Eval) stepsLeftLocked() uint64 {
	used := ev.bounds.done
	for _, th := range ev.bounds.threads {
		used += th.ExecutionSteps()
	}
	return ev.opts.MaxSteps - min(used, ev.opts.MaxSteps)
}

// Steps returns the Starlark steps the evaluation has executed so far.
// Call it from the evaluating goroutine (a builtin, OnStart) or after.
func (ev *Eval) Steps() uint64 {
	ev.bounds.mu.Lock()
	defer ev.bounds.mu.Unlock()
	n := ev.bounds.done
	for _, th := range ev.bounds.threads {
		n += th.ExecutionSteps()
	}
	return n
}

// cancel stops the evaluation at the next Starlark step; the first reason
// given is the one reported. Safe from any goroutine.
func (ev *Eval) cancel(reason string) {
	b := &ev.bounds
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stop == "" {
		b.stop = reason
	}
	for _, th := range b.threads {
		th.Cancel(b.stop)
	}
}

// watch cancels the evaluation when ctx ends or the heap outgrows limit (0:
// no limit), until the returned function is called.
func (ev *Eval) watch(ctx context.Context, limit uint64) (stop func()) {
	if limit == 0 && ctx.Done() == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var tick <-chan time.Time
		if limit > 0 {
			t := time.NewTicker(watchEvery)
			defer t.Stop()
			tick = t.C
		}
		sample := []metrics.Sample{{Name: heapMetric}}
		heap := func() uint64 {
			metrics.Read(sample)
			return sample[0].Value.Uint64()
		}
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				ev.cancel("interrupted")
				return
			case <-tick:
			}
			if heap() <= limit {
				continue
			}
			// Garbage counts in the sample: only what survives a
			// collection is the runbook's.
			runtime.GC()
			if h := heap(); h > limit {
				ev.cancel(fmt.Sprintf("evaluation stopped: its values take %s, over the limit of %s (--max-memory raises it)", FormatBytes(h), FormatBytes(limit)))
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// FormatBytes renders n in the largest binary unit that keeps it at least 1,
// as --max-memory accepts it back: 512MiB, 1.5GiB, 100B.
func FormatBytes(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d%s", int64(v), units[i])
	}
	return fmt.Sprintf("%.1f%s", v, units[i])
}
