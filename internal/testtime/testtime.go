// Package testtime gives tests time bounds measured on the machine that runs
// them instead of constants. A test that checks "X stops within its timeout
// T" allows T plus a margin: Slack times what an operation like X, without
// the fault, costs here and now. A loaded machine measures a higher cost and
// gets a wider margin; a hang until a much longer timeout still fails.
//
// It imports the standard library only.
package testtime

import (
	"testing"
	"time"
)

// Slack is how many times the measured cost the margin allows. The work
// after a timeout (killing, closing, reporting) is a few operations like
// the measured one, and their cost varies several-fold on a loaded machine.
// With a CPU hog beside the tests on 2 cores, the overruns of the tests
// that use it stayed within 1.2 times the cost (go test -v, lines "bound").
const Slack = 20

// runs is how many times Measure runs the operation; the slowest counts.
const runs = 5

// Cost is what an operation costs on this machine, measured by Measure.
type Cost struct {
	what string
	op   func()
	d    time.Duration
}

// Measure runs op a few times and keeps the slowest run as the cost of
// what (a short description, as "a command over SSH").
func Measure(t testing.TB, what string, op func()) *Cost {
	t.Helper()
	c := &Cost{what: what, op: op}
	c.measure()
	return c
}

// measure keeps the slowest run of op, and never less than the slowest
// return of a 1 ms sleep: the scheduler's delay here, which any operation
// may meet, however cheap.
func (c *Cost) measure() {
	for range runs {
		start := time.Now()
		c.op()
		c.d = max(c.d, time.Since(start))
		start = time.Now()
		time.Sleep(time.Millisecond)
		c.d = max(c.d, time.Since(start))
	}
}

// Margin is the time allowed beyond a timeout: Slack times the cost.
func (c *Cost) Margin() time.Duration { return Slack * c.d }

// Within reports whether took is at most limit plus the margin, and fails t
// with a message naming what, took, limit and the margin if not. Before
// failing it measures the cost again, since the machine may have been
// busier while the operation ran than before it; the higher cost counts.
func (c *Cost) Within(t testing.TB, what string, took, limit time.Duration) bool {
	t.Helper()
	if took > limit+c.Margin() {
		c.measure()
	}
	bound := limit + c.Margin()
	msg := "%s: %s, bound %s = %s + %d x %s (the slowest of %d runs of %s, or of a 1 ms sleep)"
	args := []any{what, took.Round(time.Millisecond), bound.Round(time.Millisecond), limit, Slack, c.d.Round(10 * time.Microsecond), runs, c.what}
	if took > bound {
		t.Errorf(msg, args...)
		return false
	}
	t.Logf(msg, args...)
	return true
}
