package ovn

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/interp"
)

// TestLazyNB plans against an NB that is not up, as the seed's topology
// step is planned before its server step starts the NB, then applies while
// the NB comes up: the driver connects when the step is applied and the
// next plan finds everything in place.
func TestLazyNB(t *testing.T) {
	nb := daemons.StartNB(t)
	ctx := context.Background()
	// The endpoint exists only once the "server step" has run: a link to
	// the NB's socket, made while Apply retries.
	sock := filepath.Join(t.TempDir(), "nb.sock")
	cfg := NBConfig{Endpoints: []string{"unix:" + sock}, Owner: "lab.star", ConnectTimeout: 10 * time.Second}
	if _, err := ConnectNBOrLater(ctx, cfg, ""); err == nil {
		t.Fatal("a run that does not start the NB connected to nothing")
	}
	d, err := ConnectNBOrLater(ctx, cfg, "server")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, ok := d.(*LazyNB); !ok {
		t.Fatalf("driver is a %T, want *LazyNB", d)
	}
	p := evaluate(t, "lab.star", topology, nil)
	actions := p.Steps[0].Actions
	cs, err := d.Plan(ctx, actions)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Op != interp.OpCreate || !strings.Contains(c.Note, "NB not reachable yet: it is started by step server; planned as if empty") {
			t.Fatalf("planned %s %s: %s (%s)", c.Action.Meta().Kind, c.Action.Meta().Name, c.Op, c.Note)
		}
	}
	if err := d.(interp.Preflighter).Preflight(ctx, cs); err != nil {
		t.Fatal(err)
	}
	// Apply's first attempt finds the test listening on the endpoint, which
	// hangs up at once; only then does the NB's socket take its place, so
	// Apply connects by trying again.
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	linked := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		ln.Close() // removes sock
		if err == nil {
			c.Close()
			err = os.Symlink(strings.TrimPrefix(nb.Sock, "unix:"), sock)
		}
		linked <- err
	}()
	if _, err := d.Apply(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if err := <-linked; err != nil {
		t.Fatal(err)
	}
	cs, err = d.Plan(ctx, actions)
	if err != nil {
		t.Fatal(err)
	}
	if s := interp.Summarize([]interp.StepChanges{{Changes: cs}}); s.Line() != "No changes." {
		t.Errorf("plan after apply: %s", s.Line())
	}
}
