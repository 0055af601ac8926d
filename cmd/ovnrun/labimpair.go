package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/ovnrun/ovnrun/internal/impair"
)

// newLabImpairCommand is the hidden `ovnrun lab impair`: the userspace link
// impairer that fault(host, "netem", ...) starts in an emulated lab host
// whose kernel has no netem (internal/impair, docs/faults.md). It is not
// for people: a run starts and stops it.
func newLabImpairCommand(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:                "impair",
		Short:              "the userspace netem of fault() in the lab (started by runs)",
		Long:               "ovnrun lab impair - " + impair.Usage + "\n\nStarted by fault(host, \"netem\", ...) in an emulated lab whose kernel has no netem: see docs/faults.md.",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return status(impair.Main(args, c.stderr))
		},
	}
}

// impairArgv is how a lab host runs `ovnrun lab impair`: this executable,
// on the machine the lab's namespaces share.
func impairArgv() []string {
	exe, err := os.Executable()
	if err != nil {
		return nil // fault "netem" then fails as on a host outside the lab
	}
	return []string{exe, "lab", "impair"}
}
