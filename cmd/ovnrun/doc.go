package main

import (
	"fmt"
	"io"
	"strings"
)

// docCommand prints the reference of every builtin, or of the one named.
func docCommand(args []string, stdout, stderr io.Writer) int {
	reg, err := newRegistry()
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: %v\n", err)
		return exitInternal
	}
	if len(args) > 1 {
		fmt.Fprintln(stderr, "usage: ovnrun doc [BUILTIN]")
		return exitUsage
	}
	if len(args) == 1 {
		b, err := reg.Lookup(args[0])
		if err != nil {
			fmt.Fprintf(stderr, "ovnrun doc: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stdout, "%s\n\n%s\n", b.Signature, indent(b.Doc))
		return exitOK
	}
	domain := ""
	for _, b := range reg.All() {
		if b.Domain != domain {
			domain = b.Domain
			fmt.Fprintf(stdout, "# %s\n\n", domain)
		}
		fmt.Fprintf(stdout, "%s\n%s\n\n", b.Signature, indent(b.Doc))
	}
	return exitOK
}

func indent(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = "    " + strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}
