package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/daemons"
	"github.com/ovnrun/ovnrun/internal/testtime"
	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

// SAFETY: runbooks/dgp.star names the seed's real lab (tcp:177.1.1.1:6641).
// Every test here passes --nb with the socket of an ovsdb-server it started.

// seedNBCtl are the seed runbook's ovn-nbctl commands, as the shell passes
// them on. $LEASE is the seed's random lease time; $name is the output of
// the command that set it.
var seedNBCtl = [][]string{
	{"ls-add", "ls1", "--", "add", "Logical_Switch", "ls1", "other_config", "subnet=172.16.1.0/24"},
	{"ls-add", "ls2", "--", "add", "Logical_Switch", "ls2", "other_config", "subnet=172.16.2.0/24"},
	{"set", "Logical-switch", "ls1", "other_config:ipv6_prefix=2001:db8:1::0"},
	{"set", "Logical-switch", "ls2", "other_config:ipv6_prefix=2001:db8:2::0"},
	{"$d1=", "create", "DHCP_Options", "cidr=172.16.1.0/24", `options="server_id"="172.16.1.254" "server_mac"="00:00:00:00:01:00" "lease_time"="$LEASE" "router"="172.16.1.254" "dns_server"="172.16.1.254"`},
	{"$d2=", "create", "DHCP_Options", "cidr=172.16.2.0/24", `options="server_id"="172.16.2.254" "server_mac"="00:00:00:00:02:00" "lease_time"="$LEASE" "router"="172.16.2.254" "dns_server"="172.16.2.254"`},
	{"$d61=", "create", "DHCP_Options", `cidr=2001\:db8\:1\:\:0/64`, `options="server_id"="00:00:00:00:01:00" "dns_server"="2001:db8:1::254"`},
	{"$d62=", "create", "DHCP_Options", `cidr=2001\:db8\:2\:\:0/64`, `options="server_id"="00:00:00:00:02:00" "dns_server"="2001:db8:2::254"`},
	{"lsp-add", "ls1", "h0_v0_vnet1"},
	{"lsp-set-addresses", "h0_v0_vnet1", "04:ac:10:ff:01:94 dynamic"},
	{"lsp-set-dhcpv4-options", "h0_v0_vnet1", "$d1"},
	{"add", "Logical_Switch_Port", "h0_v0_vnet1", "dhcpv6_options", "$d61"},
	{"lsp-add", "ls1", "h0_v1_vnet1"},
	{"lsp-set-addresses", "h0_v1_vnet1", "04:ac:10:ff:01:96 dynamic"},
	{"lsp-set-dhcpv4-options", "h0_v1_vnet1", "$d1"},
	{"add", "Logical_Switch_Port", "h0_v1_vnet1", "dhcpv6_options", "$d61"},
	{"lsp-add", "ls2", "h1_v0_vnet2"},
	{"lsp-set-addresses", "h1_v0_vnet2", "02:ac:10:ff:01:95 dynamic"},
	{"lsp-set-dhcpv4-options", "h1_v0_vnet2", "$d2"},
	{"add", "Logical_Switch_Port", "h1_v0_vnet2", "dhcpv6_options", "$d62"},
	{"lsp-add", "ls2", "h1_v1_vnet2"},
	{"lsp-set-addresses", "h1_v1_vnet2", "02:ac:10:ff:01:97 dynamic"},
	{"lsp-set-dhcpv4-options", "h1_v1_vnet2", "$d2"},
	{"add", "Logical_Switch_Port", "h1_v1_vnet2", "dhcpv6_options", "$d62"},
	{"lr-add", "lr1"},
	{"lrp-add", "lr1", "lr1-ls1", "00:00:00:00:01:00", "172.16.1.254/24"},
	{"lrp-add", "lr1", "lr1-ls2", "00:00:00:00:02:00", "172.16.2.254/24"},
	{"lsp-add", "ls1", "ls1-lr1"},
	{"lsp-set-type", "ls1-lr1", "router"},
	{"lsp-set-addresses", "ls1-lr1", "00:00:00:00:01:00"},
	{"lsp-set-options", "ls1-lr1", "router-port=lr1-ls1"},
	{"lsp-add", "ls2", "ls2-lr1"},
	{"lsp-set-type", "ls2-lr1", "router"},
	{"lsp-set-addresses", "ls2-lr1", "00:00:00:00:02:00"},
	{"lsp-set-options", "ls2-lr1", "router-port=lr1-ls2"},
	{"ls-add", "ls3"},
	{"lrp-add", "lr1", "lr1-ls3", "00:00:00:00:03:00", "172.16.3.254/24"},
	{"lsp-add", "ls3", "ls3-lr1"},
	{"lsp-set-type", "ls3-lr1", "router"},
	{"lsp-set-addresses", "ls3-lr1", "00:00:00:00:03:00"},
	{"lsp-set-options", "ls3-lr1", "router-port=lr1-ls3"},
	{"lsp-add", "ls3", "ls3-localnet"},
	{"lsp-set-type", "ls3-localnet", "localnet"},
	{"lsp-set-addresses", "ls3-localnet", "unknown"},
	{"lsp-set-options", "ls3-localnet", "network_name=outNet"},
	{"lrp-set-gateway-chassis", "lr1-ls3", "dfe51fb0-0c76-437c-ad95-709b98998b4f"},
}

