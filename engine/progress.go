package engine

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

// What ApplyChanges prints besides the steps: one line per batch of a host,
// with what a command found, and the timing summary at the end.

// timings collects how long each step of an apply took, for the summary
// ApplyChanges prints at the end, whether the apply finished or failed:
// where the time went is what a lab engineer waiting on a run asks first.
type timings struct {
	start time.Time
	steps []stepTiming
	all   []interp.Change
	done  bool // every step was applied
}

type stepTiming struct {
	name string
	took time.Duration
	what string
}

// add records a step; done are its changes with the ops applied.
func (t *timings) add(step string, took time.Duration, what string, done []interp.Change) {
	t.steps = append(t.steps, stepTiming{step, took, what})
	t.all = append(t.all, done...)
}

// write prints the table of steps and the closing line.
func (t *timings) write(w io.Writer) {
	width := len("total")
	for _, s := range t.steps {
		width = max(width, len(s.name))
	}
	var b strings.Builder
	b.WriteString("\nTiming:\n")
	for _, s := range t.steps {
		fmt.Fprintf(&b, "  %-*s %9s  %s\n", width, s.name, roundDuration(s.took), s.what)
	}
	total := roundDuration(time.Since(t.start))
	fmt.Fprintf(&b, "  %-*s %9s\n", width, "total", total)
	if t.done {
		fmt.Fprintf(&b, "Applied %d step(s) in %s: %s.\n", len(t.steps), total, countLine(t.all))
	} else {
		fmt.Fprintf(&b, "Stopped after %d step(s), in %s.\n", len(t.steps), total)
	}
	io.WriteString(w, b.String())
}

// batchLine describes a batch of driver for the progress output; done are
// its changes with the ops applied.
func batchLine(driver string, done []interp.Change) string {
	if len(done) == 1 {
		m := done[0].Action.Meta()
		return fmt.Sprintf("%s %s: %s", m.Kind, m.Name, done[0].Op)
	}
	return fmt.Sprintf("%s: %s", driver, countLine(done))
}

// lockedWriter serialises progress lines from concurrent lanes.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// countLine says what a step did: "2 created, 1 updated, 5 unchanged".
func countLine(changes []interp.Change) string {
	s := interp.Summarize([]interp.StepChanges{{Changes: changes}})
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{s.Add, "created"}, {s.Change, "updated"}, {s.Destroy, "destroyed"}, {s.Run, "run"}, {s.Unchanged, "unchanged"}, {s.Skip, "skipped"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) == 0 {
		return "no actions"
	}
	return strings.Join(parts, ", ")
}

func roundDuration(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}
