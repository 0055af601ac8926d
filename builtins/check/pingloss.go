package check

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// A ping check judges loss apart from reachability: the driver first waits
// for one reply (a lease or ARP may still be pending), then sends count
// requests whose loss must stay within max_loss. This file is the
// judgement, free of any runner.

// The statistics lines of iputils' and busybox' ping. Numbers are bounded:
// the summary goes into a progress line and the journal.
var (
	countsRE = regexp.MustCompile(`(?m)^(\d{1,9}) packets transmitted, (\d{1,9}) (?:packets )?received`)
	rttRE    = regexp.MustCompile(`(?m)^(?:rtt|round-trip) min/avg/max(?:/mdev)? = [\d.]{1,16}/([\d.]{1,16})/`)
)

// pingStats is what a ping's statistics say; OK is false when it printed
// none (killed, or not a ping).
type pingStats struct {
	OK             bool
	Sent, Received int
	RTTAvg         string // ms, as printed; "" when no reply came
}

// parseStats reads iputils' or busybox' ping statistics.
func parseStats(stdout string) pingStats {
	m := countsRE.FindStringSubmatch(stdout)
	if m == nil {
		return pingStats{}
	}
	st := pingStats{OK: true}
	st.Sent, _ = strconv.Atoi(m[1])
	st.Received, _ = strconv.Atoi(m[2])
	if rtt := rttRE.FindStringSubmatch(stdout); rtt != nil {
		st.RTTAvg = rtt[1]
	}
	return st
}

// LossPct is the percentage of requests without a reply, rounded down.
func (s pingStats) LossPct() int {
	if s.Sent == 0 || s.Received >= s.Sent {
		return 0
	}
	return (s.Sent - s.Received) * 100 / s.Sent
}

// String is "3 sent, 3 received, 0% loss, rtt avg 0.61 ms".
func (s pingStats) String() string {
	out := fmt.Sprintf("%d sent, %d received, %d%% loss", s.Sent, s.Received, s.LossPct())
	if s.RTTAvg != "" {
		out += ", rtt avg " + s.RTTAvg + " ms"
	}
	return out
}

// judgeLoss says whether a round of count requests, sent after the first
// reply, lost no more than maxLoss percent. Requests ping did not send
// count as lost, and a round without statistics cannot pass: loss that
// cannot be read is not known to be within bounds.
func judgeLoss(st pingStats, count, maxLoss int) error {
	if !st.OK {
		return fmt.Errorf("ping printed no statistics, so its loss is unknown")
	}
	if st.Sent < count {
		return fmt.Errorf("%s; ping sent %d of the %d requests", st, st.Sent, count)
	}
	// Exact in integers: lost/sent > maxLoss/100.
	if lost := st.Sent - min(st.Received, st.Sent); lost*100 > maxLoss*st.Sent {
		return fmt.Errorf("%s, more than max_loss=%d%%", st, maxLoss)
	}
	return nil
}

// summary reads "3 sent, 3 received, 0% loss, rtt avg 0.61 ms" from
// iputils' or busybox' ping output; without statistics, the exit status.
func summary(r *remote.Result) string {
	if st := parseStats(r.Stdout); st.OK {
		return st.String()
	}
	return "exit status " + strconv.Itoa(r.Status)
}
