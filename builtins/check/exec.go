package check

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// exec() runs a command inside a VM as a check: that a stock image's
// service is up, a file is there, a route is installed.

const execDoc = `Checks a VM from inside by running argv (a non-empty list of strings: the program, then its
arguments, with no shell unless argv names one, such as ["sh", "-c", "ip route | grep default"]) in
the guest of vm. It runs through the guest's QEMU guest agent (guest-exec) when the guest runs one,
as stock cloud images with qemu-guest-agent do, else through ovnrun's own channel (the lab's guest
kit serves both). The check passes when the command exits with expect_status (default 0) and, if
stdout_contains is given, its standard output contains that text; until then it is run again, a
guest still booting included, for up to timeout_s seconds (default 30, 1..3600). The check runs on
every apply after the VM; its result shows the exit status and the first line of output. The plan
shows src, argv, expect_status, stdout_contains and timeout_s, with the ID exec/<host>/<vm> (#2,
#3... for repeats).`

// Exec runs a command in a VM and succeeds when it ends as expected.
type Exec struct {
	interp.ActionMeta
	// Src is "h0/v0" for VM Guest on host Meta.Host, where argv runs.
	Src, Guest     string
	Argv           []string
	ExpectStatus   int
	StdoutContains string
	TimeoutS       int
}

// Fields implements interp.Action.
func (e *Exec) Fields() []interp.Field {
	return []interp.Field{
		interp.F("src", e.Src),
		interp.F("argv", e.Argv),
		interp.F("expect_status", e.ExpectStatus),
		interp.F("stdout_contains", e.StdoutContains),
		interp.F("timeout_s", e.TimeoutS),
	}
}

// argvArg is an Unpacker for a command: a non-empty list of strings
// without NUL bytes.
type argvArg []string

func (a *argvArg) Unpack(v starlark.Value) error {
	l, ok := v.(*starlark.List)
	if !ok {
		return fmt.Errorf("got %s, want list of strings", v.Type())
	}
	if l.Len() == 0 {
		return fmt.Errorf("want at least the program to run")
	}
	out := make([]string, l.Len())
	for i := range l.Len() {
		s, ok := starlark.AsString(l.Index(i))
		if !ok {
			return fmt.Errorf("element %d: got %s, want string", i, l.Index(i).Type())
		}
		if strings.ContainsRune(s, 0) {
			return fmt.Errorf("element %d contains a NUL byte", i)
		}
		out[i] = s
	}
	if out[0] == "" {
		return fmt.Errorf("the program (element 0) is empty")
	}
	*a = out
	return nil
}

func execBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		vmv      starlark.Value
		argv     argvArg
		status   int
		contains string
		timeout  = 30
	)
	if err := c.Unpack(2, "vm", &vmv, "argv", &argv, "expect_status?", &status,
		"stdout_contains?", &contains, "timeout_s?", &timeout); err != nil {
		return nil, err
	}
	g, ok := vmv.(interp.Guest)
	if !ok {
		return nil, c.Errorf("for parameter vm: got %s, want vm", vmv.Type())
	}
	switch {
	case status < 0 || status > 255:
		return nil, c.Errorf("expect_status %d is out of range 0..255", status)
	case timeout < 1 || timeout > 3600:
		return nil, c.Errorf("timeout_s %d is out of range 1..3600", timeout)
	}
	h := g.GuestHost()
	label := h.Name + "/" + g.GuestName()
	a := &Exec{Src: label, Guest: g.GuestName(), Argv: argv, ExpectStatus: status, StdoutContains: contains, TimeoutS: timeout}
	a.M = interp.Meta{Kind: "exec", Name: label + ": " + argv[0], Mode: interp.Command, Driver: DriverName,
		Host: h.Name, ID: checkID(c, "exec", label), DependsOn: []string{g.GuestID()}}
	if err := c.Add(a); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// exec runs the check until the command ends as expected or timeout_s has
// passed.
func (d *Driver) exec(ctx context.Context, e *Exec) (string, error) {
	start := time.Now()
	deadline := start.Add(time.Duration(e.TimeoutS) * time.Second)
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithDeadline(ctx, deadline)
		r, err := d.guests.GuestExec(cctx, e.M.Host, e.Guest, e.Argv)
		cancel()
		if err != nil {
			return "", err
		}
		ok := r.Status == e.ExpectStatus && r.Signal == "" && strings.Contains(r.Stdout, e.StdoutContains)
		if ok {
			s := fmt.Sprintf("exit status %d", r.Status)
			if line := firstLine(r.Stdout); len(line) > 120 {
				s += ": " + line[:120] + "..."
			} else if line != "" {
				s += ": " + line
			}
			if attempt > 1 {
				s += fmt.Sprintf(", after %d attempts in %s", attempt, time.Since(start).Round(10*time.Millisecond))
			}
			return s, nil
		}
		if !time.Now().Before(deadline) {
			want := fmt.Sprintf("exit status %d", e.ExpectStatus)
			if e.StdoutContains != "" {
				want += fmt.Sprintf(" with %q in its output", e.StdoutContains)
			}
			got := fmt.Sprintf("exit status %d", r.Status)
			if r.Signal != "" {
				got = "killed by " + r.Signal
			}
			return "", fmt.Errorf("`%s` did not end with %s within %ds (%d attempts); the last ended with %s:\n%s",
				r.Cmd, want, e.TimeoutS, attempt, got, indent(r.Stdout+r.Stderr))
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
