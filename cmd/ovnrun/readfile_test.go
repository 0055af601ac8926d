package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A NIC table read from JSON beside the runbook: the dry-run plan lists the
// file with the hash of its content, and a changed file changes the plan.
func TestDryRunListsFilesRead(t *testing.T) {
	dir := t.TempDir()
	runbook := filepath.Join(dir, "nics.star")
	table := filepath.Join(dir, "nics.json")
	write := func(path, s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(runbook, `ovn_nb("unix:/nonexistent")
ls1 = ls("ls1")
for nic in json.decode(read_file("nics.json")):
    lsp(ls1, nic["name"], mac = nic["mac"])
`)
	plan := func(nics string) string {
		t.Helper()
		write(table, nics)
		stdout, stderr, code := ovnrun(t, "--dry-run", "--offline", runbook)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		sum := sha256.Sum256([]byte(nics))
		if line := "  read " + table + " sha256:" + hex.EncodeToString(sum[:]) + "  (" + runbook + ":3:33)\n"; !strings.Contains(stdout, line) {
			t.Errorf("plan lacks %q:\n%s", line, stdout)
		}
		return stdout
	}
	first := plan(`[{"name": "vm1", "mac": "04:ac:10:ff:01:94"}]`)
	if !strings.Contains(first, "logical_switch_port vm1") {
		t.Errorf("plan lacks the NIC of the table:\n%s", first)
	}
	if second := plan(`[{"name": "vm1", "mac": "04:ac:10:ff:01:95"}]`); second == first {
		t.Errorf("a changed file left the plan as it was:\n%s", second)
	}
}
