package check

import (
	"fmt"
	"regexp"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// fault() changes a lab on purpose for the checks after it (a gateway
// chassis stopped, a link cut) and is undone when the run ends
// (faultdriver.go).

const faultDoc = `Breaks something on a host on purpose, for the checks that follow it in a verify step, and
undoes it when the run ends, whether the run passed, failed or was interrupted. kind is one of:
"stop" (service=: systemctl stop, undone by systemctl start; the lab's systemctl does the same),
"cut" (dev=: ip link set dev down, undone by up), "kill" (process=: SIGKILL to every process of
that exact name in the host's network namespace, undone by systemctl start of service=, which
defaults to the process name), and
"netem" (dev=, delay_ms= and/or loss_pct=, on what dev sends: a tc netem root qdisc, undone by
deleting it; where the host's kernel has no netem, in an emulated lab only, a tc clsact redirect of
dev's egress to a userspace impairer, ovnrun lab impair, undone by removing both). The host
keeps a record of each applied fault (in $OVS_RUNDIR/ovnrun-faults, /var/run/openvswitch by
default) before the fault is made; a run killed before it could undo it leaves the record, and the
next run of the runbook that declares faults on that host (--resume included) undoes it when it
ends, or before it makes that fault again. The fault runs on every apply, after the actions before it in its step; the plan shows kind
and its target, with the ID fault/<host>/<kind>-<target>. See docs/faults.md.`

// Fault is one deliberate change to a host, undone at the end of the run.
type Fault struct {
	interp.ActionMeta
	Kind    string // "stop", "cut", "kill" or "netem"
	Service string // stop; kill: the unit that restarts the process
	Dev     string // cut, netem
	Process string // kill
	DelayMS int    // netem
	LossPct int    // netem
}

// Fields implements interp.Action.
func (f *Fault) Fields() []interp.Field {
	fs := []interp.Field{interp.F("kind", f.Kind)}
	switch f.Kind {
	case "stop":
		fs = append(fs, interp.F("service", f.Service))
	case "cut":
		fs = append(fs, interp.F("dev", f.Dev))
	case "kill":
		fs = append(fs, interp.F("process", f.Process), interp.F("service", f.Service))
	case "netem":
		fs = append(fs, interp.F("dev", f.Dev), interp.F("delay_ms", f.DelayMS), interp.F("loss_pct", f.LossPct))
	}
	return fs
}

// nameRE is what a service, device or process name may be: it goes into
// a shell command line and a file name unquoted.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,63}$`)

func faultBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		hostv                 starlark.Value
		kind                  string
		service, dev, process string
		delay, loss           = 0, 0
	)
	if err := c.Unpack(2, "host", &hostv, "kind", &kind, "service?", &service, "dev?", &dev,
		"process?", &process, "delay_ms?", &delay, "loss_pct?", &loss); err != nil {
		return nil, err
	}
	h, err := c.HostArg("host", hostv)
	if err != nil {
		return nil, err
	}
	f := &Fault{Kind: kind, Service: service, Dev: dev, Process: process, DelayMS: delay, LossPct: loss}
	want := map[string]bool{}
	var target string
	switch kind {
	case "stop":
		want["service"], target = true, service
	case "cut":
		want["dev"], target = true, dev
	case "kill":
		want["process"], want["service"], target = true, true, process
		if f.Service == "" {
			f.Service = process
		}
	case "netem":
		want["dev"], want["delay_ms"], want["loss_pct"], target = true, true, true, dev
		switch {
		case delay < 0 || delay > 60000:
			return nil, c.Errorf("delay_ms %d is out of range 0..60000", delay)
		case loss < 0 || loss > 100:
			return nil, c.Errorf("loss_pct %d is out of range 0..100", loss)
		case delay == 0 && loss == 0:
			return nil, c.Errorf(`kind "netem" wants delay_ms= or loss_pct= above 0`)
		}
	default:
		return nil, c.Errorf("kind %q: want stop, cut, kill or netem", kind)
	}
	for name, v := range map[string]string{"service": service, "dev": dev, "process": process,
		"delay_ms": nonZero(delay), "loss_pct": nonZero(loss)} {
		if v != "" && !want[name] {
			return nil, c.Errorf("kind %q takes no %s=", kind, name)
		}
	}
	if target == "" {
		return nil, c.Errorf("kind %q wants %s=", kind, map[string]string{"stop": "service", "cut": "dev", "kill": "process", "netem": "dev"}[kind])
	}
	for _, v := range []string{service, dev, process} {
		if v != "" && !nameRE.MatchString(v) {
			return nil, c.Errorf("%q is not a service, device or process name", v)
		}
	}
	label := kind + "-" + target
	f.M = interp.Meta{Kind: "fault", Name: h.Name + ": " + kind + " " + target, Mode: interp.Command,
		Driver: DriverName, Host: h.Name, ID: checkID(c, "fault", h.Name+"/"+label)}
	if err := c.Add(f); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

func nonZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// commands returns the shell commands that make the fault and undo it,
// of every kind but netem, and what the make command does, to show.
func (f *Fault) commands() (do, undo, show string) {
	switch f.Kind {
	case "stop":
		do = "systemctl stop " + f.Service
		return do, "systemctl start " + f.Service, do
	case "cut":
		do = "ip link set dev " + f.Dev + " down"
		return do, "ip link set dev " + f.Dev + " up", do
	case "kill":
		// Only the processes in the shell's network namespace: an
		// emulated lab's hosts are namespaces of one machine, where a
		// plain pkill would kill every lab's daemons of that name (and
		// the machine's own). It fails when none was found, as pkill.
		do = fmt.Sprintf(`{ n=0; me=$(readlink /proc/$$/ns/net); for p in $(pgrep -x %s); do `+
			`[ "$(readlink /proc/$p/ns/net 2>/dev/null)" = "$me" ] && kill -KILL $p 2>/dev/null && n=$((n+1)); done; [ $n -gt 0 ]; }`, f.Process)
		return do, "systemctl start " + f.Service, "SIGKILL to " + f.Process + " in the host's network namespace"
	}
	return "", "", "" // netem has scripts of its own (netem.go)
}
