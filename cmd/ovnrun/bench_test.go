package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

// scaleRunbook builds 1,000 switches with 10 ports each in a Starlark loop,
// the size issue 2 sets its evaluation target at.
var scaleRunbook = scaleRunbookOf(1000)

// scaleRunbookOf builds n switches with 10 ports each.
func scaleRunbookOf(n int) string {
	return strings.Replace(scaleRunbookFormat, "NSWITCHES", fmt.Sprint(n), 1)
}

const scaleRunbookFormat = `
def hx(n):
    h = "%x" % n
    return "0" + h if len(h) == 1 else h

def build():
    for i in range(NSWITCHES):
        s = ls("ls%d" % i, subnet = "10.%d.%d.0/24" % (i // 256, i % 256))
        for j in range(10):
            lsp(s, "ls%d-p%d" % (i, j), mac = "0a:00:00:%s:%s:%s" % (hx(i // 256), hx(i % 256), hx(j)), ips = "dynamic")
step("scale", build)
`

// BenchmarkEvaluatePlan1000x10 measures evaluating that runbook and planning
// it offline (evaluate, plan, render the text plan). Besides time and
// allocation per op it reports heap-MB: the heap in use right after one run,
// which is what evaluation keeps alive.
func BenchmarkEvaluatePlan1000x10(b *testing.B) {
	reg, err := newRegistry()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var heap uint64
	for b.Loop() {
		plan, err := interp.Evaluate("scale.star", []byte(scaleRunbook), interp.Options{Registry: reg, Stdlib: stdlib.FS})
		if err != nil {
			b.Fatal(err)
		}
		if plan.Len() != 11000 {
			b.Fatalf("plan has %d actions, want 11000", plan.Len())
		}
		if err := interp.WriteText(io.Discard, plan, interp.OfflineChanges(plan.Steps)); err != nil {
			b.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = max(heap, ms.HeapInuse)
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}

// BenchmarkEvaluate10000x10 measures what a 110,000-action runbook (10,000
// switches x 10 ports) needs of the evaluation bounds: the Starlark steps
// it executes (steps) and the heap it keeps (heap-MB), which
// interp.DefaultMaxSteps and interp.DefaultMaxMemory leave room for.
func BenchmarkEvaluate10000x10(b *testing.B) {
	reg, err := newRegistry()
	if err != nil {
		b.Fatal(err)
	}
	src := []byte(scaleRunbookOf(10000))
	var steps, heap uint64
	for b.Loop() {
		var ev *interp.Eval
		plan, err := interp.Evaluate("scale.star", src, interp.Options{
			Registry: reg, Stdlib: stdlib.FS, MaxSteps: interp.DefaultMaxSteps, MaxMemory: interp.DefaultMaxMemory,
			OnStart: func(e *interp.Eval) { ev = e },
		})
		if err != nil {
			b.Fatal(err)
		}
		if plan.Len() != 110000 {
			b.Fatalf("plan has %d actions, want 110000", plan.Len())
		}
		steps = ev.Steps()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = max(heap, ms.HeapInuse)
	}
	b.ReportMetric(float64(steps), "steps")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}
