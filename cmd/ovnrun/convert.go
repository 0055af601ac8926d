package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ovnrun/ovnrun/convert"
	"github.com/ovnrun/ovnrun/internal/shellrec"
)

type convertFlags struct {
	hosts   []string
	output  string
	timeout time.Duration
}

// newConvertCommand is `ovnrun convert`.
func newConvertCommand(c *cli) *cobra.Command {
	var f convertFlags
	cmd := &cobra.Command{
		Use:   "convert [--host NAME=SCRIPT]... [SCRIPT]... [-o RUNBOOK.star]",
		Short: "turn shell runbooks into one Starlark runbook",
		Long: `ovnrun convert - turn shell runbooks into one Starlark runbook

  ovnrun convert --host h0=vms.sh --host h1=compute.sh topology.sh -o lab.star

Runs each script with bash, in a sandbox (its own directory, everything else read-only, no
network), with ovn-nbctl, ovn-sbctl, ovs-vsctl, systemctl, virsh, virt-install, ip, wget and
the other commands that change a machine (ssh, scp, sleep, yum, ...) shadowed by recorders,
so variables, $(...), here-docs and loops expand as they would and nothing touches this
machine. ovn-nbctl runs against a private Northbound database, whatever --db it names; the
topology it builds is written as ovnrun import would. The host commands become builtins on
the script's host (--host NAME=SCRIPT; an untagged SCRIPT is the central node's): service(),
ovs_external_ids(), bridge(), attach(), vm(), ip_route(), nb_connection(); any other becomes
a commented sh() under a "# TODO: check" line naming the script and line. Tagged scripts run
in the order given, then the untagged ones. See docs/convert.md.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			scripts, err := f.scripts(args)
			if err != nil {
				return &commandLineError{hint: hintFor(cmd), err: err}
			}
			return status(convertCommand(&f, scripts, c.stdout, c.stderr))
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringArrayVar(&f.hosts, "host", nil, "a script run on host `NAME=SCRIPT`; repeatable, and one script may be given for several hosts")
	fs.StringVarP(&f.output, "out", "o", "", "write the runbook to `FILE` instead of standard output")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up when the scripts have not finished after this long")
	return cmd
}

// scripts lists the tagged scripts, then the untagged ones.
func (f *convertFlags) scripts(args []string) ([]shellrec.Script, error) {
	var out []shellrec.Script
	for _, h := range f.hosts {
		name, path, ok := strings.Cut(h, "=")
		if !ok || name == "" || path == "" {
			return nil, fmt.Errorf("convert: --host %q: want NAME=SCRIPT", h)
		}
		out = append(out, shellrec.Script{Host: name, Path: path})
	}
	for _, a := range args {
		out = append(out, shellrec.Script{Path: a})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("convert: want a script, untagged or as --host NAME=SCRIPT")
	}
	for _, s := range out {
		if _, err := os.Stat(s.Path); err != nil {
			return nil, fmt.Errorf("convert: %w", err)
		}
	}
	return out, nil
}

func convertCommand(f *convertFlags, scripts []shellrec.Script, stdout, stderr io.Writer) int {
	ctx, stop := interruptContext(stderr)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	res, err := convert.Convert(ctx, scripts, convert.Options{Now: time.Now()})
	if err == nil && f.output != "" {
		err = os.WriteFile(f.output, res.Runbook, 0o644)
	} else if err == nil {
		_, err = stdout.Write(res.Runbook)
	}
	for _, failed := range res.Failed {
		fmt.Fprintf(stderr, "ovnrun: convert: warning: %s\n", failed)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: convert: %v\n", err)
		return exitFailure
	}
	return exitOK
}
