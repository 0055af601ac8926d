package topo

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// TestReadNBMatchesPlan builds the seed's topology in a real NB with the
// seed's own ovn-nbctl calls (no ovnrun apply), and checks that the graph
// read from it is the graph of runbooks/dgp.star's plan.
func TestReadNBMatchesPlan(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	for _, args := range nbctlScript(t, "testdata/dgp.nbctl") {
		if _, err := nb.NBCtl(args...); err != nil {
			t.Fatal(err)
		}
	}
	plan := evaluate(t, "runbooks/dgp.star", nil)
	want := FromPlan(plan)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := ReadNB(ctx, []string{nb.Sock}, HostsFromPlan(plan))
	if err != nil {
		t.Fatal(err)
	}
	if wantSource := "NB " + nb.Sock; got.Source != wantSource {
		t.Errorf("source = %q, want %q", got.Source, wantSource)
	}
	got.Source = want.Source
	if !reflect.DeepEqual(got, want) {
		t.Errorf("topology from the NB differs from the plan's (-plan +nb):\n%s", lineDiff(jsonText(want), jsonText(got)))
	}

	// Without a runbook: the same logical part, no hosts, chassis by name.
	bare, err := ReadNB(ctx, []string{nb.Sock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	gw := bare.Router("lr1").Port("lr1-ls3").GatewayChassis
	if len(bare.Hosts) != 0 || len(gw) != 1 || gw[0].Chassis != (Chassis{Name: h0Chassis}) {
		t.Errorf("NB alone: hosts %v, lr1-ls3 gateway chassis %+v; want no hosts and chassis %s", bare.Hosts, gw, h0Chassis)
	}
}

func TestReadNBUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	sock := "unix:" + filepath.Join(t.TempDir(), "none.sock")
	if _, err := ReadNB(ctx, []string{sock}, nil); err == nil || !strings.Contains(err.Error(), sock) {
		t.Fatalf("ReadNB of a missing server: %v, want an error naming %s", err, sock)
	}
}

// nbctlScript reads ovn-nbctl invocations, one a line; '#' starts a comment
// line and double quotes group words into one argument.
func nbctlScript(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "internal/topo", path))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for line := range strings.SplitSeq(string(data), "\n") {
		if line = strings.TrimSpace(line); line == "" || line[0] == '#' {
			continue
		}
		var args []string
		for i, part := range strings.Split(line, `"`) {
			if i%2 == 1 {
				args = append(args, part)
			} else {
				args = append(args, strings.Fields(part)...)
			}
		}
		out = append(out, args)
	}
	return out
}
