package main

import (
	"io"
	"runtime"
	"testing"

	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

// scaleRunbook builds 1,000 switches with 10 ports each in a Starlark loop,
// the size issue 2 sets its evaluation target at.
const scaleRunbook = `
def hx(n):
    h = "%x" % n
    return "0" + h if len(h) == 1 else h

def build():
    for i in range(1000):
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
