package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/labhost"
)

// outageLine is outage()'s report: "outage 2.70 s: no reply between
// icmp_seq 0 and 27 (26 requests lost, every 100ms; 11/37 replies)".
var outageLine = regexp.MustCompile(`(?m)^  \[h1\] outage h1/v0 -> 172\.16\.3\.253: run \(.*\): outage ([\d.]+) s: no reply between icmp_seq (\d+) and (\d+) \((\d+) requests lost, every 100ms; (\d+)/(\d+) replies\)$`)

// TestLabHAGateway runs runbooks/ha-gateway.star in an emulated lab: the
// active gateway h0 is taken away (ovn-controller stopped, tunnel link cut)
// while h1/v0 pings the outside. The outage must be measured and within
// max_outage_s, the trace must move from h0 to h2, the replies after the
// outage must have left through h2's NIC to the outside, the background
// ping must be gone, and the faults undone.
func TestLabHAGateway(t *testing.T) {
	labhost.RequireLab(t)
	path, name := labRunbook(t, "ha-gateway")
	out, took := ovnrunProcess(t, "--lab", path)
	for _, want := range []string{
		"redirected through cr-lr1-ls3 to the gateway chassis h0",
		"fault h0: stop ovn-controller: run",
		"fault h0: cut ens2f2: run",
		"redirected through cr-lr1-ls3 to the gateway chassis h2",
		"fault: h0: undone: systemctl start ovn-controller",
		"fault: h0: undone: ip link set dev ens2f2 up",
		"Applied 10 step(s) in ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the run lacks %q:\n%s", want, out)
		}
	}
	m := outageLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no outage measured:\n%s", out)
	}
	secs, _ := strconv.ParseFloat(m[1], 64)
	before, _ := strconv.Atoi(m[2])
	lost, _ := strconv.Atoi(m[4])
	replies, _ := strconv.Atoi(m[5])
	// The runbook's max_outage_s is 10: outage() fails the run above it.
	if lost < 1 || secs <= 0 || secs > 10 {
		t.Errorf("outage %.2f s with %d requests lost: want a failover that lost requests, within 10 s\n%s", secs, lost, m[0])
	}
	t.Logf("%s (the whole run: %s)", strings.TrimSpace(m[0]), took.Round(10*time.Millisecond))

	l, err := lab.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	// By the packets: every request answered after the outage left through
	// h2's NIC to the outside (br-out's port), as did the moved step's ping.
	h2, _ := l.Host("h2")
	tx, err := exec.Command("ip", "netns", "exec", h2.NS, "cat", "/sys/class/net/ens2f1/statistics/tx_packets").Output()
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := strconv.Atoi(strings.TrimSpace(string(tx)))
	// At most before+1 replies came up to icmp_seq before (busybox counts
	// from 0): the others came after the outage.
	after := replies - (before + 1)
	if after < 1 || sent < after {
		t.Errorf("h2's NIC to the outside sent %d packets; want at least the %d requests answered after the outage", sent, after)
	}
	// outage() stopped the background ping and removed its output.
	for _, pid := range lab.PIDsIn(l.VMNS("h1", "v0")) {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) == "ping" {
			t.Errorf("the watch's ping (pid %d) still runs in h1/v0", pid)
		}
	}
	// The faults are undone: h0 is the active gateway again.
	h0, _ := l.Host("h0")
	if link, err := exec.Command("ip", "-n", h0.NS, "-o", "link", "show", "dev", "ens2f2", "up").Output(); err != nil || !strings.Contains(string(link), "ens2f2") {
		t.Errorf("h0's tunnel link is not up again: %v %s", err, link)
	}
}
