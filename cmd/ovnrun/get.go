package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ovnrun/ovnrun/internal/libsource"
	"github.com/ovnrun/ovnrun/interp"
	"github.com/ovnrun/ovnrun/stdlib"
)

type getFlags struct {
	libs   []string
	update bool
}

// newGetCommand is `ovnrun get`.
func newGetCommand(c *cli) *cobra.Command {
	var f getFlags
	cmd := &cobra.Command{
		Use:   "get [flags] RUNBOOK.star",
		Short: "fetch the versioned libraries a runbook loads and lock them in ovnrun.lock",
		Long: `ovnrun get - fetch the versioned libraries a runbook loads, and lock them

Finds every load("git+SCHEME://HOST/REPO//FILE.star@REF") of the runbook and of the files it
loads (a library may load its siblings, or other versioned sources), fetches each repository
with git into the cache ($XDG_CACHE_HOME/ovnrun, by default ~/.cache/ovnrun), and writes
ovnrun.lock next to the runbook: each source's commit and the hash of its files. Nothing is
evaluated, so no -D is needed.

Runs (apply, --dry-run, graph, trace, lab) then read each source at its locked commit from the
cache, check its files against the hash, and contact no repository: a source missing from the
lock or the cache is an error that says to run ovnrun get. A source already in the lock keeps its
commit, even if its tag or branch moved since; --update resolves every ref again. docs/libraries.md
says more.`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeRunbook(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &commandLineError{hint: hintFor(cmd), err: fmt.Errorf("get: want one runbook, got %d arguments", len(args))}
			}
			return status(getCommand(&f, args[0], c.stdout, c.stderr))
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.BoolVar(&f.update, "update", false, "resolve every tag and branch again, moving the lock to what they name now")
	fs.StringArrayVar(&f.libs, "lib", nil, "search `DIR` for load() paths; repeatable")
	return cmd
}

// getCommand fetches and locks the runbook's versioned sources.
func getCommand(f *getFlags, path string, stdout, stderr io.Writer) int {
	cache, err := libsource.DefaultCache()
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun: get: %v\n", err)
		return exitFailure
	}
	opts := interp.Options{LibDirs: f.libs, Stdlib: stdlib.FS}
	libs, err := libsource.Get(path, opts, cache, f.update, stdout)
	if err != nil {
		var e *interp.Error
		if errors.As(err, &e) {
			fmt.Fprintf(stderr, "error: %s\n", e.Detail())
			return exitRunbook
		}
		fmt.Fprintf(stderr, "ovnrun: get: %v\n", err)
		return exitFailure
	}
	if len(libs) == 0 {
		fmt.Fprintf(stdout, "%s loads no versioned library: nothing to lock.\n", path)
		return exitOK
	}
	fmt.Fprintf(stdout, "Locked %d source(s) in %s.\n", len(libs), libsource.LockPath(path))
	return exitOK
}

// librarySources is how runs read versioned libraries: from the cache at
// the commits of the runbook's lock, never from the network.
func librarySources(path string) interp.Sources {
	cache, err := libsource.DefaultCache()
	if err != nil {
		return noCache{err}
	}
	return &libsource.Reader{Cache: cache, LockFile: libsource.LockPath(path), Runbook: path}
}

// noCache refuses versioned sources when there is no cache directory.
type noCache struct{ err error }

func (n noCache) ReadFile(interp.GitSource) ([]byte, string, error) { return nil, "", n.err }
