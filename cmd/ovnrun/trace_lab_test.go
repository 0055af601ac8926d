package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ovnrun/ovnrun/internal/lab"
	"github.com/ovnrun/ovnrun/internal/labhost"
)

// The traces of runbooks/dgp.star and runbooks/dgp-dnat.star, confirmed with
// real packets in their emulated labs: while the VM on h1 pings the outside
// host, tcpdump counts the Geneve packets on h1's underlay (its tunnels to
// h0) and the ICMP packets on each host's port to the outside network. Every
// capture and every packet stays in the labs' namespaces.

// requireTools stops a test that needs binaries this machine lacks: a
// failure under CI=true, a skip elsewhere.
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := lab.LookPath(n); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing (run scripts/install-deps.sh as root)", n)
			}
			t.Skipf("%s is missing (run scripts/install-deps.sh as root)", n)
		}
	}
}

// capture is a tcpdump running in a lab namespace.
type capture struct {
	ns, dev string
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	mu      sync.Mutex
	lines   []string
	more    chan struct{} // signalled when a line is added
	done    chan struct{} // closed when tcpdump's output ends
}

// startCapture starts tcpdump on dev in the namespace ns, with filter, and
// returns once it listens. It stops by itself after 30 s or 1000 packets.
func startCapture(t *testing.T, ns, dev, filter string) *capture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	// The markers too, which stop sends.
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "tcpdump", "-nn", "-l", "-c", "1000", "-i", dev,
		fmt.Sprintf("(%s) or ether proto %#x", filter, markerType))
	stdout, err := cmd.StdoutPipe()
	if err == nil {
		var stderr *bufio.Reader
		pipe, perr := cmd.StderrPipe()
		err = perr
		if err == nil {
			stderr = bufio.NewReader(pipe)
			err = cmd.Start()
		}
		for err == nil {
			var line string
			if line, err = stderr.ReadString('\n'); strings.Contains(line, "listening on") {
				break
			}
		}
	}
	if err != nil {
		cancel()
		t.Fatalf("tcpdump on %s in %s: %v", dev, ns, err)
	}
	c := &capture{ns: ns, dev: dev, cmd: cmd, cancel: cancel, more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() != "" { // tcpdump ends with an empty line when interrupted
				c.mu.Lock()
				c.lines = append(c.lines, sc.Text())
				c.mu.Unlock()
				select {
				case c.more <- struct{}{}:
				default:
				}
			}
		}
	}()
	return c
}

// markers numbers the markers of captures, for source addresses of their own.
var markers atomic.Int32

// markerType is the EtherType of the markers: IEEE 802's first local
// experimental one, which nothing here handles.
const markerType = 0x88b5

// stop ends the capture and returns the packets it printed, markers aside,
// one a line. It first sends a marker frame out of the device and waits
// until tcpdump prints it: tcpdump prints packets in the order they
// crossed the device, so by then it has printed every packet of the pings,
// which crossed it before.
func (c *capture) stop(t *testing.T) []string {
	t.Helper()
	defer c.cancel()
	src, err := sendMarker(c.ns, c.dev, int(markers.Add(1)))
	if err != nil {
		t.Fatalf("marker on %s in %s: %v", c.dev, c.ns, err)
	}
	// An upper bound on waiting only: the marker crosses the device at once.
	timeout := time.After(20 * time.Second)
	for !c.printed(src + " > ") {
		select {
		case <-c.more:
		case <-c.done:
			t.Fatalf("tcpdump on %s in %s ended before printing its marker from %s: %v", c.dev, c.ns, src, c.cmd.Wait())
		case <-timeout:
			c.mu.Lock()
			defer c.mu.Unlock()
			t.Fatalf("tcpdump on %s in %s did not print its marker from %s within 20s; printed:\n%s", c.dev, c.ns, src, strings.Join(c.lines, "\n"))
		}
	}
	c.cmd.Process.Signal(syscall.SIGINT)
	<-c.done
	c.cmd.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.lines {
		// A marker is a header line and lines of hex.
		if !strings.Contains(l, fmt.Sprintf("(%#x)", markerType)) && !strings.HasPrefix(strings.TrimSpace(l), "0x") {
			out = append(out, l)
		}
	}
	return out
}

