package main

import (
	"encoding/json"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// destroyPlan is the part of a JSON destroy plan these tests compare.
type destroyPlan struct {
	Steps []struct {
		Actions []struct {
			ID     string         `json:"id"`
			Op     string         `json:"op"`
			Fields map[string]any `json:"fields"`
		} `json:"actions"`
	} `json:"steps"`
}

func parseDestroyPlan(t *testing.T, out string) destroyPlan {
	t.Helper()
	var p destroyPlan
	if err := json.Unmarshal([]byte(out), &p); err != nil || len(p.Steps) != 1 {
		t.Fatalf("destroy plan: %v, %d steps:\n%s", err, len(p.Steps), out)
	}
	return p
}

// nbRows is every row of every table of the NB, keyed by "TABLE UUID",
// with the row as ovn-nbctl lists it in JSON.
func nbRows(t *testing.T, nb *daemons.Server) map[string]string {
	t.Helper()
	out, err := exec.Command("ovsdb-client", "list-tables", nb.Sock).Output()
	if err != nil {
		t.Fatalf("ovsdb-client list-tables: %v", err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(out), "\n")[2:] { // after the heading
		table := strings.TrimSpace(line)
		if table == "" {
			continue
		}
		list, err := nb.NBCtl("--format=json", "list", table)
		if err != nil {
			t.Fatal(err)
		}
		var l struct {
			Headings []string `json:"headings"`
			Data     [][]any  `json:"data"`
		}
		if err := json.Unmarshal([]byte(list), &l); err != nil {
			t.Fatal(err)
		}
		for _, row := range l.Data {
			uuid := row[slices.Index(l.Headings, "_uuid")].([]any)[1].(string)
			b, _ := json.Marshal(row)
			rows[table+" "+uuid] = string(b)
		}
	}
	return rows
}

// TestDestroyDryRunMatchesDestroy applies a runbook's topology to a real NB
// beside a row of another tool, and checks that a destroy dry-run changes
// nothing and lists exactly the rows the destroy then deletes, and that the
// offline destroy plan lists the same deletions in the same order.
func TestDestroyDryRunMatchesDestroy(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl", "ovsdb-client")
	for _, runbook := range []string{"runbooks/dgp.star", "runbooks/dgp-dnat.star"} {
		t.Run(runbook, func(t *testing.T) {
			nb := daemons.StartNB(t)
			p := evalRunbook(t, runbook)
			// The topology step alone: the runbook's VMs live on hosts
			// this test does not have.
			only := []string{"topology"}
			lf := liveFlags{nb: nb.Sock, timeout: 5 * time.Second}
			if _, stderr, code := live(t, lf, false, p, only, "text"); code != exitOK {
				t.Fatalf("apply: exit %d: %s", code, stderr)
			}
			if _, err := nb.NBCtl("ls-add", "foreign"); err != nil {
				t.Fatal(err)
			}

			lf.destroy = true
			before := nbRows(t, nb)
			stdout, stderr, code := live(t, lf, true, p, only, "json")
			if code != exitOK {
				t.Fatalf("destroy dry-run: exit %d: %s", code, stderr)
			}
			if after := nbRows(t, nb); !maps.Equal(before, after) {
				t.Errorf("the destroy dry-run changed the NB: %d rows before, %d after", len(before), len(after))
			}
			var listed, liveIDs []string
			for _, a := range parseDestroyPlan(t, stdout).Steps[0].Actions {
				if a.Op != "delete" {
					t.Errorf("%s: op %s, want delete", a.ID, a.Op)
				}
				listed = append(listed, a.Fields["table"].(string)+" "+a.Fields["_uuid"].(string))
				liveIDs = append(liveIDs, a.ID)
			}

			if _, stderr, code := live(t, lf, false, p, only, "text"); code != exitOK {
				t.Fatalf("destroy: exit %d: %s", code, stderr)
			}
			after := nbRows(t, nb)
			var removed []string
			for k := range before {
				if _, ok := after[k]; !ok {
					removed = append(removed, k)
				}
			}
			slices.Sort(removed)
			slices.Sort(listed)
			if !slices.Equal(listed, removed) {
				t.Errorf("the dry-run listed %d rows to delete, the destroy deleted %d:\nlisted  %q\nremoved %q", len(listed), len(removed), listed, removed)
			}
			if out, _ := nb.NBCtl("--bare", "--columns=name", "list", "Logical_Switch"); strings.TrimSpace(out) != "foreign" {
				t.Errorf("after destroy the switches are %q, want the foreign one only", out)
			}

			stdout, stderr, code = ovnrun(t, "--dry-run", "--offline", "--destroy", "--only", "topology", "--output", "json", runbook)
			if code != exitOK {
				t.Fatalf("offline destroy: exit %d: %s", code, stderr)
			}
			var offlineIDs []string
			for _, a := range parseDestroyPlan(t, stdout).Steps[0].Actions {
				offlineIDs = append(offlineIDs, a.ID)
			}
			if !slices.Equal(offlineIDs, liveIDs) {
				t.Errorf("offline and live destroy plans differ:\noffline %q\nlive    %q", offlineIDs, liveIDs)
			}
		})
	}
}
