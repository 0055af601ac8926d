package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ovnrun/ovnrun/interp"
)

// Asking before an apply changes a real lab (docs/confirm.md). A run in an
// emulated lab (--lab: internal/lab made every target it reaches) never
// asks; any other apply or destroy that changes something asks on a
// terminal, and without one is refused unless --yes.

// confirmPrompt is the question an apply asks; only "yes" goes on.
const confirmPrompt = "Apply these changes? Only 'yes' is accepted: "

// notConfirmedError is an apply stopped before it changed anything because
// it was not confirmed; code is the exit status.
type notConfirmedError struct {
	code int
	msg  string
}

func (e *notConfirmedError) Error() string { return e.msg }

// stdinIsTerminal reports whether f is a terminal; a variable so that
// tests of other things never depend on how they were started.
var stdinIsTerminal = func(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// confirmer returns the Confirm of a run of plan under f (nil when the run
// need not ask): it asks on in, a terminal, writing the question to w.
func confirmer(f *planFlags, plan *interp.Plan, in *os.File, w io.Writer) func(context.Context) error {
	if f.dryRun || f.yes || f.live.lab.on {
		return nil
	}
	return func(ctx context.Context) error {
		verb := "apply to"
		if f.live.destroy {
			verb = "destroy on"
		}
		if !stdinIsTerminal(in) {
			return &notConfirmedError{code: exitUsage, msg: fmt.Sprintf(
				"not applied: %s is not an emulated lab (--lab) and there is no terminal to ask on: "+
					"pass --yes to %s it without asking; nothing was changed", targets(f, plan), verb)}
		}
		fmt.Fprint(w, "\n"+confirmPrompt)
		var answer string
		var err error
		read := make(chan struct{})
		go func() { // Ctrl-C while it waits stops the run at once
			answer, err = bufio.NewReader(in).ReadString('\n')
			close(read)
		}()
		select {
		case <-read:
		case <-ctx.Done():
			fmt.Fprintln(w)
			return &notConfirmedError{code: exitFailure, msg: "not applied: interrupted while asking; nothing was changed"}
		}
		if strings.TrimSpace(answer) == "yes" {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return &notConfirmedError{code: exitFailure, msg: fmt.Sprintf("not applied: reading the answer: %v; nothing was changed", err)}
		}
		fmt.Fprintln(w)
		return &notConfirmedError{code: exitFailure, msg: "not applied: the answer was not 'yes'; nothing was changed"}
	}
}

// targets names what a run changes, for the refusal: the NB and the hosts.
func targets(f *planFlags, plan *interp.Plan) string {
	var parts []string
	nb := f.live.nb
	if nb == "" {
		if v, ok := plan.Setting("nb"); ok {
			nb, _ = v.(string)
		}
	}
	if nb != "" {
		parts = append(parts, "the NB "+nb)
	}
	var hosts []string
	for name := range plan.Hosts {
		hosts = append(hosts, name)
	}
	sort.Strings(hosts)
	if len(hosts) > 0 {
		parts = append(parts, "host(s) "+strings.Join(hosts, ", "))
	}
	if len(parts) == 0 {
		return "this run's target"
	}
	return strings.Join(parts, " and ")
}
