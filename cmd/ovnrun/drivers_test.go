package main

import (
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/interp"
)

// TestNBStarter finds the step that brings the NB up, among the steps up
// to the first one with NB actions.
func TestNBStarter(t *testing.T) {
	p := evalRunbook(t, "runbooks/dgp.star")
	for _, tc := range []struct {
		only []string
		want string
	}{
		{nil, "server"},            // vms, compute, server (central(h0)), topology...
		{[]string{"topology"}, ""}, // a run that does not start the NB
		{[]string{"server", "topology"}, "server"},
		{[]string{"compute"}, ""}, // no NB action at all
	} {
		steps, err := p.Select(tc.only, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := ovn.NBStarter(steps); got != tc.want {
			t.Errorf("ovn.NBStarter(%s) = %q, want %q", strings.Join(tc.only, ","), got, tc.want)
		}
	}
	// A step that both starts the NB and fills it counts: its lanes run at
	// once, and the NB driver retries until the NB answers.
	src := `h0 = host("h0", address = "10.0.0.1")
ovn_nb("tcp:10.0.0.1:6641")
def all():
    service(h0, "ovn-central")
    ls("ls1")
step("all", all)
`
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	p2, err := interp.Evaluate("one.star", []byte(src), interp.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if got := ovn.NBStarter(p2.Steps); got != "all" {
		t.Errorf("NBStarter = %q, want all", got)
	}
}
