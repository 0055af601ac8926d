package check

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// fault(host, "netem", ...) is a netem root qdisc where the host's kernel
// has netem. Where it has not (no sch_netem, as on this project's CI
// machines), an emulated lab's host runs `ovnrun lab impair` instead
// (internal/impair: a tc clsact redirect to a tap and a userspace process
// that delays and drops), as the lab's namespaces share the machine that
// runs ovnrun. A real host without netem gets an error naming the module.

// noNetem is the status of the netem script on a host whose kernel has no
// netem, when there is no impairer to fall back on.
const noNetem = 90

// qdisc is the netem qdisc's parameters, as tc takes them.
func (f *Fault) qdisc() string {
	q := "netem"
	if f.DelayMS > 0 {
		q += fmt.Sprintf(" delay %dms", f.DelayMS)
	}
	if f.LossPct > 0 {
		q += fmt.Sprintf(" loss %d%%", f.LossPct)
	}
	return q
}

// impairNames are the tap and the pidfile of f's impairer: named after
// the fault, so the record knows them before the impairer runs.
func impairNames(f *Fault) (tap, pidfile string) {
	sum := sha256.Sum256([]byte(f.M.ID))
	h := hex.EncodeToString(sum[:4])
	return "ovnimp" + h, `"${OVS_RUNDIR:-/var/run/openvswitch}/ovnrun-impair-` + h + `.pid"`
}

// impairUndo removes the redirect first (the frames then leave as before),
// then ends the impairer (its tap goes with it) and whatever is left.
func impairUndo(f *Fault) string {
	tap, pidfile := impairNames(f)
	return fmt.Sprintf(`tc qdisc del dev %s clsact 2>/dev/null; p=$(cat %s 2>/dev/null); `+
		`if [ -n "$p" ] && tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -q 'lab impair'; then kill $p; i=0; `+
		`while [ -d /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; fi; `+
		`rm -f %s; ip link del %s 2>/dev/null; true`, f.Dev, pidfile, pidfile, tap)
}

// netemScript makes the netem fault: the qdisc, or, where the kernel has
// none and impair is set, the impairer; each after its record. It prints
// which it made.
func (d *Driver) netemScript(f *Fault) string {
	rec := faultDir + "/" + recordName(f.M.ID)
	var b strings.Builder
	fmt.Fprintf(&b, "mkdir -p %s || exit 1\n%s\n", faultDir, undoLeft(rec))
	if !d.preferImpair || d.impair == nil {
		fmt.Fprintf(&b, "printf '%%s\\n' %s >%s || exit 1\n", remote.Quote("tc qdisc del dev "+f.Dev+" root"), rec)
		fmt.Fprintf(&b, "if err=$(tc qdisc replace dev %s root %s 2>&1); then echo netem; exit 0; fi\nrm -f %s\n", f.Dev, f.qdisc(), rec)
		// tc's words for a qdisc kind the kernel lacks.
		fmt.Fprintf(&b, "case $err in *'qdisc kind is unknown'*|*'Unknown qdisc'*) ;; *) echo \"$err\" >&2; exit 1;; esac\n")
	}
	if d.impair == nil {
		fmt.Fprintf(&b, "exit %d\n", noNetem)
		return b.String()
	}
	tap, pidfile := impairNames(f)
	argv := make([]string, 0, len(d.impair))
	for _, a := range d.impair {
		argv = append(argv, remote.Quote(a))
	}
	fmt.Fprintf(&b, "printf '%%s\\n' %s >%s || exit 1\n", remote.Quote(impairUndo(f)), rec)
	fmt.Fprintf(&b, "if ! %s --background --dev %s --tap %s --delay-ms %d --loss-pct %d --pidfile %s; then sh %s; rm -f %s; exit 1; fi\necho impair\n",
		strings.Join(argv, " "), f.Dev, tap, f.DelayMS, f.LossPct, pidfile, rec, rec)
	return b.String()
}

// netem makes the netem fault and says how.
func (d *Driver) netem(ctx context.Context, f *Fault) (string, error) {
	r, err := d.hosts.Run(ctx, f.M.Host, remote.Script(d.netemScript(f)))
	if err != nil {
		return "", err
	}
	do := "tc qdisc replace dev " + f.Dev + " root " + f.qdisc()
	switch {
	case r.Status == noNetem:
		return "", fmt.Errorf("%s: the kernel of host %s has no netem qdisc (module sch_netem); "+
			"only in an emulated lab (ovnrun --lab) does ovnrun impair a link without it", do, f.M.Host)
	case r.Err() != nil:
		return "", fmt.Errorf("%s: %v\n%s", do, r.Err(), indent(r.Stdout+r.Stderr))
	case strings.TrimSpace(r.Stdout) == "impair":
		return fmt.Sprintf("ovnrun lab impair on %s: %s (the kernel has no netem; undone when the run ends)",
			f.Dev, strings.TrimPrefix(f.qdisc(), "netem ")), nil
	}
	return do + " (undone when the run ends)", nil
}
