package virt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPruneAndLegacyOwner checks, against libvirt's test driver, what a
// run that prunes finds: a VM of this owner that no vm() declares is
// deleted (its note says why); a VM tagged with the legacy owner (the base
// name older ovnrun wrote) is this runbook's while declared, and is never
// listed otherwise.
func TestPruneAndLegacyOwner(t *testing.T) {
	l := newLab(t, "test:///default")
	kernel := filepath.Join(t.TempDir(), "vmlinuz")
	if err := os.WriteFile(kernel, []byte("not really a kernel"), 0o644); err != nil {
		t.Fatal(err)
	}
	vm := func(name string) string {
		return fmt.Sprintf(`vm(%q, host = h0, kernel = %q, cmdline = "console=ttyS0", memory_mib = 128)`, name, kernel)
	}
	legacy := func(c *Config) { c.Owner = "lab.star" }
	if _, err := run(t, l.driver(t, legacy), evaluate(t, vm("old"))); err != nil {
		t.Fatal(err)
	}
	now := func(c *Config) { c.Owner, c.Legacy = "lab.star@0123456789ab", "lab.star" }
	if cs, err := run(t, l.driver(t, now), evaluate(t, vm("old")+"\n"+vm("new"))); err != nil || ops(cs) != "unchanged vm/h0/old; create vm/h0/new" {
		t.Fatalf("the legacy VM declared: %s, %v", ops(cs), err)
	}

	// Neither is declared any more: only the owner's own is deleted.
	cs, err := l.driver(t, now).PlanDestroy(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ops(cs) != "delete vm/h0/new" || !strings.Contains(cs[0].Note, "no longer declared") {
		t.Errorf("undeclared VMs: %s %+v", ops(cs), cs)
	}
	// Declared, the legacy VM is this runbook's to destroy.
	p := evaluate(t, vm("old"))
	if cs, err = l.driver(t, now).PlanDestroy(context.Background(), p.Steps[0].Actions); err != nil || ops(cs) != "delete vm/h0/new; delete vm/h0/old" {
		t.Errorf("destroy with the legacy VM declared: %s, %v", ops(cs), err)
	}
}
