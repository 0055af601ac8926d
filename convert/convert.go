// Package convert turns shell runbooks into one Starlark runbook: it runs
// the scripts with internal/shellrec against a private Northbound
// (internal/nbscratch), maps the host commands it recorded to ovnrun's
// builtins on the host each script is tagged with, and has
// builtins/ovn/nbimport write the topology the scripts' ovn-nbctl calls
// built. It may import those three packages and the standard library.
package convert

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ovnrun/ovnrun/builtins/ovn/nbimport"
	"github.com/ovnrun/ovnrun/internal/nbscratch"
	"github.com/ovnrun/ovnrun/internal/shellrec"
)

// Options are what Convert needs besides the scripts.
type Options struct {
	Now time.Time
	// Import writes the topology from the private NB; nil is nbimport.Import.
	Import func(ctx context.Context, addr string, opt nbimport.Options) ([]byte, error)
}

// Result is the runbook and what the run of the scripts said.
type Result struct {
	Runbook []byte
	// Failed names scripts that exited non-zero, with their stderr: the
	// runbook holds what they recorded up to there.
	Failed []string
}

// Convert runs scripts (a Script with Host "" is the central node's) and
// returns the runbook they amount to.
func Convert(ctx context.Context, scripts []shellrec.Script, opt Options) (Result, error) {
	if len(scripts) == 0 {
		return Result{}, fmt.Errorf("convert: no script")
	}
	if opt.Import == nil {
		opt.Import = nbimport.Import
	}
	dir, err := os.MkdirTemp("", "ovnrun-convert-")
	if err != nil {
		return Result{}, fmt.Errorf("convert: %w", err)
	}
	defer os.RemoveAll(dir)
	nbDir := filepath.Join(dir, "nb")
	if err := os.Mkdir(nbDir, 0o755); err != nil {
		return Result{}, fmt.Errorf("convert: %w", err)
	}
	nb, err := nbscratch.Start(ctx, nbDir)
	if err != nil {
		return Result{}, fmt.Errorf("convert: %w", err)
	}
	defer nb.Stop()
	rec, err := shellrec.New(dir, nb.Sock)
	if err != nil {
		return Result{}, fmt.Errorf("convert: %w", err)
	}
	var res Result
	var runs []shellrec.Result
	for _, s := range scripts {
		r, err := rec.Run(ctx, s)
		if err != nil {
			return Result{}, fmt.Errorf("convert: %w", err)
		}
		if r.Status != 0 {
			res.Failed = append(res.Failed, fmt.Sprintf("%s exited with status %d: %s", s.Path, r.Status, strings.TrimSpace(r.Stderr)))
		}
		runs = append(runs, r)
	}
	facts, err := nbFacts(ctx, nb.Addr)
	if err != nil {
		return Result{}, fmt.Errorf("convert: %w", err)
	}
	facts.Central = centralHost(runs)
	m := newMapper(runs, facts)
	prelude := m.prelude()
	var names []string
	for _, s := range scripts {
		names = append(names, filepath.Base(s.Path))
	}
	text, err := opt.Import(ctx, nb.Addr, nbimport.Options{Source: "the scripts' ovn-nbctl commands", Now: opt.Now,
		Chassis: m.chassis, Prelude: prelude, IncludeOwned: true})
	if err != nil {
		return Result{}, fmt.Errorf("convert: %w", err)
	}
	res.Runbook = m.finish(text, names, opt.Now)
	return res, nil
}

// centralHost is the host untagged scripts run on: the one whose scripts
// start ovn-northd or set the databases' connections, else "central".
func centralHost(runs []shellrec.Result) string {
	for _, r := range runs {
		for _, rec := range r.Records {
			line := strings.Join(rec.Argv, " ")
			if r.Script.Host != "" && (strings.Contains(line, "ovn-northd") || strings.Contains(line, "set-connection")) {
				return r.Script.Host
			}
		}
	}
	return "central"
}

// Facts are what the mapping needs to know of the NB the scripts built.
type Facts struct {
	Central string
	// Chassis are the chassis names the NB refers to (gateway chassis, HA
	// chassis, l3 gateway routers' options:chassis), in order.
	Chassis []string
	// RouterIPs maps each router port address to the port's name.
	RouterIPs map[string]string
}

// nbFacts reads Facts from the private NB with ovn-nbctl.
func nbFacts(ctx context.Context, addr string) (Facts, error) {
	f := Facts{RouterIPs: map[string]string{}}
	nbctl := func(args ...string) ([]string, error) {
		out, err := exec.CommandContext(ctx, "ovn-nbctl", append([]string{"--db=" + addr, "--bare", "--no-headings"}, args...)...).Output()
		if err != nil {
			return nil, fmt.Errorf("reading the private nb: ovn-nbctl %s: %w", strings.Join(args, " "), err)
		}
		return strings.Split(strings.TrimSpace(string(bytes.TrimSpace(out))), "\n"), nil
	}
	seen := map[string]bool{}
	for _, q := range [][]string{{"--columns=chassis_name", "list", "Gateway_Chassis"},
		{"--columns=chassis_name", "list", "HA_Chassis"}, {"--columns=options", "list", "Logical_Router"}} {
		lines, err := nbctl(q...)
		if err != nil {
			return f, err
		}
		for _, l := range lines {
			for _, w := range strings.Fields(l) {
				name, isOption := strings.CutPrefix(w, "chassis=")
				if q[0] == "--columns=options" && !isOption {
					continue
				}
				if name = strings.Trim(name, `"`); name != "" && !seen[name] {
					seen[name] = true
					f.Chassis = append(f.Chassis, name)
				}
			}
		}
	}
	lines, err := nbctl("--columns=name,networks", "list", "Logical_Router_Port")
	if err != nil {
		return f, err
	}
	// --bare prints each row's columns on lines of their own, rows apart
	// by a blank line.
	var name string
	for _, l := range lines {
		switch {
		case l == "":
			name = ""
		case name == "":
			name = l
		default:
			for _, n := range strings.Fields(l) {
				ip, _, _ := strings.Cut(n, "/")
				f.RouterIPs[ip] = name
			}
		}
	}
	return f, nil
}
