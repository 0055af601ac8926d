// Package shellrec runs shell scripts with the commands that would change a
// machine shadowed by recorders, and returns what each script asked for:
// command, arguments, the line it ran from and the files it named. Scripts
// run under bash in a sandbox (their own directory writable, everything
// else read-only, no network, their own PIDs), with a clean environment, so
// variables, $(...), here-docs and loops expand as they would on the real
// machine while nothing touches this one. ovn-nbctl runs for real against a
// private Northbound database the caller provides. It imports only the
// standard library.
package shellrec

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

//go:embed recorder.sh
var recorder string

//go:embed env.sh
var bashEnv string

//go:embed sandbox.sh
var sandbox string

// Recorded are the commands shadowed by recorders: the ones ovnrun has
// builtins for, and the others a lab script uses to change a machine or
// reach another, which must not run here.
var Recorded = []string{
	"ovn-nbctl", "ovn-sbctl", "ovs-vsctl", "systemctl", "virsh", "virt-install", "ip", "wget",
	"service", "ssh", "scp", "rsync", "curl", "sleep", "yum", "dnf", "apt", "apt-get", "rpm", "dpkg",
	"pip", "pip3", "chmod", "chown", "modprobe", "rmmod", "sysctl", "reboot", "shutdown", "poweroff",
	"hostnamectl", "firewall-cmd", "setenforce", "iptables", "nft", "ethtool", "tc", "tcpdump",
	"ping", "ovs-ofctl", "ovs-appctl", "ovn-appctl", "ovsdb-tool", "ovs-ctl", "ovn-ctl", "kill", "pkill",
	"killall", "nmcli", "ifup", "ifdown", "brctl", "dhclient", "mount", "umount", "useradd", "passwd",
}

// systemPath is the PATH of a clean root login, behind the recorders.
const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Script is one script to run and the host it is meant for.
type Script struct {
	Path string
	Host string // "" for the central node
}

// Record is one recorded command.
type Record struct {
	Script string // the script's path as given
	Host   string
	Line   int
	Argv   []string // Argv[0] is the command's name
	// Files are the script's own files the arguments name (an interface
	// XML written by a here-doc), as they were when the command ran.
	Files map[string]string
}

// Where names the record's script and line, as error messages and TODO
// comments do.
func (r Record) Where() string { return fmt.Sprintf("%s:%d", filepath.Base(r.Script), r.Line) }

// Result is what a script run gave.
type Result struct {
	Script  Script
	Records []Record
	Status  int    // the script's exit status
	Stderr  string // what it printed on stderr
}

// Recorder runs scripts, one after another, against one private NB.
type Recorder struct {
	dir    string // root of the recorders, the NB socket and the scripts' directories
	nbSock string
	nbctl  string
	runs   int
}

// New prepares a Recorder in dir (which must exist and be the caller's)
// whose ovn-nbctl talks to the NB at the unix socket nbSock, which must lie
// under dir: the sandbox keeps only dir reachable.
func New(dir, nbSock string) (*Recorder, error) {
	nbctl, err := exec.LookPath("ovn-nbctl")
	if err != nil {
		return nil, fmt.Errorf("shellrec: the real ovn-nbctl is needed for the private NB: %w", err)
	}
	for _, tool := range []string{"bash", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("shellrec: %w", err)
		}
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, err
	}
	rec := filepath.Join(dir, "recorder")
	for name, text := range map[string]string{rec: recorder, filepath.Join(dir, "env.sh"): bashEnv, filepath.Join(dir, "sandbox.sh"): sandbox} {
		if err := os.WriteFile(name, []byte(text), 0o755); err != nil {
			return nil, err
		}
	}
	for _, name := range Recorded {
		if err := os.Symlink(rec, filepath.Join(bin, name)); err != nil {
			return nil, err
		}
	}
	return &Recorder{dir: dir, nbSock: nbSock, nbctl: nbctl}, nil
}

