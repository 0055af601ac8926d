package testtime

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// recorder keeps what Within reports instead of failing the test.
type recorder struct {
	testing.TB
	errors, logs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}
func (r *recorder) Logf(format string, a ...any) { r.logs = append(r.logs, fmt.Sprintf(format, a...)) }

func TestWithin(t *testing.T) {
	n := 0
	c := Measure(t, "a short sleep", func() { n++; time.Sleep(time.Millisecond) })
	if n != runs || c.d < time.Millisecond || c.Margin() != Slack*c.d {
		t.Fatalf("after Measure: %d runs, cost %s, margin %s", n, c.d, c.Margin())
	}
	// However cheap the operation, the margin allows for the scheduler.
	if free := Measure(t, "nothing", func() {}); free.d < time.Millisecond {
		t.Errorf("cost of nothing = %s, want at least a 1 ms sleep's", free.d)
	}
	r := &recorder{TB: t}
	if !c.Within(r, "in time", time.Second, time.Second) || len(r.errors) != 0 ||
		len(r.logs) != 1 || !strings.Contains(r.logs[0], "in time: 1s, bound ") {
		t.Errorf("at the limit: errors %q, logs %q", r.errors, r.logs)
	}
	if n != runs {
		t.Errorf("measured again although within the bound: %d runs", n)
	}
	// A hang until a much longer timeout fails, after measuring again.
	r = &recorder{TB: t}
	if c.Within(r, "hung", time.Minute, time.Second) || len(r.errors) != 1 ||
		!strings.Contains(r.errors[0], "hung: 1m0s, bound ") || !strings.Contains(r.errors[0], "a short sleep") {
		t.Errorf("far over the limit: errors %q, logs %q", r.errors, r.logs)
	}
	if n != 2*runs {
		t.Errorf("not measured again before failing: %d runs", n)
	}
}