func runSeedNBCtl(t *testing.T, nb *daemons.Server) {
	t.Helper()
	vars := map[string]string{"$LEASE": fmt.Sprint(36000 + rand.IntN(3600))}
	for _, cmd := range seedNBCtl {
		var out string
		if strings.HasSuffix(cmd[0], "=") {
			out, cmd = strings.TrimSuffix(cmd[0], "="), cmd[1:]
		}
		args := make([]string, len(cmd))
		for i, a := range cmd {
			for k, v := range vars {
				a = strings.ReplaceAll(a, k, v)
			}
			args[i] = a
		}
		res, err := nb.NBCtl(args...)
		if err != nil {
			t.Fatal(err)
		}
		if out != "" {
			vars[out] = strings.TrimSpace(res)
		}
	}
}

// nbDump is the NB as ovn-nbctl lists it, normalised: per table, one line
// per row with references shown as the referenced row's name (or CIDR),
// no UUIDs, no ovnrun ownership tags and no DHCP lease time.
func nbDump(t *testing.T, nb *daemons.Server) string {
	t.Helper()
	type listing struct {
		Headings []string `json:"headings"`
		Data     [][]any  `json:"data"`
	}
	tables := []string{"Logical_Switch", "Logical_Switch_Port", "Logical_Router", "Logical_Router_Port",
		"DHCP_Options", "Gateway_Chassis", "NAT", "Logical_Router_Static_Route"}
	lists := map[string]listing{}
	label := map[string]string{}
	for _, table := range tables {
		out, err := nb.NBCtl("--format=json", "list", table)
		if err != nil {
			t.Fatal(err)
		}
		var l listing
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatal(err)
		}
		lists[table] = l
		for _, row := range l.Data {
			cols := map[string]any{}
			for i, h := range l.Headings {
				cols[h] = row[i]
			}
			uuid := cols["_uuid"].([]any)[1].(string)
			label[uuid] = fmt.Sprint(cols["name"])
			if table == "DHCP_Options" {
				label[uuid] = fmt.Sprint(cols["cidr"])
			}
		}
	}
	var norm func(column string, v any) string
	norm = func(column string, v any) string {
		a, ok := v.([]any)
		if !ok {
			return fmt.Sprint(v)
		}
		switch a[0] {
		case "uuid":
			return "@" + label[a[1].(string)]
		case "set":
			var parts []string
			for _, e := range a[1].([]any) {
				parts = append(parts, norm(column, e))
			}
			sort.Strings(parts)
			return "[" + strings.Join(parts, " ") + "]"
		case "map":
			var parts []string
			for _, kv := range a[1].([]any) {
				kv := kv.([]any)
				k := fmt.Sprint(kv[0])
				if strings.HasPrefix(k, "ovnrun:") || k == "lease_time" {
					continue
				}
				parts = append(parts, k+"="+norm(column, kv[1]))
			}
			sort.Strings(parts)
			return "{" + strings.Join(parts, " ") + "}"
		}
		return fmt.Sprint(v)
	}
	var b strings.Builder
	for _, table := range tables {
		l := lists[table]
		var rows []string
		for _, row := range l.Data {
			var cols []string
			for i, h := range l.Headings {
				if h != "_uuid" {
					cols = append(cols, h+"="+norm(h, row[i]))
				}
			}
			rows = append(rows, strings.Join(cols, " "))
		}
		sort.Strings(rows)
		fmt.Fprintf(&b, "%s\n  %s\n", table, strings.Join(rows, "\n  "))
	}
	return b.String()
}

