// Package daemons is test support that starts real OVN/OVS daemons
// (ovsdb-server, ovn-northd, RAFT clusters) in temporary directories and
// stops them when the test ends.
//
// Every daemon runs in the foreground as a child of the test process, so the
// test reaps it itself: a --detach'ed daemon is reparented and may linger as a
// zombie that still answers kill -0. Children also get SIGKILL if the test
// binary dies, so a crashed or timed-out test leaves nothing running.
//
// It imports only the standard library and must only be imported by tests.
package daemons

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binaries started by this package; Require with no names checks them all.
var allBinaries = []string{"ovsdb-server", "ovsdb-tool", "ovs-appctl", "ovn-northd", "ovn-nbctl", "ovn-sbctl"}

// Default schema locations of the Debian/Ubuntu packages.
const (
	DefaultNBSchema = "/usr/share/ovn/ovn-nb.ovsschema"
	DefaultSBSchema = "/usr/share/ovn/ovn-sb.ovsschema"
)

// readyTimeout bounds every wait for a daemon; generous because CI machines
// run several test binaries on two cores.
const readyTimeout = 20 * time.Second

// Require stops the test unless every named binary (all of this package's
// when none are named) can be found. Under CI=true a missing binary is a
// failure, since CI must have run scripts/install-deps.sh; elsewhere the
// test is skipped so `go test ./...` works on a bare machine.
func Require(t testing.TB, bins ...string) {
	t.Helper()
	if len(bins) == 0 {
		bins = allBinaries
	}
	var missing []string
	for _, b := range bins {
		if _, err := lookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("daemons: %s not installed (run scripts/install-deps.sh as root)", strings.Join(missing, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// lookPath also searches the sbin directories, which are missing from the
// PATH of non-root users and some CI shells although ovsdb-server lives there.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// run runs a short-lived tool (ovsdb-tool, ovs-appctl, ovn-nbctl) and
// returns its stdout; the error carries stderr.
func run(name string, args ...string) (string, error) {
	path, err := lookPath(name)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(path, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// tempDir returns a fresh directory removed at cleanup. Unix socket paths
// are limited to 108 bytes, and t.TempDir embeds the (sub)test name, so a
// long name falls back to a short directory under /tmp.
func tempDir(t testing.TB) string {
	dir := t.TempDir()
	if len(dir) <= 70 {
		return dir
	}
	dir, err := os.MkdirTemp("/tmp", "ovn")
	if err != nil {
		t.Fatalf("daemons: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// process is one daemon running in the foreground under the test.
type process struct {
	name string
	log  string // the daemon's --log-file, shown when a test fails
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been reaped
}

// start runs a daemon with stdout and stderr in DIR/NAME.out. Cleanup stops
// it and, if the test failed, logs the tail of its log file.
func start(t testing.TB, dir, name, log, bin string, args ...string) *process {
	t.Helper()
	path, err := lookPath(bin)
	if err != nil {
		t.Fatalf("daemons: %v", err)
	}
	out, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		t.Fatalf("daemons: %v", err)
	}
	defer out.Close() // the child holds its own copy
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	// Pdeathsig fires when the forking OS thread exits; the Go runtime only
	// retires threads of goroutines that exit while locked, which tests don't.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("daemons: start %s: %v", name, err)
	}
	p := &process{name: name, log: log, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("daemons: last lines of %s:\n%s", p.log, tail(p.log, 15))
		}
	})
	return p
}

// exited reports whether the process has been reaped.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the daemon to exit, escalating to SIGKILL, and returns only
// once it has been reaped, so its sockets and ports are free again.
func (p *process) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.kill()
	}
}

// kill ends the daemon abruptly, like a crash, and waits until it is reaped.
func (p *process) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// waitFor polls ready until it succeeds. It fails the test at the timeout,
// or at once if the daemon exited, with the daemon's own words.
func waitFor(t testing.TB, p *process, what string, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	delay := time.Millisecond
	for {
		err := ready()
		if err == nil {
			return
		}
		if p != nil && p.exited() {
			t.Fatalf("daemons: %s exited while waiting for %s: %v\n%s\n%s", p.name, what, err,
				tail(p.log, 15), tail(strings.TrimSuffix(p.log, ".log")+".out", 5))
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemons: timed out waiting for %s: %v", what, err)
		}
		time.Sleep(delay)
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// call makes one JSON-RPC request on an ovsdb-server unix socket. It is how
// readiness is checked: a socket that accepts is not yet one that answers.
func call(sock, method string, params, result any) error {
	conn, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	req := map[string]any{"method": method, "params": params, "id": 1}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
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

// schemaInfo reads the name and version of a schema file.
func schemaInfo(path string) (name, version string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	var s struct{ Name, Version string }
	if err := json.Unmarshal(data, &s); err != nil {
		return "", "", fmt.Errorf("%s: %w", path, err)
	}
	return s.Name, s.Version, nil
}
