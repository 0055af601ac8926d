package check

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// A watch's ping outlives the command that starts it, so it is recorded on
// its src's host, as a fault is: outage() removes the record once it has
// stopped the ping; the end-of-run hook (Finish) stops the pings whose
// records remain, the run's own when it failed or was interrupted before
// their outage(), and those a killed run left.

// watchDir is where a host keeps the records of watches still running:
// per emulated host in the lab (its own OVS_RUNDIR).
const watchDir = `"${OVS_RUNDIR:-/var/run/openvswitch}/ovnrun-watches"`

// watchRecord is one record: the ping's pid and output file where it runs
// (guest "" is the host itself), how old it is, and what it watched.
type watchRecord struct {
	name  string
	ageS  int
	pid   int
	file  string
	guest string
	label string
}

// recordWatch records run, a ping to dst, on its host.
func (d *Driver) recordWatch(ctx context.Context, run *watchRun, dst string) error {
	guest := run.w.Guest
	if guest == "" {
		guest = "-"
	}
	line := fmt.Sprintf("%d %s %s %s -> %s", run.pid, run.file, guest, run.w.Src, dst)
	script := fmt.Sprintf("mkdir -p %s && printf '%%s\\n' %s >%s/%s", watchDir, remote.Quote(line), watchDir, remote.Quote(recordName(run.w.M.ID)))
	r, err := d.hosts.Run(ctx, run.w.M.Host, remote.Script(script))
	if err == nil {
		err = r.Err()
	}
	if err != nil {
		return fmt.Errorf("recording the background ping on %s: %v", run.w.M.Host, err)
	}
	return nil
}

// watchRecords lists host's records: all of them, or only the one named
// only.
func (d *Driver) watchRecords(ctx context.Context, host, only string) ([]watchRecord, error) {
	script := fmt.Sprintf(`d=%s; now=$(date +%%s)
for f in $(ls "$d" 2>/dev/null); do
	[ -z %s ] || [ "$f" = %s ] || continue
	echo "$f $((now - $(stat -c %%Y "$d/$f"))) $(cat "$d/$f")"
done`, watchDir, remote.Quote(only), remote.Quote(only))
	r, err := d.hosts.Run(ctx, host, remote.Script(script))
	if err == nil {
		err = r.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("reading the records of background pings on %s: %v", host, err)
	}
	var recs []watchRecord
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		f := strings.SplitN(line, " ", 6)
		if len(f) < 6 {
			continue
		}
		rec := watchRecord{name: f[0], file: f[3], guest: f[4], label: f[5]}
		rec.ageS, _ = strconv.Atoi(f[1])
		rec.pid, _ = strconv.Atoi(f[2])
		if rec.guest == "-" {
			rec.guest = ""
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// stopPing is the shell that stops a watch's ping: only when the process
// of that pid still writes to the watch's file (a pid can be reused once
// the ping has ended), with SIGINT, then waits up to 5 s for it to exit. An
// exited ping may stay a zombie for a while (its parent is whatever
// adopted it), which counts as exited.
func stopPing(pid int, file string) string {
	return fmt.Sprintf(`if [ "$(readlink /proc/%d/fd/1 2>/dev/null)" = %s ]; then kill -INT %d 2>/dev/null
i=0; while [ -d /proc/%d ] && ! grep -q '^State:.*Z' /proc/%d/status 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; fi`,
		pid, remote.Quote(file), pid, pid, pid)
}

// stopRecorded stops the ping of rec on host, removes its file and then
// the record. A record older than the ping's own limit is only removed:
// that ping has ended, and its VM may be gone.
func (d *Driver) stopRecorded(ctx context.Context, host string, rec watchRecord) error {
	if rec.ageS <= watchLimitS {
		script := stopPing(rec.pid, rec.file) + "\nrm -f " + remote.Quote(rec.file)
		r, err := d.runAt(ctx, host, rec.guest, []string{"sh", "-c", script})
		if err == nil {
			err = r.Err()
		}
		if err != nil {
			return fmt.Errorf("stopping the background ping %s: %v", rec.label, err)
		}
	}
	return d.removeWatchRecord(ctx, host, rec.name)
}

// removeWatchRecord removes the record called name on host.
func (d *Driver) removeWatchRecord(ctx context.Context, host, name string) error {
	r, err := d.hosts.Run(ctx, host, remote.Script(fmt.Sprintf("rm -f %s/%s", watchDir, remote.Quote(name))))
	if err == nil {
		err = r.Err()
	}
	if err != nil {
		return fmt.Errorf("removing the record of a background ping on %s: %v", host, err)
	}
	return nil
}

// finishWatches stops the pings that the hosts of the run's ping_watch()
// calls still record: the run's own that no outage() stopped, and those a
// killed run left.
func (d *Driver) finishWatches(ctx context.Context, log io.Writer) []string {
	d.mu.Lock()
	hosts := make([]string, 0, len(d.watchHosts))
	for h := range d.watchHosts {
		hosts = append(hosts, h)
	}
	d.watches = map[string]*watchRun{}
	d.mu.Unlock()
	sort.Strings(hosts)
	var errs []string
	for _, h := range hosts {
		recs, err := d.watchRecords(ctx, h, "")
		if err != nil {
			errs = append(errs, "ping_watch: "+err.Error())
			continue
		}
		for _, rec := range recs {
			if err := d.stopRecorded(ctx, h, rec); err != nil {
				errs = append(errs, fmt.Sprintf("ping_watch: host %s: %v", h, err))
				continue
			}
			fmt.Fprintf(log, "ping_watch: %s: stopped the background ping %s (no outage() stopped it)\n", h, rec.label)
		}
	}
	return errs
}
