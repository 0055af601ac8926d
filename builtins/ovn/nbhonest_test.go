package ovn

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/interp"
)

// TestAppliedOpsAreWhatTheNBHolds applies a plan made on an empty NB after
// another run has made its rows, one with another MAC: the step reports
// that port updated and every other row unchanged, as does the journal,
// not the plan's "create".
func TestAppliedOpsAreWhatTheNBHolds(t *testing.T) {
	nb := daemons.StartNB(t)
	d := connect(t, nb.Sock)
	stale := plan(t, d, evaluate(t, "test.star", topology, nil))
	if s := interp.Summarize(stale); s.Add != len(stale[0].Changes) {
		t.Fatalf("on an empty NB the plan is %+v, want every row created", s)
	}
	apply(t, d, evaluate(t, "test.star", topology, map[string]string{"vm1_mac": "04:ac:10:ff:01:99"}))

	j, err := engine.OpenJournal(filepath.Join(t.TempDir(), "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := j.Begin("test.star"); err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	if err := engine.ApplyChanges(engine.WithRecorder(testCtx(t), j), drivers(d), stale, &progress); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("1 updated, %d unchanged", len(stale[0].Changes)-1)
	if p := progress.String(); !strings.Contains(p, "Step topology: "+want+" (") || !strings.Contains(p, ": "+want+".\n") {
		t.Errorf("progress lacks %q:\n%s", want, p)
	}
	done := j.Completed()
	for id, op := range map[string]interp.Op{"logical_switch_port/vm1": interp.OpUpdate, "logical_switch/ls1": interp.OpUnchanged} {
		if got := done[id].Op; got != op {
			t.Errorf("journal: %s op %q, want %q", id, got, op)
		}
	}
	if got := nbctl(t, nb, "lsp-get-addresses", "vm1"); got != "04:ac:10:ff:01:94 dynamic" {
		t.Errorf("addresses after apply = %q", got)
	}
}
