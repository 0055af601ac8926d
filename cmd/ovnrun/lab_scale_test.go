package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/labhost"
)

// TestLabScale keeps runbooks/scale.star working: a central host and four
// hypervisors with two namespace VMs each, from nothing to a verified ring
// of pings (each hypervisor's VM on lsa to the next one's on lsb, across
// the router and a tunnel). scripts/bench-lab.sh runs it at 8 to 128.
func TestLabScale(t *testing.T) {
	labhost.RequireLab(t)
	path, name := labRunbook(t, "scale")
	out, took := ovnrunProcess(t, "--lab", "-D", "n=4", path)
	checkPings(t, out, 4)
	for i := range 4 {
		if want := fmt.Sprintf("ping hv%d/a -> hv%d_b: run (", i, (i+1)%4); !strings.Contains(out, want) {
			t.Errorf("no %q:\n%s", want, out)
		}
	}
	t.Logf("runbooks/scale.star -D n=4 from nothing to verified pings: %s", took.Round(10*time.Millisecond))
	// The underlay carries IPv4 only: an IPv6 link-local address on br-lab
	// floods every other host's ovs-vswitchd with its DAD, router
	// solicitations and MLD reports (docs/speed.md, "Lab at scale").
	stdout, stderr, code := ovnrun(t, "lab", "exec", name, "hv0", "--", "ip", "-6", "-o", "addr", "show", "dev", "br-lab")
	if code != 0 || stdout != "" {
		t.Errorf("hv0's br-lab: exit %d, IPv6 addresses %q, stderr %q; want none", code, stdout, stderr)
	}
	checkDown(t, path, name)
}
