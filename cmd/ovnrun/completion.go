package main

import (
	"context"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/stdlib"
)

// Shell completion beyond what cobra completes itself (subcommands, flag
// names): runbooks, the step names of the runbook on the command line,
// builtin names, the values of enumerated flags. `ovnrun completion
// bash|zsh|fish` prints the script that asks ovnrun for them through
// cobra's hidden __complete command.

// completeRunbook completes the positional argument at pos with *.star
// files, and any other with nothing. The root's first argument may be a
// subcommand too: a word that begins one is completed as a subcommand, which
// cobra adds.
func completeRunbook(pos int) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) != pos {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if !cmd.HasParent() && toComplete != "" {
			for _, n := range commandNames(cmd) {
				if strings.HasPrefix(n, toComplete) {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
			}
		}
		return []string{"star"}, cobra.ShellCompDirectiveFilterFileExt
	}
}

// completeFixed completes the flag name of cmd with values.
func completeFixed(cmd *cobra.Command, name string, values ...string) {
	mustRegister(cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)))
}

// mustRegister panics on an error registering a completion: a flag
// misnamed in this package.
func mustRegister(err error) {
	if err != nil {
		panic(err)
	}
}

// completeStepFlags completes --only and --from with the step names of the
// runbook given on the command line, evaluated offline and quietly with its
// -D and --lib; a runbook that does not evaluate completes nothing.
func completeStepFlags(cmd *cobra.Command, f *planFlags) {
	steps := func(args []string) []string {
		if len(args) == 0 {
			return nil
		}
		// cobra parses the flags twice when completing, so that each -D
		// and --lib is there twice.
		vars, err := parseVars(unique(f.vars))
		if err != nil {
			return nil
		}
		plan, _ := evaluateRunbook(context.Background(), args[0], vars, unique(f.libs), f.limits, nil, io.Discard)
		if plan == nil {
			return nil
		}
		var names []string
		for _, s := range plan.Steps {
			names = append(names, s.Name)
		}
		return names
	}
	mustRegister(cmd.RegisterFlagCompletionFunc("from", func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return withPrefix(steps(args), "", toComplete, nil), cobra.ShellCompDirectiveNoFileComp
	}))
	// --only takes a comma-separated list: complete its last element,
	// leaving out the steps already named.
	mustRegister(cmd.RegisterFlagCompletionFunc("only", func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		named, last := "", toComplete
		if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
			named, last = toComplete[:i+1], toComplete[i+1:]
		}
		done := append(strings.Split(named, ","), f.only...)
		return withPrefix(steps(args), named, last, done), cobra.ShellCompDirectiveNoFileComp
	}))
}

// unique is list without its repeated elements.
func unique(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// withPrefix returns prefix+name for each name beginning with toComplete
// and not in skip.
func withPrefix(names []string, prefix, toComplete string, skip []string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, toComplete) && !slices.Contains(skip, n) {
			out = append(out, prefix+n)
		}
	}
	return out
}

// completeBuiltin completes ovnrun doc's argument with the registry's
// builtin names.
func completeBuiltin(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	reg, err := newRegistry()
	if err != nil || len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, b := range reg.All() {
		names = append(names, b.Name)
	}
	fns, _ := stdlib.Functions(stdlib.FS) // TestFunctionsAreDocumented keeps it error-free
	for _, f := range fns {
		names = append(names, f.Name)
	}
	return withPrefix(names, "", toComplete, nil), cobra.ShellCompDirectiveNoFileComp
}

// completeLab completes ovnrun lab down's argument with the labs that are
// up, or a runbook.
func completeLab(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if names := withPrefix(lab.List(), "", toComplete, nil); len(names) > 0 {
		return names, cobra.ShellCompDirectiveNoFileComp
	}
	return []string{"star"}, cobra.ShellCompDirectiveFilterFileExt
}