// evalRunbook evaluates a runbook of the repository as the command does.
func evalRunbook(t *testing.T, path string) *interp.Plan {
	t.Helper()
	t.Chdir(repoRoot)
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.Evaluate(path, nil, interp.Options{Registry: reg, Stdlib: stdlib.FS})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// journals holds one journal per test, so that a test's runs share it and
// nothing is written beside the runbooks in the source tree.
var journals sync.Map

func live(t *testing.T, lf liveFlags, dryRun bool, p *interp.Plan, only []string, output string) (string, string, int) {
	t.Helper()
	if lf.journal == "" {
		j, _ := journals.LoadOrStore(t.Name(), filepath.Join(t.TempDir(), "journal"))
		lf.journal = j.(string)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	// yes: these runs apply to a test NB, not an emulated lab (--lab).
	code := runPlan(ctx, &planFlags{live: lf, dryRun: dryRun, only: only, output: output, yes: true}, p, &out, &errb)
	return out.String(), errb.String(), code
}

func nbSchemas(t *testing.T) []string {
	shared, _ := filepath.Glob(filepath.Join(repoRoot, "../shared/ovn-schemas/*.ovsschema"))
	if len(shared) == 0 {
		t.Log("no ../shared/ovn-schemas: testing the installed schema only")
	}
	return append([]string{daemons.DefaultNBSchema}, shared...)
}

// TestSeedTopologyMatchesNBCtl applies the topology step of runbooks/dgp.star
// to an NB of each OVN version and compares it with what the seed's
// ovn-nbctl commands make on another NB of the same version.
func TestSeedTopologyMatchesNBCtl(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	p := evalRunbook(t, "runbooks/dgp.star")
	for _, schema := range nbSchemas(t) {
		t.Run(filepath.Base(schema), func(t *testing.T) {
			ours, seed := daemons.StartNB(t, daemons.WithSchema(schema)), daemons.StartNB(t, daemons.WithSchema(schema))
			lf := liveFlags{nb: ours.Sock, timeout: 10 * time.Second}
			start := time.Now()
			stdout, stderr, code := live(t, lf, false, p, []string{"topology"}, "text")
			if code != exitOK {
				t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
			}
			t.Logf("schema %s: applied in %v", ours.SchemaVersion, time.Since(start).Round(time.Millisecond))
			if !strings.Contains(stdout, "Plan: 20 to add, 0 to change, 0 to destroy.") || !strings.Contains(stdout, "Step topology: 20 created") {
				t.Errorf("apply output:\n%s", stdout)
			}
			runSeedNBCtl(t, seed)
			if got, want := nbDump(t, ours), nbDump(t, seed); got != want {
				t.Errorf("ovnrun's NB differs from the seed's:\n--- seed\n%s\n--- ovnrun\n%s", want, got)
			}
			stdout, stderr, code = live(t, lf, true, p, []string{"topology"}, "text")
			if code != exitOK || !strings.HasSuffix(stdout, "\nNo changes.\n") {
				t.Errorf("second run: exit %d\n%s%s", code, stdout, stderr)
			}
		})
	}
}

// TestDialGuardKeepsTestsHome checks that a test run which forgot to point
// ovnrun at daemons it started cannot reach the seed's real lab: the runbook's
// own NB address is refused before any packet leaves.
func TestDialGuardKeepsTestsHome(t *testing.T) {
	p := evalRunbook(t, "runbooks/dgp.star")
	// Refused before dialing, the run ends as fast as one whose dial is
	// refused at once, not after the 5 s a dial to nowhere waits.
	cost := testtime.Measure(t, "a run whose NB port is closed", func() {
		_, stderr, code := live(t, liveFlags{nb: "tcp:127.0.0.1:1", timeout: 5 * time.Second}, true, p, []string{"topology"}, "text")
		if code != exitFailure || !strings.Contains(stderr, "connection refused") {
			t.Fatalf("with a closed port: exit %d, stderr:\n%s", code, stderr)
		}
	})
	start := time.Now()
	_, stderr, code := live(t, liveFlags{timeout: 5 * time.Second}, true, p, []string{"topology"}, "text")
	took := time.Since(start)
	if code != exitFailure || !strings.Contains(stderr, "refusing to connect to 177.1.1.1:6641") {
		t.Errorf("exit %d after %s, stderr:\n%s", code, took, stderr)
	}
	cost.Within(t, "refused", took, 0)
}

func TestLiveDryRunJSONAndDestroy(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovn-nbctl")
	nb := daemons.StartNB(t)
	p := evalRunbook(t, "runbooks/dgp.star")
	lf := liveFlags{nb: nb.Sock, timeout: 5 * time.Second}
	if _, stderr, code := live(t, lf, false, p, []string{"topology"}, "text"); code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	nbctl := func(args ...string) string {
		out, err := nb.NBCtl(args...)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	nbctl("ls-add", "foreign")

	// The topology step alone: the runbook's VMs live on hosts this test
	// does not have, and a destroy of all steps would look for them.
	lf.destroy = true
	stdout, stderr, code := live(t, lf, true, p, []string{"topology"}, "json")
	var doc struct {
		Summary struct {
			Destroy int    `json:"destroy"`
			Line    string `json:"line"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); code != exitOK || err != nil || doc.Summary.Destroy != 20 {
		t.Fatalf("destroy dry-run: exit %d, %v, summary %+v\n%s", code, err, doc.Summary, stderr)
	}
	if got := nbctl("ls-list"); strings.Count(got, "\n") != 3 {
		t.Errorf("a destroy dry-run changed the NB: switches %q", got)
	}
	if _, stderr, code = live(t, lf, false, p, []string{"topology"}, "text"); code != exitOK {
		t.Fatalf("destroy: exit %d: %s", code, stderr)
	}
	if got := nbctl("--bare", "--columns=name", "list", "Logical_Switch"); got != "foreign" {
		t.Errorf("after destroy the switches are %q, want the foreign one only", got)
	}
	for _, table := range []string{"Logical_Switch_Port", "Logical_Router", "DHCP_Options", "Gateway_Chassis"} {
		if got := nbctl("--bare", "--columns=_uuid", "list", table); got != "" {
			t.Errorf("after destroy %s holds %s", table, got)
		}
	}
}
