package lab

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// require stops a test that cannot build a lab: a failure under CI=true,
// which must have run scripts/install-deps.sh, a skip elsewhere.
func require(t *testing.T) {
	t.Helper()
	if missing := Requirements(); len(missing) > 0 {
		msg := "lab: needs " + strings.Join(missing, ", ") + " (run scripts/install-deps.sh as root)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// testBase points the lab's files at a directory of the test's own, so a
// test never touches a user's labs, and returns a lab name of its own.
func testBase(t *testing.T) string {
	t.Helper()
	t.Setenv("OVNRUN_LAB_DIR", t.TempDir())
	return fmt.Sprintf("t%d", os.Getpid())
}

var seedSpec = Spec{Runbook: "dgp.star", Hosts: []HostSpec{
	{Name: "h0", Address: "177.1.1.1", Ifaces: []string{"ens2f1"}},
	{Name: "h1", Address: "177.1.1.2"},
	{Name: "outside", Address: "hp-dl388g8-22", Ifaces: []string{"ens3f1np1"}},
}}

// TestUpDown builds a lab like the seed's, checks what a host looks like,
// and that lab down leaves no namespace, process or file behind.
func TestUpDown(t *testing.T) {
	require(t)
	spec := seedSpec
	spec.Name = testBase(t)
	t.Cleanup(func() { Down(spec.Name) })
	l, created, err := Up(spec, os.Stderr)
	if err != nil || !created {
		t.Fatalf("Up: %v, created %v", err, created)
	}
	if out, err := Output("ip", "-n", l.Hosts[0].NS, "-o", "-4", "addr", "show", "dev", Underlay); err != nil || !strings.Contains(out, "177.1.1.1/30") {
		t.Errorf("h0's underlay: %q, %v", out, err)
	}
	if out, err := Output("ip", "-n", l.Hosts[2].NS, "-o", "link", "show", "ens3f1np1"); err != nil || !strings.Contains(out, "UP") {
		t.Errorf("outside's ens3f1np1: %q, %v", out, err)
	}
	if got := l.Hosts[2].Address; got != "198.18.0.2" {
		t.Errorf("outside's lab address = %s, want 198.18.0.2", got)
	}
	// The control namespace, where ovnrun runs, routes to the hosts only.
	if out, err := Output("ip", "-n", l.CtlNS, "route", "get", "192.0.2.1"); err == nil {
		t.Errorf("the control namespace routes out of the lab: %s", out)
	}
	if out, err := Output("ip", "-n", l.CtlNS, "-4", "route", "show", "table", "all", "type", "unicast"); err != nil ||
		strings.Count(out, "dev underlay") != len(l.Hosts) || strings.Count(out, "\n") != len(l.Hosts) {
		t.Errorf("the control namespace's routes, want one per host:\n%s%v", out, err)
	}
	// Nothing of the lab is routed in the root namespace.
	if out, _ := Output("ip", "route", "get", "177.1.1.1"); strings.Contains(out, "underlay") || strings.Contains(out, "u0") {
		t.Errorf("the root namespace routes to the lab: %s", out)
	}
	// The same spec again reuses the lab; another refuses.
	if again, created, err := Up(spec, os.Stderr); err != nil || created || again.CtlNS != l.CtlNS {
		t.Errorf("second Up: %v, created %v", err, created)
	}
	other := spec
	other.Hosts = other.Hosts[:2]
	if _, _, err := Up(other, os.Stderr); err == nil || !strings.Contains(err.Error(), "lab down") {
		t.Errorf("Up with other hosts: %v", err)
	}
	if st := StatusText(l); !strings.Contains(st, "h0") || !strings.Contains(st, "sshd running") {
		t.Errorf("status:\n%s", st)
	}

	pids := Processes(spec.Name)
	if len(pids) < 3 {
		t.Errorf("processes in the lab: %v, want the sshd of each host", pids)
	}
	if err := Down(spec.Name); err != nil {
		t.Fatal(err)
	}
	CheckGone(t, spec.Name, pids)
}

// CheckGone fails t when anything of the lab named name is left: a
// namespace, its directory, one of pids.
func CheckGone(t testing.TB, name string, pids []int) {
	t.Helper()
	if left := Leftovers(name); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	for _, pid := range pids {
		if !Gone(pid) {
			t.Errorf("process %d is still running", pid)
		}
	}
}

func TestNameFor(t *testing.T) {
	for in, want := range map[string]string{
		"runbooks/dgp.star": "dgp",
		"l3gateway.star":    "l3gateway",
		"/x/My-Lab.v2.star": "my_lab_v2",
		"a-very-long-runbook-name-indeed-longer.star": "a_very_long_runbook_name_indeed_",
	} {
		if got := NameFor(in); got != want {
			t.Errorf("NameFor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAddresses(t *testing.T) {
	for _, tc := range []struct {
		hosts []string
		ctl   string
		want  []string
	}{
		{[]string{"177.1.1.1", "177.1.1.2", "hp-dl388g8-22"}, "198.18.0.1", []string{"177.1.1.1/30", "177.1.1.2/30", "198.18.0.2/32"}},
		{[]string{"10.0.0.5"}, "198.18.0.1", []string{"10.0.0.5/32"}},
		// .3 would be the broadcast address of the /30 that holds them.
		{[]string{"177.1.1.1", "177.1.1.2", "177.1.1.3"}, "198.18.0.1", []string{"177.1.1.1/29", "177.1.1.2/29", "177.1.1.3/29"}},
		// .4 would be the network address of the /30 of .4 and .6.
		{[]string{"177.1.1.4", "177.1.1.6"}, "198.18.0.1", []string{"177.1.1.4/29", "177.1.1.6/29"}},
		{[]string{"177.1.1.2", "177.1.1.3"}, "198.18.0.1", []string{"177.1.1.2/31", "177.1.1.3/31"}},
		{[]string{"198.18.0.1", "10.0.0.5", "x"}, "198.18.0.2", []string{"198.18.0.1/0", "10.0.0.5/0", "198.18.0.3/32"}},
	} {
		var s Spec
		for i, a := range tc.hosts {
			s.Hosts = append(s.Hosts, HostSpec{Name: fmt.Sprint("h", i), Address: a})
		}
		ctl, hosts := addresses(s)
		var got []string
		for _, p := range hosts {
			got = append(got, p.String())
		}
		if ctl != tc.ctl || strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("addresses(%v) = %s, %v; want %s, %v", tc.hosts, ctl, got, tc.ctl, tc.want)
		}
	}
}
