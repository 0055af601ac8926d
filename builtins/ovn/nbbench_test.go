package ovn

import (
	"testing"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// bulkRunbook declares 1,000 switches of 10 dynamic ports each: the bulk
// build scripts/bench-nb.sh applies.
var bulkRunbook = `
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

// BenchmarkPlanStage1000x10 measures the NB driver's share of a first apply
// of that runbook against an empty NB: comparing its 11,000 rows with the
// NB (Plan), finding nothing to prune (PlanPrune) and building their one
// transaction (Prepare), all of it on the critical path between evaluation
// and the commit.
func BenchmarkPlanStage1000x10(b *testing.B) {
	nb := daemons.StartNB(b)
	d := connect(b, nb.Sock)
	ctx := testCtx(b)
	p := evaluate(b, "test.star", bulkRunbook, nil)
	actions := p.Steps[0].Actions
	b.ReportAllocs()
	for b.Loop() {
		d.diffOf, d.diffs = nil, nil // compare afresh, as a new run does
		changes, err := d.Plan(ctx, actions)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.PlanPrune(ctx, actions); err != nil {
			b.Fatal(err)
		}
		d.Prepare(ctx, changes)
		if d.prepared == nil || len(d.prepared.applied) != 11000 {
			b.Fatal("Prepare staged no transaction of 11,000 rows")
		}
	}
}
