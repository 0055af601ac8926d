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

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/internal/topo"
	"github.com/ovnrun/ovnrun/interp"
)

const graphUsage = `ovnrun graph - draw a lab's logical topology and the hosts and VMs behind it

Usage:
  ovnrun graph [flags] RUNBOOK.star     the topology the runbook builds (contacts nothing)
  ovnrun graph --nb ADDR [RUNBOOK.star] the topology in a live Northbound database (read only);
                                        a runbook adds its hosts, bridges and VMs

Flags:
  --format dot|mermaid|svg|png|pdf
                                output format (default: from -o's extension, else dot);
                                svg, png and pdf need Graphviz's dot
  -o, --out FILE                write to FILE instead of standard output; its extension
                                (.dot .gv .mmd .mermaid .svg .png .pdf) must match the format
  -D, --var NAME=VALUE          set a runbook variable read with var(); repeatable
  --lib DIR                     search DIR for load() paths; repeatable
  --max-steps N, --max-memory SIZE
                                bound the runbook's evaluation, as for a run (ovnrun --help)
  --nb ADDR[,ADDR]              read the logical topology from this NB (several: a clustered NB)
  --nb-timeout DUR              give up connecting to the NB after DUR (default 10s)
`

type graphFlags struct {
	format, output string
	vars, libs     []string
	nb             string
	timeout        time.Duration
	limits         evalLimits
}

// graphFormats are the values of --format.
var graphFormats = []string{"dot", "mermaid", "svg", "png", "pdf"}

// formatsByExt gives --format from the name given to -o.
var formatsByExt = map[string]string{".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid",
	".svg": "svg", ".png": "png", ".pdf": "pdf"}

func parseGraphFlags(args []string, stderr io.Writer) (*graphFlags, string, error) {
	var f graphFlags
	fs := pflag.NewFlagSet("ovnrun graph", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, graphUsage) }
	fs.StringVar(&f.format, "format", "", "dot, mermaid, svg or png")
	fs.StringVarP(&f.output, "out", "o", "", "output file")
	fs.StringArrayVarP(&f.vars, "var", "D", nil, "runbook variable NAME=VALUE")
	fs.StringArrayVar(&f.libs, "lib", nil, "library search directory")
	addEvalLimitFlags(fs, &f.limits)
	fs.StringVar(&f.nb, "nb", "", "read the logical topology from this NB")
	fs.DurationVar(&f.timeout, "nb-timeout", ovn.DefaultConnectTimeout, "NB connect timeout")
	if err := parseFlags(fs, args); err != nil {
		return nil, "", err
	}
	var runbook string
	switch {
	case fs.NArg() == 1:
		runbook = fs.Arg(0)
	case fs.NArg() > 1:
		return nil, "", fmt.Errorf("graph: want one runbook, got %d arguments", fs.NArg())
	case f.nb == "":
		return nil, "", fmt.Errorf("graph: want a runbook, or --nb ADDR to read a live NB")
	case len(f.vars) > 0 || len(f.libs) > 0:
		return nil, "", fmt.Errorf("graph: -D and --lib need a runbook")
	}
	if f.format != "" && !slices.Contains(graphFormats, f.format) {
		return nil, "", fmt.Errorf("graph: --format %q: want %s", f.format, strings.Join(graphFormats, ", "))
	}
	if err := f.formatFromOutput(); err != nil {
		return nil, "", err
	}
	return &f, runbook, nil
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
func graphCommand(args []string, stdout, stderr io.Writer) int {
	f, runbook, err := parseGraphFlags(args, stderr)
	if err != nil {
		return usageError(stderr, "ovnrun graph", err)
	}
	ctx, stop := interruptContext(stderr)
	defer stop()
	var plan *interp.Plan
	if runbook != "" {
		vars, err := parseVars(f.vars)
		if err != nil {
			return usageError(stderr, "ovnrun graph", err)
		}
		var code int
		if plan, code = evaluateRunbook(ctx, runbook, vars, f.libs, f.limits, stderr); plan == nil {
			return code
		}
	}
	var t *topo.Topology
	if f.nb != "" {
		var hosts []*topo.Host
		if plan != nil {
			hosts = topo.HostsFromPlan(plan)
		}
		nctx, cancel := context.WithTimeout(ctx, f.timeout)
		t, err = ovn.ReadTopology(nctx, ovn.SplitEndpoints(f.nb), hosts)
		cancel()
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
