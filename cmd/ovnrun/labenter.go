package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/ovnrun/ovnrun/internal/lab"
)

// `ovnrun lab exec|shell|capture`: work inside a lab that is up, in a
// host's namespace, a namespace VM's or a QEMU guest (labguest.go;
// docs/lab.md). Each names the lab
// (a runbook or a lab name) first, or not at all when one lab alone is up.

// labPlace finds the lab and the host or VM that args (`[LAB] HOST[/VM]`)
// name.
func labPlace(args []string) (*lab.Lab, lab.Place, error) {
	var name string
	switch len(args) {
	case 1:
		up := lab.List()
		if len(up) != 1 {
			return nil, lab.Place{}, fmt.Errorf("%d labs are up (%v): name one first, as in ovnrun lab exec LAB %s -- CMD", len(up), up, args[0])
		}
		name = up[0]
	case 2:
		name = labName(args[0])
	}
	l, err := lab.Open(name)
	if err != nil {
		return nil, lab.Place{}, err
	}
	p, err := l.Place(args[len(args)-1])
	return l, p, err
}

// runAt runs argv at p with the given streams and returns its exit status,
// which the command passes through.
func runAt(p lab.Place, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	full := p.Command(argv)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), nil
	case err != nil:
		return exitFailure, err
	}
	return exitOK, nil
}

func newLabExecCommand(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "exec [RUNBOOK|LAB] HOST[/VM] -- CMD...",
		Short: "run a command in a lab host's namespace or in a VM",
		Long: `ovnrun lab exec - run CMD in the network namespace of a lab host (with the environment its
sshd gives, so ovs-vsctl and ovn-nbctl reach its daemons) or of a namespace VM (HOST/VM).
In a QEMU guest (--lab-vms=qemu) CMD runs through the guest's QEMU guest agent (guest-exec):
its output comes when it has exited, and it reads no input. Its exit status is ovnrun's
(128+N when signal N killed it). The lab may be left out when it is the only one up.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if dash < 1 || dash > 2 || dash == len(args) {
				return &commandLineError{hint: hintFor(cmd), err: errors.New("lab exec takes [RUNBOOK|LAB] HOST[/VM] -- CMD...")}
			}
			return status(labRun(c, "lab exec", args[:dash], args[dash:]))
		},
	}
}

func newLabShellCommand(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "shell [RUNBOOK|LAB] HOST[/VM]",
		Short: "an interactive shell in a lab host's namespace or in a VM",
		Long: `ovnrun lab shell - an interactive shell (bash, else sh) in the network namespace of a lab host,
with its sshd's environment, or of a namespace VM (HOST/VM); its prompt names where it is, and
its exit status is ovnrun's.
A QEMU guest's shell is its serial console, attached raw to the terminal: Ctrl-] leaves it (as
in telnet and virsh console) and the guest's shell goes on, to be attached again. When nothing
reads the guest's console (the guest kit runs no getty), ovnrun starts a shell there through
the guest's agent; a stock image shows its own login prompt.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return &commandLineError{hint: hintFor(cmd), err: errors.New("lab shell takes [RUNBOOK|LAB] HOST[/VM]")}
			}
			sh := []string{"sh", "-i"}
			if _, err := exec.LookPath("bash"); err == nil {
				sh = []string{"bash", "--norc", "--noprofile", "-i"}
			}
			return status(labRun(c, "lab shell", args, sh))
		},
	}
}

// labRun runs argv at the place args name, with this process's streams.
func labRun(c *cli, verb string, args, argv []string) int {
	l, p, err := labPlace(args)
	if err == nil && verb == "lab shell" {
		p.Env = append(p.Env, fmt.Sprintf("PS1=[%s %s] \\w# ", l.Name, p.Name))
	}
	var stdin io.Reader
	if c.stdin != nil { // a nil *os.File is no reader
		stdin = c.stdin
	}
	var code int
	switch {
	case err != nil:
	case p.Guest != "" && verb == "lab shell":
		err = guestShell(c, l, p)
	case p.Guest != "":
		code, err = guestExec(p, argv, c.stdout, c.stderr)
	default:
		code, err = runAt(p, argv, stdin, c.stdout, c.stderr)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "ovnrun: %s: %v\n", verb, err)
		return exitFailure
	}
	return code
}

func newLabCaptureCommand(c *cli) *cobra.Command {
	var file string
	var count int
	cmd := &cobra.Command{
		Use:   "capture [flags] [RUNBOOK|LAB] HOST[/VM] DEV [-- FILTER...]",
		Short: "capture packets on a device of a lab host or VM (tcpdump)",
		Long: `ovnrun lab capture - capture packets with tcpdump on device DEV of a lab host or namespace
VM (ovnrun lab status lists the devices), as pcap: to stdout, so that it pipes into
wireshark -k -i -, or with -w into FILE. Words after -- are a tcpdump filter.
On a QEMU guest (HOST/VM, DEV its NIC such as eth0, or the tap itself) tcpdump runs on the
host side of that NIC: the tap libvirt plugged into the host's br-int, found by the NIC's MAC.
It sees what the guest sends and receives, not what stays inside the guest.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			filter := []string(nil)
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				args, filter = args[:dash], args[dash:]
			}
			if len(args) < 2 || len(args) > 3 {
				return &commandLineError{hint: hintFor(cmd), err: errors.New("lab capture takes [RUNBOOK|LAB] HOST[/VM] DEV")}
			}
			return status(labCapture(c, args[:len(args)-1], args[len(args)-1], file, count, filter))
		},
	}
	cmd.Flags().StringVarP(&file, "write", "w", "", "write the pcap to `FILE` instead of stdout")
	cmd.Flags().IntVarP(&count, "count", "c", 0, "stop after `N` packets (default: until interrupted)")
	return cmd
}

// labCapture runs tcpdump on dev at the place args name. tcpdump writes the
// pcap to its stdout, which ovnrun copies to the file: tcpdump may drop
// its privileges before it opens a file, and the file is then the user's.
func labCapture(c *cli, args []string, dev, file string, count int, filter []string) int {
	fail := func(err error) int {
		fmt.Fprintf(c.stderr, "ovnrun: lab capture: %v\n", err)
		return exitFailure
	}
	_, p, err := labPlace(args)
	if err == nil && p.Guest != "" {
		dev, err = guestTap(p, dev)
	}
	if err != nil {
		return fail(err)
	}
	tcpdump, err := lab.LookPath("tcpdump")
	if err != nil {
		return fail(fmt.Errorf("%w: scripts/install-deps.sh installs it", err))
	}
	argv := []string{tcpdump, "-i", dev, "-U", "-w", "-"}
	if count > 0 {
		argv = append(argv, "-c", strconv.Itoa(count))
	}
	out := c.stdout
	if file != "" {
		f, err := os.Create(filepath.Clean(file))
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		out = f
	}
	code, err := runAt(p, append(argv, filter...), nil, out, c.stderr)
	if err != nil {
		return fail(err)
	}
	return code
}