// Run runs one script in a directory of its own and returns its records.
// A script that fails is not an error: its status and stderr say so.
func (r *Recorder) Run(ctx context.Context, s Script) (Result, error) {
	src, err := os.ReadFile(s.Path)
	if err != nil {
		return Result{}, fmt.Errorf("shellrec: %w", err)
	}
	r.runs++
	run := filepath.Join(r.dir, fmt.Sprintf("run%d", r.runs))
	work := filepath.Join(run, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return Result{}, err
	}
	// A copy, so that the script's path is known to the BASH_ENV hook and
	// lies inside the sandbox.
	script := filepath.Join(run, filepath.Base(s.Path))
	if err := os.WriteFile(script, src, 0o644); err != nil {
		return Result{}, err
	}
	log := filepath.Join(run, "log")
	if err := os.WriteFile(log, nil, 0o644); err != nil {
		return Result{}, err
	}
	args := []string{"--mount", "--net", "--pid", "--fork", "--mount-proc", "--kill-child", "--propagation", "private"}
	if os.Geteuid() != 0 {
		args = append([]string{"--map-root-user"}, args...)
	}
	args = append(args, "bash", filepath.Join(r.dir, "sandbox.sh"))
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Dir = work
	cmd.Env = []string{
		"PATH=" + systemPath, "SHELLREC_PATH=" + filepath.Join(r.dir, "bin") + ":" + systemPath,
		"HOME=" + work, "LANG=C", "LC_ALL=C", "USER=root", "LOGNAME=root", "SHELL=/bin/bash", "TERM=dumb",
		"BASH_ENV=" + filepath.Join(r.dir, "env.sh"),
		"SHELLREC_DIR=" + r.dir, "SHELLREC_WORK=" + work, "SHELLREC_LOG=" + log,
		"SHELLREC_SCRIPT_PATH=" + script, "SHELLREC_NB=" + r.nbSock, "SHELLREC_NBCTL=" + r.nbctl,
	}
	var stderr bytes.Buffer
	cmd.Stdin = nil
	cmd.Stdout = &stderr // a script's own output is not the runbook's business, but worth showing with its errors
	cmd.Stderr = &stderr
	res := Result{Script: s}
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || ctx.Err() != nil {
			return res, fmt.Errorf("shellrec: %s: %w", s.Path, errors.Join(err, ctx.Err()))
		}
		res.Status = exit.ExitCode()
	}
	res.Stderr = stderr.String()
	data, err := os.ReadFile(log)
	if err != nil {
		return res, err
	}
	res.Records, err = parseLog(data, s)
	return res, err
}

// parseLog reads the recorders' log: per record, NUL-terminated fields
// line, command, argc, args..., file count, then name and content per file.
func parseLog(data []byte, s Script) ([]Record, error) {
	fields := strings.Split(string(data), "\x00")
	if len(fields) > 0 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	next := func() (string, error) {
		if len(fields) == 0 {
			return "", errors.New("shellrec: the recorders' log is cut short")
		}
		f := fields[0]
		fields = fields[1:]
		return f, nil
	}
	num := func() (int, error) {
		f, err := next()
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(f)
	}
	var out []Record
	for len(fields) > 0 {
		r := Record{Script: s.Path, Host: s.Host}
		var err error
		if r.Line, err = num(); err != nil {
			return nil, err
		}
		name, err := next()
		if err != nil {
			return nil, err
		}
		argc, err := num()
		if err != nil {
			return nil, err
		}
		r.Argv = []string{name}
		for range argc {
			a, err := next()
			if err != nil {
				return nil, err
			}
			r.Argv = append(r.Argv, a)
		}
		nfiles, err := num()
		if err != nil {
			return nil, err
		}
		for range nfiles {
			f, err := next()
			if err != nil {
				return nil, err
			}
			content, err := next()
			if err != nil {
				return nil, err
			}
			if r.Files == nil {
				r.Files = map[string]string{}
			}
			r.Files[f] = content
		}
		out = append(out, r)
	}
	return out, nil
}
