package ovn_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/testdiff"
	"github.com/ovnrun/ovnrun/internal/topo"
	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

const h0Chassis = "dfe51fb0-0c76-437c-ad95-709b98998b4f"

// TestReadTopologyMatchesPlan builds the seed's topology in a real NB with
// the seed's own ovn-nbctl calls (no ovnrun apply), and checks that the
// graph read from it is the graph of runbooks/dgp.star's plan.
func TestReadTopologyMatchesPlan(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	for _, args := range nbctlScript(t, "testdata/dgp.nbctl") {
		if _, err := nb.NBCtl(args...); err != nil {
			t.Fatal(err)
		}
	}
	plan := evaluateSeed(t)
	want := topo.FromPlan(plan)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := ovn.ReadTopology(ctx, []string{nb.Sock}, topo.HostsFromPlan(plan))
	if err != nil {
		t.Fatal(err)
	}
	if wantSource := "NB " + nb.Sock; got.Source != wantSource {
		t.Errorf("source = %q, want %q", got.Source, wantSource)
	}
	got.Source = want.Source
	if !reflect.DeepEqual(got, want) {
		t.Errorf("topology from the NB differs from the plan's (-plan +nb):\n%s", testdiff.Lines(testdiff.JSON(want), testdiff.JSON(got)))
	}

	// Without a runbook: the same logical part, no hosts, chassis by name.
	bare, err := ovn.ReadTopology(ctx, []string{nb.Sock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	gw := bare.Router("lr1").Port("lr1-ls3").GatewayChassis
	if len(bare.Hosts) != 0 || len(gw) != 1 || gw[0].Chassis != (topo.Chassis{Name: h0Chassis}) {
		t.Errorf("NB alone: hosts %v, lr1-ls3 gateway chassis %+v; want no hosts and chassis %s", bare.Hosts, gw, h0Chassis)
	}
}

// TestReadTopologyReadOnlyColumns reads what the seed lacks: router ports
// patched to each other (peer) and the addresses northd assigns, columns
// ovnrun reads but never writes.
func TestReadTopologyReadOnlyColumns(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	for _, args := range [][]string{
		{"lr-add", "a"}, {"lr-add", "b"},
		{"lrp-add", "a", "a-b", "00:00:00:00:00:01", "10.0.0.1/30", "peer=b-a"},
		{"lrp-add", "b", "b-a", "00:00:00:00:00:02", "10.0.0.2/30", "peer=a-b"},
		{"ls-add", "s"}, {"lsp-add", "s", "p"},
		{"set", "Logical_Switch_Port", "p", `dynamic_addresses="0a:00:00:00:00:05 192.0.2.5"`},
	} {
		if _, err := nb.NBCtl(args...); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := ovn.ReadTopology(ctx, []string{nb.Sock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := got.RouterPort("a-b"); p == nil || p.Peer != "b-a" {
		t.Errorf("router port a-b = %+v, want peer b-a", p)
	}
	if p := got.Switch("s").Port("p"); p.DynamicAddresses != "0a:00:00:00:00:05 192.0.2.5" {
		t.Errorf("switch port p: dynamic addresses %q, want the ones set", p.DynamicAddresses)
	}
}

func TestReadTopologyUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	sock := "unix:" + filepath.Join(t.TempDir(), "none.sock")
	if _, err := ovn.ReadTopology(ctx, []string{sock}, nil); err == nil || !strings.Contains(err.Error(), sock) {
		t.Fatalf("ReadTopology of a missing server: %v, want an error naming %s", err, sock)
	}
}

// evaluateSeed evaluates runbooks/dgp.star with every builtin, from the
// repository root where runbook paths read as users type them.
func evaluateSeed(t *testing.T) *interp.Plan {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	reg := interp.NewRegistry()
	for _, register := range []func(*interp.Registry) error{ovn.Register, host.Register, virt.Register, check.Register} {
		if err := register(reg); err != nil {
			t.Fatal(err)
		}
	}
	p, err := interp.Evaluate("runbooks/dgp.star", nil, interp.Options{Registry: reg, Stdlib: stdlib.FS})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// nbctlScript reads ovn-nbctl invocations, one a line; '#' starts a comment
// line and double quotes group words into one argument.
func nbctlScript(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
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
