package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/topo"
	"github.com/ovnrun/ovnrun/interp"
)

type graphFlags struct {
	format, output string
	vars, libs     []string
	nb             string
	ssl            ovsdbmodel.TLSFiles
	timeout        time.Duration
	limits         evalLimits
}

// graphFormats are the values of --format.
var graphFormats = []string{"dot", "mermaid", "svg", "png", "pdf"}

// formatsByExt gives --format from the name given to -o.
var formatsByExt = map[string]string{".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid",
	".svg": "svg", ".png": "png", ".pdf": "pdf"}

// newGraphCommand is `ovnrun graph`.
func newGraphCommand(c *cli) *cobra.Command {
	var f graphFlags
	cmd := &cobra.Command{
		Use:   "graph [flags] [RUNBOOK.star]",
		Short: "draw the topology: dot, mermaid, svg, png, pdf",
		Long: `ovnrun graph - draw a lab's logical topology and the hosts and VMs behind it

  ovnrun graph [flags] RUNBOOK.star     the topology the runbook builds (contacts nothing)
  ovnrun graph --nb ADDR [RUNBOOK.star] the topology in a live Northbound database (read only);
                                        a runbook adds its hosts, bridges and VMs

svg, png and pdf need Graphviz's dot.`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeRunbook(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			runbook, err := f.check(args)
			if err != nil {
				return &commandLineError{hint: hintFor(cmd), err: err}
			}
			return status(graphCommand(&f, runbook, c.stdout, c.stderr))
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&f.format, "format", "", "output `FORMAT`: dot, mermaid, svg, png or pdf (default: from -o's extension, else dot)")
	fs.StringVarP(&f.output, "out", "o", "", "write to `FILE` instead of standard output; its extension (.dot .gv .mmd .mermaid .svg .png .pdf) must match the format")
	fs.StringArrayVarP(&f.vars, "var", "D", nil, "set a runbook variable read with var(), as `NAME=VALUE`; repeatable")
	fs.StringArrayVar(&f.libs, "lib", nil, "search `DIR` for load() paths; repeatable")
	addEvalLimitFlags(fs, &f.limits)
	fs.StringVar(&f.nb, "nb", "", "read the logical topology from the NB at `ADDR[,ADDR]` (several: a clustered NB)")
	addSSLFlags(fs, &f.ssl)
	fs.DurationVar(&f.timeout, "nb-timeout", ovn.DefaultConnectTimeout, "give up connecting to the NB after this long")
	completeFixed(cmd, "format", graphFormats...)
	return cmd
}

// check refuses arguments and flag combinations that make no sense and
// returns the runbook's path, if one is given.
func (f *graphFlags) check(args []string) (string, error) {
	var runbook string
	switch {
	case len(args) == 1:
		runbook = args[0]
	case len(args) > 1:
		return "", fmt.Errorf("graph: want one runbook, got %d arguments", len(args))
	case f.nb == "":
		return "", fmt.Errorf("graph: want a runbook, or --nb ADDR to read a live NB")
	case len(f.vars) > 0 || len(f.libs) > 0:
		return "", fmt.Errorf("graph: -D and --lib need a runbook")
	}
	if f.format != "" && !slices.Contains(graphFormats, f.format) {
		return "", fmt.Errorf("graph: --format %q: want %s", f.format, strings.Join(graphFormats, ", "))
	}
	if err := f.formatFromOutput(); err != nil {
		return "", err
	}
	return runbook, nil
}

// formatFromOutput takes the format from -o's extension when --format is not
// given, and refuses a file whose extension names another format or none
// that ovnrun draws: a .pdf holds a PDF, never DOT text.
func (f *graphFlags) formatFromOutput() error {
	ext := filepath.Ext(f.output)
	byExt, known := formatsByExt[strings.ToLower(ext)]
	switch {
	case f.format == "" && f.output == "":
		f.format = "dot"
	case f.format == "" && known:
		f.format = byExt
	case f.format == "" && ext == "":
		f.format = "dot"
	case f.format == "":
		return fmt.Errorf("graph: -o %s: ovnrun draws no %s files: name it .dot, .gv, .mmd, .svg, .png or .pdf, or give --format", f.output, ext)
	case known && byExt != f.format:
		return fmt.Errorf("graph: -o %s is a %s file, not %s: drop --format or change the extension", f.output, byExt, f.format)
	}
	return nil
}

// graphCommand draws the topology of a runbook's plan, or of a live NB.
func graphCommand(f *graphFlags, runbook string, stdout, stderr io.Writer) int {
	var err error
	ctx, stop := interruptContext(stderr)
	defer stop()
	var plan *interp.Plan
	if runbook != "" {
		vars, err := parseVars(f.vars)
		if err != nil {
			return usageError(stderr, "ovnrun graph", err)
		}
		var code int
		if plan, code = evaluateRunbook(ctx, runbook, vars, f.libs, f.limits, nil, stderr); plan == nil {
			return code
		}
	}
	var t *topo.Topology
	if f.nb != "" {
		var hosts []*topo.Host
		if plan != nil {
			hosts = topo.HostsFromPlan(plan)
		}
		eps := ovn.SplitEndpoints(f.nb)
		opts, err := ovn.ConnectOptions(eps, f.ssl)
		if err == nil {
			nctx, cancel := context.WithTimeout(ctx, f.timeout)
			t, err = ovn.ReadTopology(nctx, eps, hosts, opts...)
			cancel()
		}
		if err != nil {
			fmt.Fprintf(stderr, "ovnrun: graph: %v\n", err)
			return exitFailure
		}
	} else {
		t = topo.FromPlan(plan)
	}

	var out bytes.Buffer
	switch f.format {
	case "dot":
		err = topo.WriteDOT(&out, t)
	case "mermaid":
		err = topo.WriteMermaid(&out, t)
	default:
		err = topo.Render(ctx, &out, t, f.format)
	}
	if err == nil && f.output != "" {
		err = os.WriteFile(f.output, out.Bytes(), 0o644)
	} else if err == nil {
		_, err = stdout.Write(out.Bytes())
	}
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: graph: %v\n", err)
		return exitFailure
	}
	return exitOK
}