// sendMarker sends a broadcast frame of markerType out of dev in the
// namespace ns, from a local MAC address that carries n, and returns that
// address.
func sendMarker(ns, dev string, n int) (string, error) {
	src := net.HardwareAddr{0x02, 'o', 'v', 'n', byte(n >> 8), byte(n)}
	bcast := [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	frame := append(append(append([]byte{}, bcast[:6]...), src...), markerType>>8, markerType&0xff)
	frame = append(frame, make([]byte, 46)...) // the shortest payload
	return src.String(), lab.InNamespace(ns, func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0) // sends only
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Sendto(fd, frame, 0, &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6, Addr: bcast})
	})
}

// printed reports whether tcpdump has printed a line containing s.
func (c *capture) printed(s string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.lines, func(l string) bool { return strings.Contains(l, s) })
}

// flow is a stream of pings between a VM on h1 and the outside host, and
// where its packets are expected.
type flow struct {
	vm  string // the VM on h1
	out bool   // the VM pings the outside host; else the outside host pings it
	// addr is the VM's address on the outside network: "" for its own.
	addr   string
	tunnel bool            // whether the packets cross the tunnel between h1 and h0
	exits  map[string]bool // host -> whether they cross its port to the outside network
}

// TestLabTraceCaptures applies each runbook in its lab (its pings and traces
// pass), runs `ovnrun trace`, and checks its summary against the packets.
// Through the gateway chassis, the pings between a VM on h1 and the outside
// host cross the tunnel between h1 and h0 and the outside network at h0; with
// distributed NAT, none cross the tunnel, and they reach the outside network
// at h1, from the floating IP.
func TestLabTraceCaptures(t *testing.T) {
	labhost.RequireLab(t)
	requireTools(t, "tcpdump", "ovn-trace")
	atH0 := map[string]bool{"h0": true}
	for _, tc := range []struct {
		runbook, verdict string
		flows            []flow
	}{
		{"dgp", "Redirected through cr-lr1-ls3 to the gateway chassis h0", []flow{
			{"v0", true, "", true, atH0},
			{"v0", false, "", true, atH0},
		}},
		{"dgp-dnat", "Handled entirely on h1", []flow{
			{"v0", true, "172.16.3.100", false, map[string]bool{"h0": false, "h1": true}},
			{"v0", false, "172.16.3.100", false, map[string]bool{"h0": false, "h1": true}},
			{"v1", true, "172.16.3.254", true, map[string]bool{"h0": true, "h1": false}}, // centralized SNAT
		}},
	} {
		t.Run(tc.runbook, func(t *testing.T) {
			path, name := labRunbook(t, tc.runbook)
			out, _ := ovnrunProcess(t, "--lab", path)
			checkPings(t, out, 3)
			if want := "] trace h1/v0 -> 172.16.3.253: run ("; !strings.Contains(out, want) {
				t.Errorf("apply lacks %q:\n%s", want, out)
			}
			out, _ = ovnrunProcess(t, "trace", "--lab", path, "h1/v0", "172.16.3.253")
			if !strings.Contains(out, "\n"+tc.verdict) {
				t.Errorf("ovnrun trace lacks %q:\n%s", tc.verdict, out)
			}
			t.Logf("ovnrun trace --lab %s h1/v0 172.16.3.253:\n%s", tc.runbook, out)

			l, err := lab.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			outside, _ := l.Host("outside")
			for _, f := range tc.flows {
				vmNS := l.VMNS("h1", f.vm)
				if f.addr == "" {
					f.addr = vmAddress(t, vmNS)
				}
				what, ns, src, dst := "from h1/"+f.vm, vmNS, f.addr, "172.16.3.253"
				if !f.out {
					what, ns, src, dst = "from the outside host", outside.NS, dst, src
				}
				tunnel, exits := capturePings(t, l, f.exits, ns, dst)
				checkCaptures(t, fmt.Sprintf("%s: %d pings %s to %s", tc.runbook, pings, what, dst),
					tunnel, f.tunnel, exits, f.exits, src+" > "+dst+": ICMP echo request")
			}

			out, _ = ovnrunProcess(t, "--lab", path)
			if !strings.Contains(out, "No changes.\n") {
				t.Errorf("second run plans changes:\n%s", out)
			}
			checkPings(t, out, 3)
		})
	}
}

