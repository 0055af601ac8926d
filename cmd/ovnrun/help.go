package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Help is generated from each command's definition: its Long text, its
// use line, its subcommands and its flags as pflag defines them, so that
// no flag a command parses is missing from its help. `ovnrun help CMD` and
// `ovnrun CMD --help` print the same, on stdout.

// helpWidth is the width flag descriptions are wrapped to.
const helpWidth = 100

// footerKey is the annotation holding text that help prints after the
// flags (the root's exit statuses).
const footerKey = "footer"

// writeHelp is every command's help: its description, then its usage.
func writeHelp(cmd *cobra.Command, _ []string) {
	w := cmd.OutOrStdout()
	text := cmd.Long
	if text == "" {
		text = cmd.Short
	}
	fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(text))
	writeUsage(w, cmd)
}

// writeUsage prints how to call cmd, its subcommands and its flags.
func writeUsage(w io.Writer, cmd *cobra.Command) {
	var b strings.Builder
	b.WriteString("Usage:\n")
	if cmd.Runnable() {
		fmt.Fprintf(&b, "  %s\n", cmd.UseLine())
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "  %s COMMAND\n", cmd.CommandPath())
	}
	if len(cmd.Aliases) > 0 {
		fmt.Fprintf(&b, "\nAliases:\n  %s\n", cmd.NameAndAliases())
	}
	if cmd.HasAvailableSubCommands() {
		b.WriteString("\nCommands:\n")
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() || c.Name() == "help" {
				fmt.Fprintf(&b, "  %-*s  %s\n", c.NamePadding(), c.Name(), c.Short)
			}
		}
	}
	if cmd.HasAvailableLocalFlags() {
		fmt.Fprintf(&b, "\nFlags:\n%s", flagUsages(cmd.LocalFlags()))
	}
	if cmd.HasAvailableInheritedFlags() {
		fmt.Fprintf(&b, "\nGlobal flags:\n%s", flagUsages(cmd.InheritedFlags()))
	}
	if footer := cmd.Annotations[footerKey]; footer != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimSpace(footer))
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nRun '%s help COMMAND' for a command's help.\n", cmd.CommandPath())
	}
	io.WriteString(w, b.String())
}

// newHelpCommand is `ovnrun help [COMMAND]...`: the same text as
// `ovnrun COMMAND --help`, and a mistake for a command that does not exist.
func newHelpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]...",
		Short: "print the help of ovnrun or of a command",
		Long:  "Print the help of ovnrun, or of the command named: the same as ovnrun COMMAND --help.",
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			target, rest, err := cmd.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, n := range commandNames(target) {
				if strings.HasPrefix(n, toComplete) && n != "help" {
					names = append(names, n)
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err == nil && len(rest) > 0 {
				err = unknownCommand(target, rest[0], "help: ")
			}
			if err != nil {
				return &commandLineError{hint: cmd.Root().Name(), err: err}
			}
			target.InitDefaultHelpFlag()
			target.InitDefaultVersionFlag()
			return target.Help()
		},
	}
}

// valueNames name the value of a flag whose usage names none (in
// backquotes), by its type.
var valueNames = map[string]string{"duration": "DUR", "uint": "N", "int": "N", "string": "STRING",
	"stringArray": "VALUE", "stringSlice": "VALUE[,VALUE]"}

// zeroDefaults are the defaults that go without saying.
var zeroDefaults = map[string]bool{"": true, "0": true, "0s": true, "false": true, "[]": true}

// flagUsages lists the flags of fs, one per entry: its names, its value and
// its usage wrapped beside them, and its default unless it is zero.
func flagUsages(fs *pflag.FlagSet) string {
	type entry struct{ names, usage string }
	var entries []entry
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		names := "    --" + f.Name
		if f.Shorthand != "" {
			names = "-" + f.Shorthand + ", --" + f.Name
		}
		value, usage := pflag.UnquoteUsage(f)
		if f.Value.Type() == "bool" {
			value = ""
		} else if n, ok := valueNames[f.Value.Type()]; ok && value == f.Value.Type() {
			value = n
		}
		if value != "" {
			names += " " + value
		}
		if !zeroDefaults[f.DefValue] {
			usage += " (default " + f.DefValue + ")"
		}
		entries = append(entries, entry{names, usage})
		width = max(width, len(names))
	})
	var b strings.Builder
	indent := 2 + width + 3
	for _, e := range entries {
		fmt.Fprintf(&b, "  %-*s   %s\n", width, e.names, wrap(e.usage, helpWidth-indent, indent))
	}
	return b.String()
}

// wrap breaks s into lines of at most width characters, indenting each
// line after the first by indent spaces.
func wrap(s string, width, indent int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		switch {
		case i == 0:
		case n+1+len(w) > width:
			b.WriteString("\n" + strings.Repeat(" ", indent))
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
