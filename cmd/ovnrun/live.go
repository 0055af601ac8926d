package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/interp"
)

// liveFlags are the flags of runs that contact the lab: apply, live
// dry-run, destroy.
type liveFlags struct {
	nb             string
	ssl            ovsdbmodel.TLSFiles
	timeout        time.Duration
	adopt, destroy bool
	owner          string
	noPrune        bool
	wait           string
	parallel       int
	journalFlags
	hosts hostFlags
	lab   labFlags
	virt  virtFlags
	// text is how the text plan is printed: coloured on a terminal.
	text interp.TextOptions
}

func addLiveFlags(fs *pflag.FlagSet, f *liveFlags) {
	fs.StringVar(&f.nb, "nb", "", "the NB endpoint `ADDR[,ADDR]` (several: a clustered NB), overriding the runbook's ovn_nb()")
	addSSLFlags(fs, &f.ssl)
	fs.DurationVar(&f.timeout, "nb-timeout", ovn.DefaultConnectTimeout, "give up connecting to the NB after this long")
	fs.BoolVar(&f.adopt, "adopt", false, "take over NB rows with declared names that this runbook did not create")
	fs.BoolVar(&f.destroy, "destroy", false, "delete every NB row, VM and VM NIC this runbook created and undo what it did on hosts, nothing else (with --lab, reset the lab's hosts instead)")
	fs.StringVar(&f.owner, "owner", "", "act as owner `NAME`: the tag of the NB rows and VMs this run creates, prunes and destroys (default: the runbook's lab(), else its base name and a hash of its path)")
	fs.BoolVar(&f.noPrune, "no-prune", false, "keep the NB rows, VMs and host settings this owner created that the runbook no longer declares (apply deletes or undoes them)")
	fs.StringVar(&f.wait, "wait", "none", "after each NB transaction, wait for `sb|hv|none`: ovn-northd (sb), every chassis (hv), or nothing")
	fs.IntVar(&f.parallel, "parallel", interp.DefaultParallel, "configure at most `N` hosts at once (0: the default); checks are not counted")
	addJournalFlags(fs, &f.journalFlags)
	addHostFlags(fs, &f.hosts)
	addLabFlags(fs, &f.lab)
	addVirtFlags(fs, &f.virt)
}

// runOptions converts the flags of a run into the engine's options: the one
// place where flag values become a run. Inside a lab (l != nil), the lab
// supplies the hosts' inventory, the journal and the VMs.
func runOptions(f *planFlags, stdout, stderr io.Writer) (engine.Options, error) {
	lf := &f.live
	if lf.parallel < 0 {
		return engine.Options{}, fmt.Errorf("--parallel %d: want at least 1 (0: the default)", lf.parallel)
	}
	if lf.owner != "" {
		if err := interp.CheckName(lf.owner); err != nil {
			return engine.Options{}, fmt.Errorf("--owner: %v", err)
		}
	}
	switch lf.wait {
	case "", "none", "sb", "hv":
	default:
		if !f.offline { // an offline plan waits for nothing
			return engine.Options{}, fmt.Errorf("--wait %q: want sb, hv or none", lf.wait)
		}
	}
	o := engine.Options{
		Domains: domains(lf),
		DryRun:  f.dryRun, Offline: f.offline, Destroy: lf.destroy,
		Output: f.output, Text: lf.text, Only: f.only, From: f.from, Parallel: lf.parallel,
		Owner: lf.owner, NoPrune: lf.noPrune,
		Journal: engine.JournalOptions{Path: lf.journal, Resume: lf.resume, RerunUnfinished: lf.rerunUnfinished},
		Hosts:   lf.hosts.options(),
		Stdout:  stdout, Stderr: stderr,
	}
	if l := lf.lab.lab; l != nil {
		l.Configure(&o)
		// The lab's hosts share this machine: where their kernel has no
		// netem, fault "netem" runs this executable there instead.
		o.Overrides = append(o.Overrides, check.LabDriver(impairArgv()))
	}
	return o, nil
}

// The lab's namespace VMs give checks their addresses and echo sockets
// without a process in the VM; a change to either interface must not
// silently put the checks back on commands.
var (
	_ check.GuestAddresser = (*lab.VMDriver)(nil)
	_ check.GuestEchoer    = (*lab.VMDriver)(nil)
)
