package check

import (
	"context"
	"strings"
	"testing"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/interp"
)

// TestPingLossInNamespaces pings between namespace VMs through the lab's
// VM driver while v1 drops every other echo request (iptables' nth match,
// so the loss is exactly half of any 4 requests in a row, whatever the
// first-reply wait consumed): the ping fails with the loss shown, where it
// passed before for getting any reply, and passes with max_loss=50.
func TestPingLossInNamespaces(t *testing.T) {
	l := tcpLab(t, "loss", true)
	if err := lab.Run("ip", "netns", "exec", l.VMNS("h0", "v1"), "iptables", "-A", "INPUT", "-p", "icmp",
		"--icmp-type", "echo-request", "-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0", "-j", "DROP"); err != nil {
		t.Fatal(err)
	}
	reg, err := newRegistry()
	if err != nil {
		t.Fatal(err)
	}
	src := `h0 = host("h0", address = "177.1.1.1")
v0 = vm("v0", host = h0, image = "/img.qcow2")
ping(v0, "10.1.2.2", count = 4)
ping(v0, "10.1.1.2", count = 4)
ping(v0, "10.1.1.2", count = 4, max_loss = 50)
`
	p, err := interp.Evaluate("loss.star", []byte(src), interp.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDriver(nil, lab.NewVMDriver(l))
	for _, tc := range []struct {
		id   string
		want string // the check's result, or its error
		fail bool
	}{
		{"ping/h0/v0->10.1.2.2", ": 4 sent, 4 received, 0% loss, rtt avg ", false},
		{"ping/h0/v0->10.1.1.2", "ping h0/v0 -> 10.1.1.2 (loss.star:4:5): to 10.1.1.2 after the first reply: 4 sent, 2 received, 50% loss, rtt avg ", true},
		{"ping/h0/v0->10.1.1.2#2", ": 4 sent, 2 received, 50% loss, rtt avg ", false},
	} {
		t.Run(tc.id, func(t *testing.T) {
			a, ok := p.Action(tc.id)
			if !ok {
				t.Fatalf("no action %s", tc.id)
			}
			progress, err := applyIn(context.Background(), d, a)
			got := progress
			if err != nil {
				got = err.Error()
			}
			t.Log(got)
			if (err != nil) != tc.fail || !strings.Contains(got, tc.want) {
				t.Errorf("got error %v, output:\n%s\nwant %q", err, progress, tc.want)
			}
			if tc.fail && !strings.Contains(got, "more than max_loss=") {
				t.Errorf("the error does not name max_loss: %s", got)
			}
		})
	}
}
