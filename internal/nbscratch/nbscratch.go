// Package nbscratch starts a private, throwaway OVN Northbound
// ovsdb-server in a directory of the caller's, for commands that need a
// real NB to run ovn-nbctl against (ovnrun convert). Tests start theirs
// with internal/daemons instead. It imports only the standard library.
package nbscratch

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Schema is the installed Northbound schema the database is created from.
const Schema = "/usr/share/ovn/ovn-nb.ovsschema"

// Server is a running private NB.
type Server struct {
	Sock string // path of its unix socket
	Addr string // "unix:" + Sock, for libovsdb and ovn-nbctl
	cmd  *exec.Cmd
	done chan error
	log  string
	once sync.Once
}

// Start creates an empty NB database in dir and serves it on dir/nb.sock
// until Stop. It returns once the socket accepts connections.
func Start(ctx context.Context, dir string) (*Server, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	db := filepath.Join(dir, "nb.db")
	if out, err := exec.CommandContext(ctx, "ovsdb-tool", "create", db, Schema).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("private nb: ovsdb-tool create: %v: %s", err, out)
	}
	s := &Server{Sock: filepath.Join(dir, "nb.sock"), log: filepath.Join(dir, "nb.log"), done: make(chan error, 1)}
	s.Addr = "unix:" + s.Sock
	// Not --detach: the server is this process's child and ends with it.
	s.cmd = exec.Command("ovsdb-server", db, "--remote=punix:"+s.Sock, "--unixctl="+filepath.Join(dir, "nb.ctl"),
		"--pidfile="+filepath.Join(dir, "nb.pid"), "--log-file="+s.log, "-vconsole:off", "-vsyslog:off", "--no-chdir")
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("private nb: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := net.Dial("unix", s.Sock); err == nil {
			c.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			out, _ := os.ReadFile(s.log)
			return nil, fmt.Errorf("private nb: ovsdb-server exited (%v): %s", err, out)
		case <-ctx.Done():
			s.Stop()
			return nil, fmt.Errorf("private nb: ovsdb-server did not answer: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Stop ends the server and waits for it.
func (s *Server) Stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}
