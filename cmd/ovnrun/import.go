package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/builtins/ovn/nbimport"
	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
)

type importFlags struct {
	nb, output   string
	includeOwned bool
	ssl          ovsdbmodel.TLSFiles
	timeout      time.Duration
}

// newImportCommand is `ovnrun import`.
func newImportCommand(c *cli) *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import --nb ADDR [-o RUNBOOK.star] [--include-owned]",
		Short: "write a runbook from a live Northbound database",
		Long: `ovnrun import - write the runbook that builds a live Northbound database

  ovnrun import --nb ADDR [-o lab.star]

Every row of the NB becomes the builtin that declares it (ls, lsp, lr, lrp(peer=), acl, ...),
inside step("topology", ...); tables without a builtin become row() calls, and what neither can
declare is named in a comment. Chassis names become variables, DHCP options one variable each.
Rows owned by another ovnrun runbook are left out unless --include-owned. Reads only.
See docs/import.md.`,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &commandLineError{hint: hintFor(cmd), err: fmt.Errorf("import: takes no arguments, got %q (the NB is --nb ADDR, the runbook -o FILE)", args[0])}
			}
			if f.nb == "" {
				return &commandLineError{hint: hintFor(cmd), err: fmt.Errorf("import: want --nb ADDR, the Northbound database to read")}
			}
			return status(importCommand(&f, c.stdout, c.stderr))
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&f.nb, "nb", "", "read the NB at `ADDR[,ADDR]` (several: a clustered NB)")
	fs.StringVarP(&f.output, "out", "o", "", "write the runbook to `FILE` instead of standard output")
	fs.BoolVar(&f.includeOwned, "include-owned", false, "also import rows another ovnrun runbook owns")
	addSSLFlags(fs, &f.ssl)
	fs.DurationVar(&f.timeout, "nb-timeout", ovn.DefaultConnectTimeout, "give up connecting to the NB after this long")
	return cmd
}

func importCommand(f *importFlags, stdout, stderr io.Writer) int {
	ctx, stop := interruptContext(stderr)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	text, err := nbimport.Import(ctx, f.nb, nbimport.Options{IncludeOwned: f.includeOwned, Source: f.nb, Now: time.Now(), SSL: f.ssl})
	if err == nil && f.output != "" {
		err = os.WriteFile(f.output, text, 0o644)
	} else if err == nil {
		_, err = stdout.Write(text)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: import: %v\n", err)
		return exitFailure
	}
	return exitOK
}
