package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ovnrun/ovnrun/interp"
)

// Command-line mistakes: each exits exitUsage with the message and one line
// saying where the usage is.

// commands are ovnrun's subcommands.
var commands = []string{"doc", "graph", "help", "lab", "trace"}

// usageError reports a bad command line of cmd ("ovnrun", "ovnrun graph"):
// exit 0 for --help (pflag printed the usage), else the message, the hint
// and the usage exit code.
func usageError(stderr io.Writer, cmd string, err error) int {
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "ovnrun: %v\nRun '%s --help' for usage.\n", err, cmd)
	return exitUsage
}

// parseFlags parses args into fs, suggesting the flag meant when one is
// unknown.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil {
		return nil
	}
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

// checkRunbookArg refuses, as an unknown command, a runbook argument that
// is no file, does not end in .star and so is rather a misspelt
// subcommand (ovnrun grpah x.star) than a runbook.
func checkRunbookArg(arg string) error {
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
