package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/labhost"
)

// savedHostRunbook declares host settings and a command on one host (a
// host's ping() needs a ping binary this machine may lack: the checks are
// read back by TestSavedActionsRoundTrip); -D bridge=no drops the bridge (for a prune).
const savedHostRunbook = `
h0 = host("h0", address = "177.1.1.1")

def conf():
    ovs_external_ids(h0, {"ovn-encap-type": "geneve"})
    if var("bridge", "yes") == "yes":
        bridge(h0, "br-saved", ports = ["ens2f1"])
    ip_address(h0, "203.0.113.1/24", dev = "ens3")
    marker = var("marker", "")
    sh(h0, ["touch", marker], creates = marker)

step("conf", conf)
`

// TestSavedPlanOnHosts saves plans of host settings and a command against a namespace host over SSH, and applies them from the file alone:
// the host changes only when applied; a second plan saved from the same
// state is refused naming its first stale action; a saved prune removes
// the bridge the runbook no longer declares; a saved destroy undoes the
// rest.
func TestSavedPlanOnHosts(t *testing.T) {
	labhost.RequireLab(t)
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t) // a destroy also deletes the runbook's NB rows
	l := labhost.New(t)
	h := l.AddHost("h0", labhost.WithOVS(), labhost.WithInterfaces("ens2f1", "ens3"))
	l.WriteKnownHosts("known_hosts")
	hostDial = l.Dial
	t.Cleanup(func() { hostDial = nil })
	dir := t.TempDir()
	inventory, runbook, marker := filepath.Join(dir, "inventory.json"), filepath.Join(dir, "saved.star"), filepath.Join(dir, "marker")
	for path, text := range map[string]string{inventory: string(l.Inventory(nil)), runbook: savedHostRunbook} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reach := []string{"--inventory", inventory, "--ssh-config", "none", "--journal", filepath.Join(dir, "journal")}
	save := func(name string, args ...string) string {
		t.Helper()
		plan := filepath.Join(dir, name)
		args = append(append(append([]string{"--dry-run", "--out", plan, "-D", "marker=" + marker, "--nb", nb.Sock}, reach...), args...), runbook)
		stdout, stderr, code := ovnrun(t, args...)
		if code != exitOK {
			t.Fatalf("saving %s: exit %d\n%s%s", name, code, stdout, stderr)
		}
		return plan
	}
	apply := func(plan string) (string, int) {
		t.Helper()
		stdout, stderr, code := ovnrun(t, append(append([]string{"apply"}, reach...), plan)...)
		return stdout + stderr, code
	}
	exec := func(name string, args ...string) string {
		t.Helper()
		out, _ := h.Exec(name, args...)
		return out
	}
	state := func() string {
		t.Helper()
		_, err := os.Stat(marker)
		return strings.Join([]string{
			strings.TrimSpace(exec("ovs-vsctl", "--if-exists", "get", "Open_vSwitch", ".", "external_ids:ovn-encap-type")),
			strings.TrimSpace(exec("ovs-vsctl", "list-ports", "br-saved")),
			map[bool]string{true: "address", false: "no address"}[strings.Contains(exec("ip", "-o", "addr", "show", "dev", "ens3"), "203.0.113.1/24")],
			map[bool]string{true: "marker", false: "no marker"}[err == nil],
		}, " ")
	}

	create, again := save("create.json"), save("again.json")
	if got := state(); got != "  no address no marker" {
		t.Fatalf("--dry-run --out changed the host: %q", got)
	}
	if err := os.WriteFile(runbook, []byte("this is not starlark\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := apply(create); code != exitOK || !strings.Contains(out, "sh h0/1: run") {
		t.Fatalf("apply %s: exit %d:\n%s", create, code, out)
	}
	if got, want := state(), "geneve ens2f1 address marker"; got != want {
		t.Errorf("after apply: %q, want %q", got, want)
	}
	// Saved from the same state, applied after the first: stale.
	if out, code := apply(again); code != exitFailure || !strings.Contains(out, "ovs_external_ids h0: saved as create, now unchanged") ||
		!strings.Contains(out, "nothing was changed") {
		t.Errorf("apply of a stale %s: exit %d, want %d naming ovs_external_ids h0:\n%s", again, code, exitFailure, out)
	}

	if err := os.WriteFile(runbook, []byte(savedHostRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	prune := save("prune.json", "-D", "bridge=no")
	if got, want := state(), "geneve ens2f1 address marker"; got != want {
		t.Errorf("after saving a prune: %q, want %q", got, want)
	}
	out, code := apply(prune)
	if code != exitOK || !strings.Contains(out, "br-saved") {
		t.Fatalf("apply %s: exit %d:\n%s", prune, code, out)
	}
	if got, want := state(), "geneve  address marker"; got != want {
		t.Errorf("after the saved prune: %q, want %q", got, want)
	}

	destroy := save("destroy.json", "-D", "bridge=no", "--destroy")
	if out, code := apply(destroy); code != exitOK || !strings.Contains(out, "ip_address h0/ens3 203.0.113.1/24") {
		t.Fatalf("apply %s: exit %d:\n%s", destroy, code, out)
	}
	if got, want := state(), "  no address marker"; got != want {
		t.Errorf("after the saved destroy: %q, want %q", got, want)
	}
}
