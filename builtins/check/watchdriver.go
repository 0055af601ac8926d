package check

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// A watch's ping runs detached where its src is (a VM or a host), writing
// its replies to a file there; outage() reads the file, stops the ping with
// SIGINT (so it prints its statistics) and removes the file. Both the lab's
// busybox ping and iputils' print one line per reply with its sequence
// number.

// watchLimitS bounds a watch's ping (-w): the last resort for a watch
// whose record is lost (watchrecord.go stops the others).
const watchLimitS = 600

// watchRun is a started watch: where its ping runs and writes.
type watchRun struct {
	w    *PingWatch
	pid  int
	file string
}

// startWatch waits for a first reply, as ping() does, then starts the
// background ping.
func (d *Driver) startWatch(ctx context.Context, w *PingWatch) (string, error) {
	first, err := d.ping(ctx, &Ping{ActionMeta: w.ActionMeta, Src: w.Src, Guest: w.Guest, Dst: w.Dst,
		Count: 1, TimeoutS: w.TimeoutS, Expect: "success"})
	if err != nil {
		return "", err
	}
	dst, err := destination(ctx, w.Dst)
	if err != nil {
		return "", err
	}
	// A killed run's watch of the same ID: stopped first, as its record
	// is about to be replaced.
	left, err := d.watchRecords(ctx, w.M.Host, recordName(w.M.ID))
	if err != nil {
		return "", err
	}
	for _, rec := range left {
		if err := d.stopRecorded(ctx, w.M.Host, rec); err != nil {
			return "", err
		}
	}
	script := fmt.Sprintf(`f=$(mktemp /tmp/ovnrun-ping-watch.XXXXXX) || exit 1
ping -i %s -w %d %s </dev/null >"$f" 2>&1 &
echo "$! $f"`, strconv.FormatFloat(float64(w.IntervalMS)/1000, 'f', -1, 64), watchLimitS, remote.Quote(dst))
	r, err := d.runAt(ctx, w.M.Host, w.Guest, []string{"sh", "-c", script})
	if err != nil {
		return "", err
	}
	var run watchRun
	if _, err := fmt.Sscanf(r.Stdout, "%d %s", &run.pid, &run.file); err != nil || r.Status != 0 || run.pid <= 0 {
		return "", fmt.Errorf("starting the background ping: exit status %d\n%s", r.Status, indent(r.Stdout+r.Stderr))
	}
	run.w = w
	if err := d.recordWatch(ctx, &run, dst); err != nil {
		d.readWatch(context.WithoutCancel(ctx), &run, true)
		return "", err
	}
	d.mu.Lock()
	d.watches[w.M.ID] = &run
	d.mu.Unlock()
	return fmt.Sprintf("pinging %s every %d ms in the background (first: %s)", dst, w.IntervalMS, first), nil
}

// runAt runs argv in guest on host, or on host itself when guest is "".
func (d *Driver) runAt(ctx context.Context, host, guest string, argv []string) (*remote.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if guest != "" {
		return d.guests.GuestExec(ctx, host, guest, argv)
	}
	return d.hosts.Run(ctx, host, remote.Argv(argv...))
}

// outage waits for the watch's replies to resume, stops it and judges the
// longest gap.
func (d *Driver) outage(ctx context.Context, o *Outage) (string, error) {
	d.mu.Lock()
	run := d.watches[o.Watch]
	delete(d.watches, o.Watch)
	d.mu.Unlock()
	if run == nil {
		return "", fmt.Errorf("watch %s is not running in this run (was its step skipped by --resume? run the runbook again without it)", o.Label)
	}
	interval := time.Duration(run.w.IntervalMS) * time.Millisecond
	recovered := max(3, int((time.Second+interval-1)/interval))
	deadline := time.Now().Add(time.Duration(o.MaxOutageS*float64(time.Second)) + time.Duration(recovered)*interval + 2*time.Second)
	from := -1 // the last sequence number replied when outage() began
	for {
		out, err := d.readWatch(ctx, run, false)
		if err != nil {
			return "", err
		}
		seqs := replySeqs(out)
		last := -1
		if len(seqs) > 0 {
			last = seqs[len(seqs)-1]
		}
		if from < 0 {
			from = last
		}
		// Requests from from+2 on were sent after outage() began, so after
		// the faults of the steps before.
		if last > from+1 && tailRun(seqs) >= recovered || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			d.readWatch(context.WithoutCancel(ctx), run, true)
			return "", ctx.Err()
		case <-time.After(interval):
		}
	}
	out, err := d.readWatch(ctx, run, true)
	if err != nil {
		return "", err
	}
	if err := d.removeWatchRecord(ctx, o.M.Host, recordName(o.Watch)); err != nil {
		return "", err
	}
	return judgeOutage(out, interval, o.MaxOutageS)
}

