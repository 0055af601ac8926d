package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// newVersionCommand is `ovnrun version`, which prints what --version does.
func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print ovnrun's version and the revision it was built from",
		Long:  "Print ovnrun's module version, the VCS revision it was built from (+dirty: with uncommitted changes) and the Go release that built it.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), cmd.Root().Version)
			return err
		},
	}
}

// versionText is the version line of the build bi (ok false when the
// binary holds no build information): "ovnrun v1.2.0, revision
// 0123…cdef+dirty, committed 2026-01-02T03:04:05Z, go1.26.8". A binary
// built outside a VCS checkout, or with -buildvcs=false, says that its
// revision is unknown.
func versionText(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "ovnrun, version unknown: the binary holds no build information"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		if name, ok := strings.CutPrefix(s.Key, "vcs."); ok {
			vcs[name] = s.Value
		}
	}
	parts := []string{"ovnrun " + version}
	switch rev := vcs["revision"]; {
	case rev == "":
		parts = append(parts, "revision unknown (built without VCS information)")
	case vcs["modified"] == "true":
		parts = append(parts, "revision "+rev+"+dirty")
	default:
		parts = append(parts, "revision "+rev)
	}
	if t := vcs["time"]; t != "" {
		parts = append(parts, "committed "+t)
	}
	return strings.Join(append(parts, bi.GoVersion), ", ")
}
