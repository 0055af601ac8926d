package main

import (
	"github.com/spf13/pflag"
)

// journalFlags say where the journal is and how a run uses it.
type journalFlags struct {
	journal         string
	resume          bool
	rerunUnfinished bool
}

func addJournalFlags(fs *pflag.FlagSet, f *journalFlags) {
	fs.StringVar(&f.journal, "journal", "", "the journal `FILE` (default: .RUNBOOK.ovnrun-journal beside the runbook)")
	fs.BoolVar(&f.resume, "resume", false, "continue a failed or interrupted run: skip what it finished and still holds")
	fs.BoolVar(&f.rerunUnfinished, "rerun-unfinished", false, "with --resume, run again unguarded commands an interrupted run may have run")
}