// pings is how many echo requests the captures watch.
const pings = 5

// vmAddress is the address OVN's DHCP gave the VM of namespace ns.
func vmAddress(t *testing.T, ns string) string {
	t.Helper()
	out, err := lab.Output("ip", "-n", ns, "-4", "-o", "addr", "show", "scope", "global")
	f := strings.Fields(out)
	if err != nil || len(f) < 4 {
		t.Fatalf("the address of %s: %v %q", ns, err, out)
	}
	addr, _, _ := strings.Cut(f[3], "/")
	return addr
}

// capturePings captures on h1's underlay (Geneve) and on the outside port
// of each host of exits (ICMP) while ns pings dst.
func capturePings(t *testing.T, l *lab.Lab, exits map[string]bool, ns, dst string) (tunnel []string, out map[string][]string) {
	t.Helper()
	h1, _ := l.Host("h1")
	geneve := startCapture(t, h1.NS, lab.Underlay, "udp port 6081")
	caps := map[string]*capture{}
	for h := range exits {
		hh, _ := l.Host(h)
		if len(hh.Ifaces) != 1 {
			t.Fatalf("host %s has outside interfaces %v, want one", h, hh.Ifaces)
		}
		caps[h] = startCapture(t, hh.NS, hh.Ifaces[0], "icmp")
	}
	ping, err := lab.Output("ip", "netns", "exec", ns, "busybox", "ping", "-c", fmt.Sprint(pings), "-i", "0.2", "-W", "1", dst)
	if err != nil || !strings.Contains(ping, fmt.Sprintf("%d packets received", pings)) {
		t.Errorf("ping from %s to %s: %v\n%s", ns, dst, err, ping)
	}
	out = map[string][]string{}
	tunnel = geneve.stop(t)
	for h, c := range caps {
		out[h] = c.stop(t)
	}
	return tunnel, out
}

// checkCaptures checks that the pings' ICMP packets crossed the tunnel
// between h1 and h0 (both ways) or not, and each host's outside port
// (echo requests) or not.
func checkCaptures(t *testing.T, what string, tunnel []string, wantTunnel bool, exits map[string][]string, wantExits map[string]bool, request string) {
	t.Helper()
	icmp := count(tunnel, "ICMP echo")
	t.Logf("%s: %d Geneve packets on h1's underlay, %d of them ICMP", what, len(tunnel), icmp)
	if wantTunnel && icmp < 2*pings || !wantTunnel && icmp != 0 {
		t.Errorf("%s: %d ICMP packets crossed the tunnel between h1 and h0, want %d:\n%s", what, icmp,
			map[bool]int{true: 2 * pings}[wantTunnel], strings.Join(tunnel, "\n"))
	}
	for h, lines := range exits {
		n := count(lines, request)
		t.Logf("%s: %d echo requests on %s's outside port (%d ICMP packets in all)", what, n, h, len(lines))
		if want := map[bool]int{true: pings}[wantExits[h]]; n != want {
			t.Errorf("%s: %d echo requests %q on %s's outside port, want %d:\n%s", what, n, request, h, want, strings.Join(lines, "\n"))
		}
	}
}

func count(lines []string, substr string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}
