package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// lab owns the bench's temporary directory and every process it starts, so
// that one cleanup, also run on an interrupt, stops them all.
type lab struct {
	dir string
	env []string // the clean environment of every measured process

	mu       sync.Mutex
	procs    map[*exec.Cmd]chan struct{} // daemons we started, and when each was reaped
	pidfiles []string                    // detached daemons, found by pidfile
}

func newLab() (*lab, error) {
	// Unix socket paths are limited to 108 bytes: keep the directory short.
	dir, err := os.MkdirTemp("/tmp", "nbbench")
	if err != nil {
		return nil, err
	}
	// A clean environment: no login shell (root's .bashrc runs pyenv), no
	// GOGC or other tuning inherited from the caller, and OVS/OVN run
	// directories inside the lab so nothing touches /var/run.
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir, "LC_ALL=C"}
	for _, v := range []string{"OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVN_RUNDIR", "OVN_LOGDIR", "OVN_DBDIR"} {
		env = append(env, v+"="+dir)
	}
	return &lab{dir: dir, env: env, procs: map[*exec.Cmd]chan struct{}{}}, nil
}

// close stops every daemon and removes the directory.
func (l *lab) close() {
	l.stopAll()
	os.RemoveAll(l.dir)
}

func (l *lab) stopAll() {
	l.mu.Lock()
	procs, pidfiles := l.procs, l.pidfiles
	l.procs, l.pidfiles = map[*exec.Cmd]chan struct{}{}, nil
	l.mu.Unlock()
	for _, pf := range pidfiles {
		killPidfile(pf)
	}
	for cmd, done := range procs {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
}

// killPidfile ends a detached daemon and waits until it is gone (an exited
// daemon can linger as a zombie, so /proc/PID/status is read, not kill -0).
func killPidfile(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !alive(pid) {
			return
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	return err == nil && !strings.Contains(string(data), "State:\tZ")
}

// command returns a command with the lab's clean environment, working in
// the lab directory.
func (l *lab) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = l.env
	cmd.Dir = l.dir
	// Children die with the bench, even on SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// run runs a short-lived tool and returns its stdout; the error carries its
// stderr.
func (l *lab) run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := l.command(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, shortArgs(args), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func shortArgs(args []string) string {
	s := strings.Join(args, " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// addPidfile registers a daemon that detaches itself, to be stopped at
// cleanup.
func (l *lab) addPidfile(path string) {
	l.mu.Lock()
	l.pidfiles = append(l.pidfiles, path)
	l.mu.Unlock()
}

// daemon starts a long-running process in the foreground, owned by the lab.
func (l *lab) daemon(name string, args ...string) error {
	cmd := l.command(context.Background(), name, args...)
	out, err := os.Create(filepath.Join(l.dir, filepath.Base(name)+".out"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	l.mu.Lock()
	l.procs[cmd] = done
	l.mu.Unlock()
	return nil
}

// central is one NB + SB ovsdb-server pair with ovn-northd, all on unix
// sockets in the lab directory, created empty.
type central struct {
	nb, sb    string // "unix:..." endpoints
	northdCtl string
}

// startCentral starts a central with empty databases: any previous one is
// stopped and its files removed first.
func (l *lab) startCentral(ctx context.Context, nbSchema, sbSchema string) (*central, error) {
	l.stopAll()
	for _, f := range []string{"nb.db", "sb.db", ".nb.db.~lock~", ".sb.db.~lock~", "nb.sock", "sb.sock", "northd.ctl", "nb.ctl", "sb.ctl"} {
		os.Remove(filepath.Join(l.dir, f))
	}
	c := &central{
		nb:        "unix:" + filepath.Join(l.dir, "nb.sock"),
		sb:        "unix:" + filepath.Join(l.dir, "sb.sock"),
		northdCtl: filepath.Join(l.dir, "northd.ctl"),
	}
	for _, db := range []struct{ name, schema string }{{"nb", nbSchema}, {"sb", sbSchema}} {
		file := filepath.Join(l.dir, db.name+".db")
		if _, err := l.run(ctx, "ovsdb-tool", "create", file, db.schema); err != nil {
			return nil, err
		}
		err := l.daemon("ovsdb-server", "--remote=punix:"+filepath.Join(l.dir, db.name+".sock"),
			"--unixctl="+filepath.Join(l.dir, db.name+".ctl"), "--log-file="+filepath.Join(l.dir, db.name+".log"),
			"-vconsole:off", "-vsyslog:off", file)
		if err != nil {
			return nil, err
		}
		if err := waitFor(ctx, db.name+" ovsdb-server", func() error { return listDBs(filepath.Join(l.dir, db.name+".sock")) }); err != nil {
			return nil, err
		}
	}
	err := l.daemon("ovn-northd", "--ovnnb-db="+c.nb, "--ovnsb-db="+c.sb, "--unixctl="+c.northdCtl,
		"--log-file="+filepath.Join(l.dir, "northd.log"), "-vconsole:off", "-vsyslog:off")
	if err != nil {
		return nil, err
	}
	// northd is ready once it has processed a change: it is connected to
	// both databases and holds the SB lock.
	if err := l.syncNorthd(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// syncNorthd waits until ovn-northd has caught up with the NB, so that a
// measurement does not share the CPUs with northd digesting the last one.
func (l *lab) syncNorthd(ctx context.Context, c *central) error {
	_, err := l.run(ctx, "ovn-nbctl", "--db="+c.nb, "--timeout=600", "--wait=sb", "sync")
	return err
}

func waitFor(ctx context.Context, what string, ready func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// listDBs checks that an ovsdb-server answers on its socket.
func listDBs(sock string) error {
	var dbs []string
	return rpc(sock, "list_dbs", []any{}, &dbs)
}

// rpc makes one JSON-RPC call on an ovsdb-server unix socket.
func rpc(sock, method string, params, result any) error {
	conn, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	if err := json.NewEncoder(conn).Encode(map[string]any{"method": method, "params": params, "id": 1}); err != nil {
		return err
	}
	var resp struct {
		Result json.RawMessage `json:"result"`
		Error  any             `json:"error"`
	}
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&resp); err != nil {
		return err
	}
	if resp.Error != nil {
		return fmt.Errorf("%s: %v", method, resp.Error)
	}
	return json.Unmarshal(resp.Result, result)
}

// measurement is one timed process.
type measurement struct {
	wall   time.Duration
	maxRSS int64 // KiB, from wait4's rusage
}

// measure runs cmd to completion and returns its wall time (fork to reap)
// and peak RSS.
func measure(cmd *exec.Cmd) (measurement, error) {
	start := time.Now()
	err := cmd.Run()
	m := measurement{wall: time.Since(start)}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.maxRSS = ru.Maxrss
		}
	}
	return m, err
}

// hwm reads a process's peak RSS (VmHWM) in KiB, for a daemon the bench
// did not reap itself.
func hwm(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
