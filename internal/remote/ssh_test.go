package remote_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/ovnrun/ovnrun/internal/labhost"
	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/internal/testtime"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newPool(t *testing.T, l *labhost.Lab, cfg remote.Config) *remote.Pool {
	t.Helper()
	if cfg.KnownHosts == "" {
		cfg.KnownHosts = l.KnownHosts
	}
	if cfg.Dial == nil {
		cfg.Dial = l.Dial
	}
	cfg.AgentSocket = "none"
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	p, err := remote.NewPool(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func target(l *labhost.Lab, h *labhost.Host) remote.Target {
	return remote.Target{Name: h.Name, Address: h.Addr, IdentityFiles: []string{l.ClientKey},
		OVSRundir: h.OVSRundir, OVNRundir: h.OVNRundir}
}

func TestSSH(t *testing.T) {
	l := labhost.New(t)
	h := l.AddHost("h0", labhost.WithOVS())
	l.WriteKnownHosts("known_hosts")
	var log syncBuffer
	p := newPool(t, l, remote.Config{Log: &log})
	ctx := context.Background()
	c, err := p.Conn(ctx, target(l, h))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("argv quoting", func(t *testing.T) {
		names := []string{"my vm", "it's", `say "hi"`, "a;touch /tmp/ovnrun-pwned", "$HOME", "`id`"}
		out, err := remote.Output(ctx, c, remote.Argv(append([]string{"printf", "%s\\n"}, names...)...))
		if want := strings.Join(names, "\n") + "\n"; err != nil || out != want {
			t.Errorf("stdout = %q, %v; want %q", out, err, want)
		}
	})
	t.Run("status and stderr", func(t *testing.T) {
		r, err := c.Run(ctx, remote.Script("echo out; echo err >&2; exit 7"))
		if err != nil || r.Status != 7 || r.Stdout != "out\n" || r.Stderr != "err\n" {
			t.Fatalf("result = %+v, %v", r, err)
		}
		if msg := r.Err().Error(); !strings.Contains(msg, "h0: `echo out; echo err >&2; exit 7` exited with status 7") {
			t.Errorf("error = %s", msg)
		}
	})
	t.Run("session environment", func(t *testing.T) {
		out, err := remote.Output(ctx, c, remote.Script(`echo "$OVS_RUNDIR"; command -v systemctl`))
		if want := h.OVSRundir + "\n" + h.Dir + "/bin/systemctl\n"; err != nil || out != want {
			t.Errorf("got %q, %v; want %q", out, err, want)
		}
	})
	t.Run("concurrent sessions on one connection", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := remote.Output(ctx, c, remote.Argv("echo", fmt.Sprint(i)))
				if err == nil && out != fmt.Sprintf("%d\n", i) {
					err = fmt.Errorf("command %d printed %q", i, out)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("one connection per host", func(t *testing.T) {
		for range 3 {
			again, err := p.Conn(ctx, target(l, h))
			if err != nil || again != c {
				t.Errorf("second Conn = %v, %v; want the first", again, err)
			}
		}
		if n := strings.Count(log.String(), "connected to"); n != 1 {
			t.Errorf("%d connections:\n%s", n, log.String())
		}
	})
	t.Run("dial unix", func(t *testing.T) {
		conn, err := c.DialUnix(ctx, h.OVSRundir+"/db.sock")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintln(conn, `{"method":"list_dbs","params":[],"id":1}`)
		var resp struct{ Result []string }
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&resp); err != nil || len(resp.Result) == 0 || resp.Result[0] != "Open_vSwitch" {
			t.Errorf("list_dbs = %v, %v", resp.Result, err)
		}
		if _, err := c.DialUnix(ctx, h.OVNRundir+"/ovnnb_db.sock"); !errors.Is(err, remote.ErrNoSocket) {
			t.Errorf("missing socket: %v, want ErrNoSocket", err)
		}
	})
	t.Run("libovsdb through a tunnel", func(t *testing.T) {
		tun, err := remote.OpenTunnel(ctx, c, h.OVSRundir+"/db.sock")
		if err != nil {
			t.Fatal(err)
		}
		defer tun.Close()
		db, err := ovsdbmodel.Connect(ctx, []string{tun.Endpoint}, "Open_vSwitch", map[string][]string{"Open_vSwitch": {"external_ids"}})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.List(ctx, "Open_vSwitch")
		if err != nil || len(rows) != 1 {
			t.Fatalf("rows = %v, %v", rows, err)
		}
		ids, _ := ovsdbmodel.Get(rows[0], "external_ids")
		if sid := ids.(map[string]string)["system-id"]; len(sid) < 30 {
			t.Errorf("system-id = %q", sid)
		}
	})
}

// TestRemoteCommandIsKilled checks that a command's timeout, and a
// cancelled run, stop the remote processes, grandchildren included,
// although sshd ignores signals for root sessions.
func TestRemoteCommandIsKilled(t *testing.T) {
	l := labhost.New(t)
	h := l.AddHost("h0")
	l.WriteKnownHosts("known_hosts")
	c, err := newPool(t, l, remote.Config{}).Conn(context.Background(), target(l, h))
	if err != nil {
		t.Fatal(err)
	}
	// Stopping a command costs about as much as running one: a session to
	// kill its group, and the first session's end.
	cost := testtime.Measure(t, "`true` over SSH", func() {
		if _, err := c.Run(context.Background(), remote.Script("true")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		_, err := c.Run(context.Background(), remote.Script("echo started; sleep 1001 & sleep 1002; echo never").WithTimeout(time.Second))
		took := time.Since(start)
		var te *remote.TimeoutError
		if !errors.As(err, &te) {
			t.Fatalf("err = %v after %s, want a timeout", err, took)
		}
		// The remote timeout(1) reports at the deadline; the wait beyond it
		// for a host that does not answer is not for a host that does.
		cost.Within(t, "timed out", took, time.Second)
		if te.Result.Stdout != "started\n" || !strings.Contains(err.Error(), "did not finish within 1s and was killed") {
			t.Errorf("err = %v, stdout %q", err, te.Result.Stdout)
		}
		waitNoProcess(t, h, "sleep 1001", "sleep 1002")
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		start := time.Now()
		_, err := c.Run(ctx, remote.Script("sleep 1003 & sleep 1004"))
		took := time.Since(start)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v after %s, want canceled", err, took)
		}
		cost.Within(t, "cancelled", took, 300*time.Millisecond)
		waitNoProcess(t, h, "sleep 1003", "sleep 1004")
	})
	// Ctrl-C while a host has stopped answering (every process of it
	// frozen; its TCP stays up): Run returns within its grace instead of
	// waiting for the keepalives to give the connection up.
	t.Run("cancel on a host that stopped answering", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		started := make(chan struct{})
		go func() {
			for !strings.Contains(psOf(h), "sleep 1005") {
				time.Sleep(5 * time.Millisecond)
			}
			close(started)
		}()
		done := make(chan error, 1)
		go func() {
			_, err := c.Run(ctx, remote.Script("sleep 1005"))
			done <- err
		}()
		<-started
		pids := h.Pids()
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGSTOP)
		}
		defer func() {
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGCONT)
			}
		}()
		start := time.Now()
		cancel()
		err := <-done
		took := time.Since(start)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v after %s, want canceled", err, took)
		}
		// The grace is the bound: the host is frozen, so no measurement
		// of it could be taken now.
		if took > 500*time.Millisecond+cost.Margin() {
			t.Errorf("cancelled on a frozen host after %s, want within 500ms + %s", took, cost.Margin())
		}
	})
}

