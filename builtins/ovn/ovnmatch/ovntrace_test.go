package ovnmatch

import (
	"encoding/json"
	"math/big"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// TestAgainstOVNTrace has OVN's own parser judge the corpus. No installed
// OVN 23.03 binary parses an expression without a database (ovstest and
// test-ovn are not packaged), but ovn-trace parses the match of every
// Logical_Flow of the Southbound it reads and warns "parsing expression
// failed" for each it refuses. So the corpus goes into an SB as logical
// flows, with the address sets and port groups it names, and ovn-trace's
// warnings must name exactly the matches Parse refuses, except those Parse
// refuses on purpose although OVN accepts them.
func TestAgainstOVNTrace(t *testing.T) {
	daemons.Require(t, "ovsdb-server", "ovsdb-tool", "ovsdb-client", "ovn-trace")
	// StartNB serves whichever schema it is given: here the Southbound.
	sb := daemons.StartNB(t, daemons.WithSchema(daemons.DefaultSBSchema))

	var matches []string
	ovnAccepts := map[string]bool{}
	for _, m := range validMatches {
		matches = append(matches, m)
		ovnAccepts[m] = true
	}
	for _, c := range invalidMatches {
		matches = append(matches, c.in)
		ovnAccepts[c.in] = c.stricter
	}
	// Probes of every symbol, which OVN judges with its own symbol table:
	// they find a width or level in fields.go that differs from OVN's.
	for _, m := range symbolProbes() {
		_, err := Parse(m)
		matches = append(matches, m)
		ovnAccepts[m] = err == nil
	}

	res := transact(t, sb.Sock, map[string]any{
		"op": "insert", "table": "Datapath_Binding",
		"row": map[string]any{"tunnel_key": 1, "external_ids": []any{"map", []any{[]any{"name", "ls1"}}}},
	})
	dp := []any{"uuid", res[0].UUID[1]}
	// Every set and group exists, holding one member, so that naming one
	// is not what OVN refuses.
	var ops []any
	for _, name := range names(matches, `\$([A-Za-z_.][A-Za-z0-9_.]*)`) {
		ops = append(ops, map[string]any{"op": "insert", "table": "Address_Set",
			"row": map[string]any{"name": name, "addresses": "10.0.0.1"}})
	}
	for _, name := range names(matches, `@([A-Za-z_.][A-Za-z0-9_.]*)`) {
		ops = append(ops, map[string]any{"op": "insert", "table": "Port_Group",
			"row": map[string]any{"name": name, "ports": "p1"}})
	}
	for _, m := range matches {
		ops = append(ops, map[string]any{"op": "insert", "table": "Logical_Flow",
			"row": map[string]any{
				"logical_datapath": dp,
				"pipeline":         "ingress", "table_id": 0, "priority": 100,
				"match": m, "actions": "next;",
			}})
	}
	// A command line holds only so much.
	for len(ops) > 0 {
		n := min(len(ops), 200)
		transact(t, sb.Sock, ops[:n]...)
		ops = ops[n:]
	}

	// ovn-trace reads (and parses) every flow before tracing; the trace
	// itself, of a port that does not exist, is of no interest.
	cmd := exec.Command("ovn-trace", "--db="+sb.Sock, "ls1", `inport == "p1"`)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil {
		t.Fatalf("ovn-trace: %v: %s%s", err, out, stderr.String())
	}
	warnings := stderr.String()
	t.Logf("ovn-trace refused %d of %d matches", strings.Count(warnings, ": parsing expression failed ("), len(matches))
	for _, m := range matches {
		i := strings.Index(warnings, "|WARN|"+m+": parsing expression failed (")
		refused := i >= 0
		if refused == !ovnAccepts[m] {
			continue
		}
		if refused {
			why := warnings[i:]
			why = why[:strings.IndexByte(why+"\n", '\n')]
			t.Errorf("OVN refuses %q, Parse accepts it:\n%s", m, why)
		} else {
			t.Errorf("OVN accepts %q, Parse refuses it", m)
		}
	}
	if t.Failed() {
		t.Logf("ovn-trace's warnings:\n%s", warnings)
	}
}

// names returns the first group of each match of pattern in any of ss.
func names(ss []string, pattern string) []string {
	seen := map[string]bool{}
	var out []string
	re := regexp.MustCompile(pattern)
	for _, s := range ss {
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	return out
}

// symbolProbes uses each symbol in ways its width and level allow or not.
func symbolProbes() []string {
	var out []string
	for _, sym := range symtab {
		n := sym.name
		if sym.width == 0 {
			out = append(out, n+` == "p"`, n, n+` < "p"`, n+`[0] == 1`, n+` == 1`)
			continue
		}
		all := new(big.Int).Lsh(big.NewInt(1), uint(sym.width))
		out = append(out, n+" == 1", n, "!"+n, "!("+n+" == 1)", n+" != 1", n+" < 1", n+"[0] == 1",
			n+" == 0x"+new(big.Int).Sub(all, big.NewInt(1)).Text(16), n+" == 0x"+all.Text(16))
	}
	return out
}

// transact runs one OVSDB transaction on the SB at sock with ovsdb-client.
func transact(t *testing.T, sock string, ops ...any) []struct{ UUID []string } {
	t.Helper()
	txn, err := json.Marshal(append([]any{"OVN_Southbound"}, ops...))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ovsdb-client", "transact", sock, string(txn)).Output()
	var res []struct {
		UUID  []string
		Error string
	}
	if err == nil {
		err = json.Unmarshal(out, &res)
	}
	if err != nil {
		t.Fatalf("ovsdb-client transact: %v: %s", err, out)
	}
	var uuids []struct{ UUID []string }
	for _, r := range res {
		if r.Error != "" {
			t.Fatalf("ovsdb-client transact: %s", out)
		}
		uuids = append(uuids, struct{ UUID []string }{r.UUID})
	}
	return uuids
}
