package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/interp"
)

// Command-line mistakes: each exits exitUsage with the message and one line
// saying where the usage is.

// usageError reports a bad command line of cmd ("ovnrun", "ovnrun graph")
// that a command's body finds: the message, the hint and the usage exit
// code.
func usageError(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "ovnrun: %v\nRun '%s --help' for usage.\n", err, cmd)
	return exitUsage
}

// commandLineError is a bad command line found while parsing it: run prints
// it as usageError does, naming hint's help.
type commandLineError struct {
	hint string // the command whose --help the hint names
	err  error
}

func (e *commandLineError) Error() string { return e.err.Error() }

// exitStatus is the error of a command that printed its own message and
// only has its exit status left to say.
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// status is a command body's exit code as the error cobra's RunE returns.
func status(code int) error {
	if code == exitOK {
		return nil
	}
	return exitStatus(code)
}

// exitCode prints err, when it still needs printing, and returns the exit
// code it stands for. Errors cobra itself returns (an argument or flag it
// refuses) are command-line mistakes.
func exitCode(err error, root *cobra.Command, stderr io.Writer) int {
	var st exitStatus
	var cl *commandLineError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &st):
		return int(st)
	case errors.As(err, &cl):
		return usageError(stderr, cl.hint, cl.err)
	}
	return usageError(stderr, root.Name(), err)
}

// hintFor is the command whose --help a mistake in cmd points to: the
// top-level command it belongs to ("ovnrun lab" for lab up), whose help
// lists its subcommands.
func hintFor(cmd *cobra.Command) string {
	for cmd.HasParent() && cmd.Parent().HasParent() {
		cmd = cmd.Parent()
	}
	return cmd.CommandPath()
}

// flagError is every command's answer to a flag pflag refuses: the
// message, with the flag meant when one is unknown.
func flagError(cmd *cobra.Command, err error) error {
	return &commandLineError{hint: hintFor(cmd), err: suggestFlag(cmd.Flags(), err)}
}

// suggestFlag adds to an unknown-flag error the flag of fs meant, if any.
func suggestFlag(fs *pflag.FlagSet, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return err
	}
	var known []string
	fs.VisitAll(func(f *pflag.Flag) { known = append(known, f.Name) })
	if s := interp.Suggest(name, known); s != "" {
		return fmt.Errorf("%w: did you mean --%s?", err, s)
	}
	return err
}

// unknownCommand is the error for arg where a subcommand of cmd was
// expected, naming the one meant or else listing them.
func unknownCommand(cmd *cobra.Command, arg, prefix string) error {
	names := commandNames(cmd)
	if s := interp.Suggest(arg, names); s != "" {
		return fmt.Errorf("%sunknown command %q: did you mean %q?", prefix, arg, s)
	}
	return fmt.Errorf("%sunknown command %q: want %s", prefix, arg, strings.Join(names, ", "))
}

// commandNames are the names of cmd's subcommands that help lists.
func commandNames(cmd *cobra.Command) []string {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() || c.Name() == "help" {
			names = append(names, c.Name())
		}
	}
	return names
}

// checkRunbookArg refuses, as an unknown command, a runbook argument that
// is no file, does not end in .star and so is rather a misspelt
// subcommand (ovnrun grpah x.star) than a runbook; commands are ovnrun's.
func checkRunbookArg(arg string, commands []string) error {
	if strings.HasSuffix(arg, ".star") {
		return nil
	}
	if _, err := os.Stat(arg); err == nil {
		return nil
	}
	if s := interp.Suggest(arg, commands); s != "" {
		return fmt.Errorf("unknown command %q: did you mean %q?", arg, s)
	}
	return fmt.Errorf("unknown command %q, and no runbook of that name: want a RUNBOOK.star or one of %s",
		arg, strings.Join(commands, ", "))
}
