package daemons

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// Central is an OVN central node: NB and SB ovsdb-servers plus ovn-northd
// translating one into the other, all over unix sockets in one directory.
type Central struct {
	NB        *Server
	SB        *Server
	Dir       string
	NorthdCtl string // absolute path of ovn-northd's unixctl socket
}

// StartCentral starts NB, SB and ovn-northd, and returns once northd is
// active (it holds the SB lock, so it is connected to both databases).
// WithSchema applies to the NB (SB uses the installed schema); WithTCP to both.
func StartCentral(t testing.TB, opts ...Option) *Central {
	t.Helper()
	Require(t, "ovsdb-server", "ovsdb-tool", "ovn-northd", "ovs-appctl")
	c := newConfig(opts)
	dir := tempDir(t)
	ct := &Central{
		NB:        startStandalone(t, dir, "nb", c.schema, c.tcp, nil),
		SB:        startStandalone(t, dir, "sb", DefaultSBSchema, c.tcp, nil),
		Dir:       dir,
		NorthdCtl: filepath.Join(dir, "northd.ctl"),
	}
	log := filepath.Join(dir, "northd.log")
	p := start(t, dir, "northd", log, "ovn-northd",
		"--ovnnb-db="+ct.NB.Sock,
		"--ovnsb-db="+ct.SB.Sock,
		"--unixctl="+ct.NorthdCtl,
		"--log-file="+log,
		"-vconsole:off", "-vsyslog:off",
	)
	waitFor(t, p, "ovn-northd active", func() error {
		out, err := run("ovs-appctl", "-t", ct.NorthdCtl, "status")
		if err != nil {
			return err
		}
		if !strings.Contains(out, "active") {
			return fmt.Errorf("northd %s", strings.TrimSpace(out))
		}
		return nil
	})
	return ct
}

// NBCtl runs ovn-nbctl against the NB and returns its stdout, so tests can
// build topology the way an operator would and compare dumps.
func (c *Central) NBCtl(args ...string) (string, error) {
	return run("ovn-nbctl", append([]string{"--db=" + c.NB.Sock, "--timeout=20"}, args...)...)
}

// SBCtl runs ovn-sbctl against the SB and returns its stdout.
func (c *Central) SBCtl(args ...string) (string, error) {
	return run("ovn-sbctl", append([]string{"--db=" + c.SB.Sock, "--timeout=20"}, args...)...)
}

// NBCtl runs ovn-nbctl against a standalone NB server.
func (s *Server) NBCtl(args ...string) (string, error) {
	return run("ovn-nbctl", append([]string{"--db=" + s.Sock, "--timeout=20"}, args...)...)
}
