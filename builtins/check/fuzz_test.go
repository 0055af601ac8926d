package check

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// The readers of what ovn-trace, ovn-sbctl, ovn-nbctl and ping print. Any
// output may be refused; none may panic, and a refusal names the line of
// the output where reading stopped.

func addTestdata(f *testing.F, glob string, hostile ...string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "trace", glob))
	if len(paths) == 0 {
		f.Fatalf("no testdata/trace/%s", glob)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
		f.Add(string(b[:len(b)/2])) // torn
		for _, h := range hostile {
			f.Add(string(b[:len(b)/3]) + h + string(b[len(b)/3:]))
		}
	}
}

// checkLine fails t unless err starts with prefix and a line number of out.
func checkLine(t *testing.T, err error, prefix *regexp.Regexp, out string) {
	m := prefix.FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("error does not name a line: %v", err)
	}
	if n, _ := strconv.Atoi(m[1]); n < 1 || n > 1+strings.Count(out, "\n") {
		t.Fatalf("error names line %d of %d: %v", n, 1+strings.Count(out, "\n"), err)
	}
}

var traceErrorRE = regexp.MustCompile(`^ovn-trace output line (\d+): `)

func FuzzParseTraceSummary(f *testing.F) {
	addTestdata(f, "*.summary", "\x00", "\xff\xfe", "}\n}\n", "ct_next {\nclone {\n", "egress(dp=\"\\\") {\n")
	addTestdata(f, "*.detailed")
	sb, err := ParseSouthbound(readFile(f, "dgp-sb.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, out string) {
		root, err := ParseTraceSummary(out)
		if err != nil {
			checkLine(t, err, traceErrorRE, out)
			return
		}
		path := Locate(root, sb, "h1_v0_vnet2")
		host := func(c string) string { return c }
		path.Verdict(host)
		path.Lines(host)
	})
}

var tablesErrorRE = regexp.MustCompile(`^reading the database's JSON, line (\d+): `)

func FuzzParseTables(f *testing.F) {
	addTestdata(f, "*.json", "\x00", `{"data":[[["set",[["map",[[1]]]]]]],"headings":["a"]}`,
		`{"data":[[1e999]],"headings":["a"]}`, strings.Repeat("[", 10001))
	f.Fuzz(func(t *testing.T, out string) {
		if sb, err := ParseSouthbound(out); err != nil {
			checkLine(t, err, tablesErrorRE, out)
		} else {
			a, b := netip.MustParseAddr("172.16.2.10"), netip.MustParseAddr("172.16.3.10")
			for port := range sb.Ports {
				sb.NextHopMAC(port, a, b, "")
				sb.MACOf(port, b)
			}
		}
		if _, err := ParseDynamicAddresses(out); err != nil {
			checkLine(t, err, tablesErrorRE, out)
		}
	})
}

// pingSummaryRE is every summary: the counts, loss and round trip, or the
// exit status; never more of the output.
var pingSummaryRE = regexp.MustCompile(`^(\d{1,9} sent, \d{1,9} received, (100|\d{1,2})% loss(, rtt avg [\d.]{1,16} ms)?|exit status -?\d+)$`)

func FuzzPingSummary(f *testing.F) {
	for _, s := range []string{busyboxOK, iputilsLost, busyboxOK[:len(busyboxOK)-30], "3 packets transmitted, 3 received\x00\nrtt min/avg/max/mdev = 1/2/3/4 ms"} {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, out string, status int) {
		if s := summary(&remote.Result{Stdout: out, Status: status}); !pingSummaryRE.MatchString(s) {
			t.Fatalf("summary = %q", s)
		}
	})
}

func readFile(f *testing.F, name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", "trace", name))
	if err != nil {
		f.Fatal(err)
	}
	return string(b)
}
