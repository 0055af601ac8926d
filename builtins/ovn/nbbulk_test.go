package ovn

import (
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/interp"
)

// bulkTopology builds, in its first step, more rows than bulkRows on an
// empty NB, and in its second uses them: a port on a switch of the first.
const bulkTopology = `
def hx(n):
    h = "%x" % n
    return "0" + h if len(h) == 1 else h
def build():
    for i in range(100):
        s = ls("ls%d" % i, subnet = "10.0.%d.0/24" % i)
        for j in range(10):
            lsp(s, "ls%d-p%d" % (i, j), mac = "0a:00:00:00:%s:%s" % (hx(i), hx(j)), ips = "dynamic")
def more():
    lsp("ls0", "late", mac = "0a:00:00:01:00:01")
step("build", build)
step("more", more)
`

// TestBulkStepReadsTheNBAgain: a step that builds most of the NB closes the
// driver's cache before its transaction (nbtxn.go bulk); the next step
// reads the NB again, sees the first step's rows, and changes only its own.
func TestBulkStepReadsTheNBAgain(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	p := evaluate(t, "test.star", bulkTopology, nil)
	before := d.replica
	sc := apply(t, d, p)
	if s := interp.Summarize(sc); s.Add != 1101 {
		t.Errorf("plan: %+v, want 1101 to add", s)
	}
	if d.replica == before {
		t.Error("the cache of the NB was kept through a bulk transaction")
	}
	if n := d.Transactions(); n != 2 {
		t.Errorf("%d transactions, want one per step", n)
	}
	if got := nbctl(t, nb, "--bare", "--columns=name", "find", "Logical_Switch_Port", "name=late"); got != "late" {
		t.Errorf("the second step's port: %q", got)
	}
	if s := interp.Summarize(plan(t, d, p)); s.Line() != "No changes." {
		t.Errorf("second plan: %+v\n%s", s, planText(t, p, plan(t, d, p)))
	}
	if got := len(strings.Fields(nbctl(t, nb, "--bare", "--columns=_uuid", "list", "Logical_Switch_Port"))); got != 1001 {
		t.Errorf("%d ports, want 1001", got)
	}
}
