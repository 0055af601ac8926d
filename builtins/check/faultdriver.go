package check

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// Faults are undone by the engine's end-of-run hook (engine.Finisher), not
// by Close: the hook runs before any driver closes, while the hosts'
// connections are still open, and also after a failed or interrupted
// apply. Each fault is recorded on its host before it is made, so a run
// killed outright leaves a record that the next run undoes.

// faultDir is where a host keeps its records of faults not yet undone:
// per emulated host in the lab (its own OVS_RUNDIR).
const faultDir = `"${OVS_RUNDIR:-/var/run/openvswitch}/ovnrun-faults"`

// recordName is the file of a fault's record.
func recordName(id string) string {
	return strings.NewReplacer("/", "_", "#", "_").Replace(id)
}

// fault makes f, after recording on the host how to undo it. The record
// goes again when the fault could not be made: there is nothing to undo.
func (d *Driver) fault(ctx context.Context, f *Fault) (string, error) {
	if f.Kind == "netem" {
		return d.netem(ctx, f)
	}
	do, undo, show := f.commands()
	rec := faultDir + "/" + recordName(f.M.ID)
	script := fmt.Sprintf("set -e\nmkdir -p %s\n%s\nprintf '%%s\\n' %s >%s\nif ! %s; then rm -f %s; exit 1; fi\n",
		faultDir, undoLeft(rec), remote.Quote(undo), rec, do, rec)
	r, err := d.hosts.Run(ctx, f.M.Host, remote.Script(script))
	if err != nil {
		return "", err
	}
	if err := r.Err(); err != nil {
		return "", fmt.Errorf("%s: %v\n%s", show, err, indent(r.Stdout+r.Stderr))
	}
	return show + " (undone when the run ends)", nil
}

// undoLeft is the script line that undoes the same fault where a run
// killed while (or after) making it left its record: the fault is then
// made again from the host's usual state (a killed process runs again
// before it is killed), and a fault that fails cannot take the killed
// run's record with it.
func undoLeft(rec string) string {
	return fmt.Sprintf(`if [ -f %s ]; then sh %s >&2 || { echo "could not undo the fault a killed run left: $(cat %s)" >&2; exit 1; }; rm -f %s; fi`,
		rec, rec, rec, rec)
}

// undoScript undoes every fault the host records, oldest first, keeping
// the record of one that could not be undone.
const undoScript = `d=` + faultDir + `
rc=0
for f in $(ls -tr "$d" 2>/dev/null); do
	c=$(cat "$d/$f")
	if sh "$d/$f"; then rm -f "$d/$f"; echo "undone: $c"; else echo "could not undo: $c" >&2; rc=1; fi
done
exit $rc
`

// Finish implements engine.Finisher: it stops the background pings of
// ping_watch() that are still running (watchrecord.go), then undoes the
// faults that the hosts of the run's fault() calls record, made by this
// run or left by a run that was killed.
func (d *Driver) Finish(ctx context.Context, log io.Writer) error {
	errs := d.finishWatches(ctx, log)
	d.mu.Lock()
	hosts := make([]string, 0, len(d.faultHosts))
	for h := range d.faultHosts {
		hosts = append(hosts, h)
	}
	d.mu.Unlock()
	sort.Strings(hosts)
	for _, h := range hosts {
		r, err := d.hosts.Run(ctx, h, remote.Script(undoScript))
		if err == nil {
			err = r.Err()
		}
		if err != nil {
			msg := err.Error()
			if r != nil {
				msg += "\n" + indent(r.Stdout+r.Stderr)
			}
			errs = append(errs, fmt.Sprintf("fault: host %s: undoing faults: %s", h, msg))
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
			if line != "" {
				fmt.Fprintf(log, "fault: %s: %s\n", h, line)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s\nthe records stay on the hosts; the next run that declares faults (or ping_watch()) there undoes them", strings.Join(errs, "\n"))
	}
	return nil
}