// readWatch reads what the watch's ping wrote; with stop, it first stops
// the ping (SIGINT, then waits for it to print its statistics and exit)
// and removes the file after.
func (d *Driver) readWatch(ctx context.Context, run *watchRun, stop bool) (string, error) {
	script := fmt.Sprintf("cat %s", run.file)
	if stop {
		script = fmt.Sprintf("%s\ncat %s; rm -f %s", stopPing(run.pid, run.file), run.file, run.file)
	}
	r, err := d.runAt(ctx, run.w.M.Host, run.w.Guest, []string{"sh", "-c", script})
	if err != nil {
		return "", err
	}
	if r.Status != 0 {
		return "", fmt.Errorf("reading the background ping's output: exit status %d\n%s", r.Status, indent(r.Stdout+r.Stderr))
	}
	return r.Stdout, nil
}

// replyRE is a reply line of busybox' ("seq=3") or iputils' ("icmp_seq=3")
// ping.
var replyRE = regexp.MustCompile(`(?m)^\d{1,9} bytes from [^ ]{1,64}: (?:icmp_)?seq=(\d{1,9}) `)

// replySeqs returns the sequence numbers replied to, sorted, without
// duplicates.
func replySeqs(out string) []int {
	seen := map[int]bool{}
	var seqs []int
	for _, m := range replyRE.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		if !seen[n] {
			seen[n] = true
			seqs = append(seqs, n)
		}
	}
	sort.Ints(seqs)
	return seqs
}

// tailRun is how many consecutive sequence numbers end seqs.
func tailRun(seqs []int) int {
	n := 0
	for i := len(seqs) - 1; i >= 0 && (i == len(seqs)-1 || seqs[i] == seqs[i+1]-1); i-- {
		n++
	}
	return n
}

// judgeOutage finds the longest run of unanswered requests in a stopped
// watch's output and compares the time it spans with maxS.
func judgeOutage(out string, interval time.Duration, maxS float64) (string, error) {
	seqs := replySeqs(out)
	sent := -1
	if m := countsRE.FindStringSubmatch(out); m != nil {
		sent, _ = strconv.Atoi(m[1])
	}
	counted := fmt.Sprintf("%d replies", len(seqs))
	if sent >= 0 {
		counted = fmt.Sprintf("%d/%d replies", len(seqs), sent)
	}
	if len(seqs) == 0 {
		return "", fmt.Errorf("no reply at all (%s)\n%s", counted, indent(out))
	}
	before, after := -1, -1
	for i := 1; i < len(seqs); i++ {
		if seqs[i]-seqs[i-1] > 1 && (before < 0 || seqs[i]-seqs[i-1] > after-before) {
			before, after = seqs[i-1], seqs[i]
		}
	}
	// Requests after the last reply that never got one (beyond the one or
	// two in flight when the watch was stopped): an outage that had not
	// ended.
	if last := seqs[len(seqs)-1]; sent >= 0 && sent-1-last >= 3 {
		span := time.Duration(sent-1-last) * interval
		return "", fmt.Errorf("replies stopped after icmp_seq %d and had not resumed %.2f s later, when the watch was stopped (%s)",
			last, span.Seconds(), counted)
	}
	if before < 0 {
		return fmt.Sprintf("no outage: no request lost between the first and the last reply, every %s (%s)", interval, counted), nil
	}
	span := time.Duration(after-before) * interval
	s := fmt.Sprintf("outage %.2f s: no reply between icmp_seq %d and %d (%d requests lost, every %s; %s)",
		span.Seconds(), before, after, after-before-1, interval, counted)
	if span.Seconds() > maxS {
		return "", fmt.Errorf("%s, more than max_outage_s %g", s, maxS)
	}
	return s, nil
}
