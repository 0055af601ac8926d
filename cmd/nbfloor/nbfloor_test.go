package main

import (
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// The floor writes the rows ovnrun writes, and read+diff reports no change
// only when the NB holds exactly them: a bench reference that missed a
// difference would time less work than ovnrun's no-op.
func TestInsertThenReadDiff(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change [][]string // ovn-nbctl commands run after the insert
		want   string     // in read-diff's error; "" for no change
	}{
		{name: "as inserted"},
		{name: "a foreign switch", change: [][]string{{"ls-add", "theirs"}}},
		{name: "a port's addresses", change: [][]string{{"lsp-set-addresses", "ls0-p1", "0a:00:00:00:00:ff dynamic"}},
			want: "1 differences, the first: update port ls0-p1"},
		{name: "a subnet", change: [][]string{{"set", "Logical_Switch", "ls1", "other_config:subnet=10.9.9.0/24"}},
			want: "1 differences, the first: update switch ls1"},
		{name: "a missing port", change: [][]string{{"lsp-del", "ls1-p2"}},
			want: "2 differences, the first: create port ls1-p2"},
		{name: "a stale router", change: [][]string{{"lr-add", "r0"},
			{"set", "Logical_Router", "r0", `external_ids:"ovnrun:runbook"=scale.star`, `external_ids:"ovnrun:action"=logical_router/r0`}},
			want: "1 differences, the first: delete router logical_router/r0"},
		{name: "an owned port", change: [][]string{{"lsp-add", "ls0", "extra"},
			{"set", "Logical_Switch_Port", "extra", `external_ids:"ovnrun:runbook"=scale.star`}},
			want: "2 differences, the first: update switch ls0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nb := daemons.StartNB(t)
			args := []string{"-nb", nb.Sock, "-switches", "2", "-ports", "3"}
			if out, errOut, code := runMain(append(args, "insert")); code != 0 || !strings.HasPrefix(out, "inserted 8 rows in 1 transaction") {
				t.Fatalf("insert: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			for _, cmd := range tc.change {
				if _, err := nb.NBCtl(cmd...); err != nil {
					t.Fatal(err)
				}
			}
			out, errOut, code := runMain(append(args, "read-diff"))
			if tc.want == "" {
				if code != 0 || !strings.HasPrefix(out, "no change: 2 switches and 6 ports as desired") {
					t.Fatalf("read-diff: exit %d, stdout %q, stderr %q", code, out, errOut)
				}
				return
			}
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("read-diff: exit %d, stderr %q, want exit 1 and %q", code, errOut, tc.want)
			}
		})
	}
}

// The floor's rows carry what ovnrun writes: addresses, subnet and the
// ownership tags with the action IDs.
func TestInsertRows(t *testing.T) {
	nb := daemons.StartNB(t)
	if out, errOut, code := runMain([]string{"-nb", nb.Sock, "-switches", "2", "-ports", "2", "-owner", "x.star", "insert"}); code != 0 {
		t.Fatalf("insert: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "Logical_Switch_Port", "ls1-p1", "addresses"}, `["0a:00:00:00:01:01 dynamic"]`},
		{[]string{"get", "Logical_Switch_Port", "ls1-p1", "external_ids"}, `{"ovnrun:action"="logical_switch_port/ls1-p1", "ovnrun:runbook"=x.star}`},
		{[]string{"get", "Logical_Switch", "ls1", "other_config"}, `{subnet="10.0.1.0/24"}`},
		{[]string{"get", "Logical_Switch", "ls1", "external_ids"}, `{"ovnrun:action"="logical_switch/ls1", "ovnrun:runbook"=x.star}`},
		{[]string{"lsp-list", "ls1"}, "ls1-p0\nls1-p1"},
	} {
		out, err := nb.NBCtl(tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.TrimSpace(out)
		if tc.args[0] == "lsp-list" {
			got = stripUUIDs(got)
		}
		if got != tc.want {
			t.Errorf("ovn-nbctl %s = %q, want %q", strings.Join(tc.args, " "), got, tc.want)
		}
	}
}

// stripUUIDs keeps the names of lsp-list's "UUID (NAME)" lines.
func stripUUIDs(s string) string {
	var names []string
	for line := range strings.Lines(s) {
		_, name, _ := strings.Cut(strings.TrimSpace(line), " (")
		names = append(names, strings.TrimSuffix(name, ")"))
	}
	return strings.Join(names, "\n")
}

func runMain(args []string) (stdout, stderr string, code int) {
	var out, errOut strings.Builder
	code = run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}