// psOf lists the command lines of the host's processes.
func psOf(h *labhost.Host) string {
	var b strings.Builder
	for _, pid := range h.Pids() {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		b.WriteString(strings.ReplaceAll(string(data), "\x00", " ") + "\n")
	}
	return b.String()
}

// waitNoProcess fails unless no process of the host runs one of cmdlines
// within a second.
func waitNoProcess(t *testing.T, h *labhost.Host, cmdlines ...string) {
	t.Helper()
	var left []string
	for range 50 {
		left = nil
		for _, pid := range h.Pids() {
			data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			cl := strings.ReplaceAll(strings.TrimRight(string(data), "\x00"), "\x00", " ")
			for _, want := range cmdlines {
				if cl == want {
					left = append(left, fmt.Sprintf("%d %s", pid, cl))
				}
			}
		}
		if len(left) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("still running on %s: %v", h.Name, left)
}

func TestHostKeys(t *testing.T) {
	l := labhost.New(t)
	h := l.AddHost("h0")
	ctx := context.Background()
	fp := ssh.FingerprintSHA256(h.HostKey)

	t.Run("unknown key refused", func(t *testing.T) {
		kh := l.Dir + "/empty_known_hosts"
		os.WriteFile(kh, nil, 0o600)
		_, err := newPool(t, l, remote.Config{KnownHosts: kh}).Conn(ctx, target(l, h))
		var unknown *remote.UnknownHostKeyError
		if !errors.As(err, &unknown) {
			t.Fatalf("err = %v, want unknown host key", err)
		}
		for _, want := range []string{"host h0 (" + h.Addr + ":22)", fp, "ssh-keyscan -p 22 -t ed25519 " + h.Addr + " >> " + kh, "--accept-new-host-keys"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
	})
	t.Run("accept new records the key", func(t *testing.T) {
		kh := l.Dir + "/new/known_hosts" // directory and file are created
		if _, err := newPool(t, l, remote.Config{KnownHosts: kh, AcceptNewHostKeys: true}).Conn(ctx, target(l, h)); err != nil {
			t.Fatal(err)
		}
		if _, err := newPool(t, l, remote.Config{KnownHosts: kh}).Conn(ctx, target(l, h)); err != nil {
			t.Errorf("recorded key not accepted: %v", err)
		}
	})
	t.Run("changed key refused", func(t *testing.T) {
		impostor := l.AddHost("impostor") // a different key...
		kh := l.WriteKnownHosts("impostor_known_hosts", impostor)
		data, _ := os.ReadFile(kh) // ...recorded for h0's address
		os.WriteFile(kh, bytes.Replace(data, []byte(impostor.Addr), []byte(h.Addr), 1), 0o600)
		_, err := newPool(t, l, remote.Config{KnownHosts: kh, AcceptNewHostKeys: true}).Conn(ctx, target(l, h))
		var changed *remote.ChangedHostKeyError
		if !errors.As(err, &changed) {
			t.Fatalf("err = %v, want changed host key", err)
		}
		for _, want := range []string{"host h0", "host key CHANGED", fp, ssh.FingerprintSHA256(impostor.HostKey), kh + ":1", "ssh-keygen -R"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
	})
}

func TestUnreachableHost(t *testing.T) {
	l := labhost.New(t)
	h := l.AddHost("h0")
	l.WriteKnownHosts("known_hosts")
	ctx := context.Background()
	// Failing to connect costs no more than connecting, beyond the dial
	// timeout.
	cost := testtime.Measure(t, "connecting to h0", func() {
		if _, err := newPool(t, l, remote.Config{}).Conn(ctx, target(l, h)); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		name   string
		target remote.Target
		want   string
	}{
		{"no such address", remote.Target{Name: "gone", Address: l.UnusedAddr()}, "host gone (root@" + l.UnusedAddr() + ":22): cannot connect within 1s"},
		{"nothing listens", remote.Target{Name: "closed", Address: h.Addr, Port: 2222}, "host closed (root@" + h.Addr + ":2222): cannot connect: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dials atomic.Int32
			dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return l.Dial(ctx, network, addr)
			}
			p := newPool(t, l, remote.Config{DialTimeout: time.Second, Dial: dial})
			tc.target.IdentityFiles = []string{l.ClientKey}
			start := time.Now()
			_, err := p.Conn(ctx, tc.target)
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v after %s, want %q", err, took, tc.want)
			}
			cost.Within(t, "failed", took, time.Second)
			// The failure is remembered for the run: no second dial.
			if _, err2 := p.Conn(ctx, tc.target); err2 == nil || err2.Error() != err.Error() || dials.Load() != 1 {
				t.Errorf("second try: %v after %d dial(s) in all, want the same error and 1 dial", err2, dials.Load())
			}
		})
	}
}

// TestAgentAuth logs in with a key held only by an ssh-agent.
func TestAgentAuth(t *testing.T) {
	l := labhost.New(t)
	h := l.AddHost("h0")
	l.WriteKnownHosts("known_hosts")
	data, err := os.ReadFile(l.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.ParseRawPrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go agent.ServeAgent(keyring, c)
		}
	}()
	p, err := remote.NewPool(remote.Config{KnownHosts: l.KnownHosts, Dial: l.Dial, AgentSocket: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// No identity file: only the agent's key (and default key files, which
	// the lab does not accept) is offered.
	c, err := p.Conn(context.Background(), remote.Target{Name: "h0", Address: h.Addr})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := remote.Output(context.Background(), c, remote.Argv("id", "-un")); err != nil || out != "root\n" {
		t.Errorf("id -un = %q, %v", out, err)
	}
}
