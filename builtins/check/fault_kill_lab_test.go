package check

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nsPids returns the pids of the processes called name whose network
// namespace is ns.
func nsPids(t *testing.T, ns, name string) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		t.Fatalf("ip netns pids %s: %v", ns, err)
	}
	var pids []string
	for _, p := range strings.Fields(string(out)) {
		if comm, _ := os.ReadFile("/proc/" + p + "/comm"); strings.TrimSpace(string(comm)) == name {
			if st, _ := os.ReadFile("/proc/" + p + "/stat"); !strings.Contains(string(st), ") Z ") {
				pids = append(pids, p)
			}
		}
	}
	return pids
}

// waitRunning waits until name runs once in ns: a process started by ip
// netns exec or a shell has its own name once it has exec'd. The test's
// deadline bounds the wait.
func waitRunning(t *testing.T, ns, name string) {
	t.Helper()
	for {
		switch p := nsPids(t, ns, name); len(p) {
		case 1:
			return
		case 0:
			time.Sleep(10 * time.Millisecond)
		default:
			t.Fatalf("%s runs %d times in %s: %v", name, len(p), ns, p)
		}
	}
}

// fault "kill" kills the process in the host's network namespace only
// (the lab's hosts are namespaces of one machine); and when a killed run
// left the fault and its record, making the fault again first undoes it,
// so it does not fail on a process already gone and lose that record.
func TestFaultKillInNamespace(t *testing.T) {
	r := faultPair(t)
	n1 := strings.TrimSuffix(r.ns, "-0") + "-1"
	// A process of a name of its own (a copy of sleep), in both
	// namespaces, and a systemctl on h0's PATH that starts it there.
	name := fmt.Sprintf("ftk%d", os.Getpid()%1000000)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(r.bin, name)
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	systemctl := fmt.Sprintf("#!/bin/sh\n[ \"$1 $2\" = \"start %s\" ] || exit 5\n%s 600 </dev/null >/dev/null 2>&1 &\n", name, bin)
	if err := os.WriteFile(filepath.Join(r.bin, "systemctl"), []byte(systemctl), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, ns := range []string{r.ns, n1} {
			for _, p := range nsPids(t, ns, name) {
				exec.Command("kill", "-KILL", p).Run()
			}
		}
	})
	for _, ns := range []string{r.ns, n1} {
		cmd := exec.Command("ip", "netns", "exec", ns, bin, "600")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go cmd.Wait()
	}
	for _, ns := range []string{r.ns, n1} {
		waitRunning(t, ns, name)
	}
	kill := func() *Fault {
		return faultAction("fault/h0/kill-"+name, &Fault{Kind: "kill", Process: name, Service: name})
	}
	// A run killed after its fault: no Finish.
	if err := applyAll(t, NewDriver(r, nil), kill()); err != nil {
		t.Fatalf("kill: %v", err)
	}
	if p := nsPids(t, r.ns, name); len(p) != 0 {
		t.Errorf("after the fault, %s still runs in h0's namespace: %v", name, p)
	}
	if len(nsPids(t, n1, name)) != 1 {
		t.Fatalf("the kill fault on h0 killed %s in another namespace", name)
	}
	// The fault made again (a resumed run that reruns it): the record left
	// is undone first, then the process killed again, then undone at the end.
	d := NewDriver(r, nil)
	if err := applyAll(t, d, kill()); err != nil {
		t.Fatalf("the kill fault made again after a killed run: %v", err)
	}
	if p := nsPids(t, r.ns, name); len(p) != 0 {
		t.Errorf("after the fault made again, %s still runs in h0's namespace: %v", name, p)
	}
	var log strings.Builder
	if err := d.Finish(context.Background(), &log); err != nil {
		t.Fatalf("finish: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "undone: systemctl start "+name) {
		t.Errorf("the undo said %q", log.String())
	}
	waitRunning(t, r.ns, name)
}
