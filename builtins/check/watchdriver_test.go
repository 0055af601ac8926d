package check

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// pingOutput is what busybox' ping prints for replies to seqs out of sent
// requests (iputils' form with icmp=true), with its statistics when sent >= 0.
func pingOutput(seqs []int, sent int, icmp bool) string {
	var b strings.Builder
	b.WriteString("PING 172.16.3.253 (172.16.3.253): 56 data bytes\n")
	key := "seq"
	if icmp {
		key = "icmp_seq"
	}
	for _, s := range seqs {
		fmt.Fprintf(&b, "64 bytes from 172.16.3.253: %s=%d ttl=63 time=0.612 ms\n", key, s)
	}
	if sent >= 0 {
		fmt.Fprintf(&b, "\n--- 172.16.3.253 ping statistics ---\n%d packets transmitted, %d packets received, %d%% packet loss\n",
			sent, len(seqs), 100*(sent-len(seqs))/max(sent, 1))
	}
	return b.String()
}

func seqRange(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func TestJudgeOutage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		out   string
		max   float64
		want  string // in the result, or in the error when fails
		fails bool
	}{
		{"a 2.8 s outage", pingOutput(append(seqRange(0, 4), seqRange(32, 50)...), 51, false), 10,
			"outage 2.80 s: no reply between icmp_seq 4 and 32 (27 requests lost, every 100ms; 24/51 replies)", false},
		{"iputils, the longest of two gaps", pingOutput(append(append(seqRange(1, 3), seqRange(6, 9)...), seqRange(20, 30)...), 30, true), 10,
			"outage 1.10 s: no reply between icmp_seq 9 and 20", false},
		{"over the limit", pingOutput(append(seqRange(0, 4), seqRange(32, 50)...), 51, false), 2,
			"outage 2.80 s: no reply between icmp_seq 4 and 32 (27 requests lost, every 100ms; 24/51 replies), more than max_outage_s 2", true},
		{"no loss", pingOutput(seqRange(0, 20), 21, false), 1, "no outage: no request lost between the first and the last reply, every 100ms (21/21 replies)", false},
		{"duplicates and the request in flight at the stop", pingOutput(append(seqRange(0, 20), 20), 22, false), 1, "no outage", false},
		{"replies never resumed", pingOutput(seqRange(0, 4), 60, false), 10,
			"replies stopped after icmp_seq 4 and had not resumed 5.50 s later", true},
		{"no reply at all", pingOutput(nil, 30, false), 10, "no reply at all (0/30 replies)", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := judgeOutage(tc.out, 100*time.Millisecond, tc.max)
			if tc.fails {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %q, %v; want an error with %q", got, err, tc.want)
				}
				return
			}
			if err != nil || !strings.Contains(got, tc.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestTailRun(t *testing.T) {
	for _, tc := range []struct {
		seqs []int
		want int
	}{
		{nil, 0}, {[]int{7}, 1}, {[]int{1, 2, 5, 6, 7}, 3}, {[]int{1, 2, 3}, 3}, {[]int{1, 3}, 1},
	} {
		if got := tailRun(tc.seqs); got != tc.want {
			t.Errorf("tailRun(%v) = %d, want %d", tc.seqs, got, tc.want)
		}
	}
}
