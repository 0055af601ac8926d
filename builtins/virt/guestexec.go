package virt

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/ovnrun/ovnrun/internal/poll"
	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// Commands inside guests, for the check driver's pings and exec()
// (check.GuestRunner): through QEMU's guest agent when the guest runs one
// (guestagent.go), else through ovnrun's own channel, described here.
//
// Every domain the driver defines has a virtio-serial channel named
// GuestChannel whose host end is a unix socket that QEMU listens on (libvirt
// picks its path when the domain starts; the live XML says which). A guest
// that serves the channel runs commands for the driver, which reaches the
// socket through the host's connection (SSH direct-streamlocal, as the
// libvirt socket). The project's guest kit serves it from its init
// (scripts/build-guest-kit.sh); another image needs a server of its own.
//
// The protocol is one line each way, every argument and output
// base64-encoded after an "x" (so that none is empty and none holds a space):
//
//	request: ovnrun1 ID SECONDS xARGV0 xARGV1 ...
//	reply:   ovnrun1 ID STATUS xSTDOUT xSTDERR
//
// The guest runs the command under `timeout -s KILL SECONDS` and answers
// one request at a time. A reply of an earlier conversation that gave up
// waiting may come first on a new connection: its ID tells it apart.

// GuestChannel is the name of the command channel in the guest
// (/sys/class/virtio-ports/*/name).
const GuestChannel = "org.ovnrun.guest.0"

// guestProto starts every request and reply.
const guestProto = "ovnrun1"

// maxReply bounds a reply line.
const maxReply = 4 << 20

// GuestExec implements check.GuestRunner: it runs argv in the guest of
// domain vm on host, bounded by ctx, through the guest's QEMU agent when
// it runs one (guestagent.go), else through ovnrun's channel. It waits for
// the guest to open either; a guest that opens neither, or does not
// answer, before ctx ends (one still booting, or one with neither server)
// gives a result with status 124 that says so, so that a check retries it
// like a command that failed; a VM that is not running, or has no
// channel, is an error.
func (d *Driver) GuestExec(ctx context.Context, host, vm string, argv []string) (*remote.Result, error) {
	h := d.host(host)
	res := &remote.Result{Host: host + "/" + vm, Cmd: remote.Argv(argv...).String()}
	if len(argv) == 0 {
		return nil, fmt.Errorf("run in VM %s on %s: no command", vm, host)
	}
	start := time.Now()
	ch, err := h.openChannel(ctx, vm)
	if ctx.Err() != nil {
		res.Status, res.Duration = 124, time.Since(start)
		res.Stderr = fmt.Sprintf("neither the guest agent (%s) nor ovnrun's channel (%s) opened within %s: the guest is still booting, or serves neither",
			GuestAgentChannel, GuestChannel, res.Duration.Round(time.Millisecond))
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("run `%s` in VM %s on %s: %w", res.Cmd, vm, host, err)
	}
	unlock, err := h.lockGuest(ctx, vm)
	if err != nil {
		return nil, err
	}
	defer unlock()
	agent := ch.agentState == "connected"
	h.notePath(vm, agent)
	if agent {
		err = h.agentExec(ctx, ch.dom, argv, res)
	} else {
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = start.Add(time.Minute)
		}
		err = h.converse(ctx, ch.path, deadline, argv, res)
	}
	res.Duration = time.Since(start)
	if err != nil && ctx.Err() != nil {
		res.Status = 124
		res.Stderr = fmt.Sprintf("the guest did not answer within %s", res.Duration.Round(time.Millisecond))
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("run `%s` in VM %s on %s: %w", res.Cmd, vm, host, err)
	}
	return res, nil
}

// notePath logs, once per domain, which way commands reach its guest.
func (h *hostState) notePath(vm string, agent bool) {
	via := "ovnrun's channel " + GuestChannel
	if agent {
		via = "its QEMU guest agent"
	}
	h.mu.Lock()
	if h.paths == nil {
		h.paths = map[string]string{}
	}
	same := h.paths[vm] == via
	h.paths[vm] = via
	h.mu.Unlock()
	if !same {
		h.d.logf(h.name, "commands in VM %s run through %s", vm, via)
	}
}

// converse sends one request on the channel's socket and reads replies
// until its own, filling res.
func (h *hostState) converse(ctx context.Context, path string, deadline time.Time, argv []string, res *remote.Result) error {
	conn, err := h.conn(ctx)
	if err != nil {
		return err
	}
	c, err := conn.DialUnix(ctx, path)
	if err != nil {
		return err
	}
	// SSH channels have no deadlines: the connection is closed when ctx
	// ends, which ends a blocked read.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer func() {
		stop()
		c.Close()
	}()
	id, req := guestRequest(argv, deadline)
	if _, err := c.Write([]byte(req)); err != nil {
		return err
	}
	return readReply(c, id, res)
}

// guestRequest encodes argv as a request with a fresh ID; the guest's
// bound is what is left until deadline, less a second for the reply.
func guestRequest(argv []string, deadline time.Time) (id, line string) {
	var b [8]byte
	rand.Read(b[:])
	id = hex.EncodeToString(b[:])
	secs := max(1, int(math.Ceil(time.Until(deadline).Seconds()))-1)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s %d", guestProto, id, secs)
	for _, a := range argv {
		sb.WriteString(" x" + base64.StdEncoding.EncodeToString([]byte(a)))
	}
	sb.WriteByte('\n')
	return id, sb.String()
}

// readReply reads lines until the reply to id and decodes it into res.
func readReply(c net.Conn, id string, res *remote.Result) error {
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 4096), maxReply)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 5 || f[0] != guestProto || f[1] != id {
			continue // an earlier conversation's reply, or noise
		}
		status, err := strconv.Atoi(f[2])
		if err != nil {
			return fmt.Errorf("bad reply status %q", f[2])
		}
		out, err1 := decodeField(f[3])
		errOut, err2 := decodeField(f[4])
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad reply encoding")
		}
		res.Status, res.Stdout, res.Stderr = status, out, errOut
		return nil
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return fmt.Errorf("the channel closed before the reply")
}

func decodeField(s string) (string, error) {
	if !strings.HasPrefix(s, "x") {
		return "", fmt.Errorf("field %q", s)
	}
	b, err := base64.StdEncoding.DecodeString(s[1:])
	return string(b), err
}

// guestChannels is what a running domain's live XML says of the ways
// into its guest.
type guestChannels struct {
	dom libvirt.Domain
	// path is the host socket of ovnrun's channel, "" when the domain has
	// none; state is "connected" while the guest has it open.
	path, state string
	// agentState is the agent channel's state, "" when it has none.
	agentState string
}

// open reports whether the guest has opened either way in.
func (g guestChannels) open() bool { return g.state == "connected" || g.agentState == "connected" }

// guestChannels reads the ways into the guest of running domain vm.
func (h *hostState) guestChannels(ctx context.Context, vm string) (guestChannels, error) {
	var g guestChannels
	err := h.do(ctx, func(l *libvirt.Libvirt) error {
		dom, err := l.DomainLookupByName(vm)
		if isLibvirtErr(err, libvirt.ErrNoDomain) {
			return fmt.Errorf("no domain %s on host %s", vm, h.name)
		}
		if err != nil {
			return err
		}
		if active, err := l.DomainIsActive(dom); err != nil {
			return err
		} else if active == 0 {
			return fmt.Errorf("domain %s is not running", vm)
		}
		doc, err := l.DomainGetXMLDesc(dom, 0)
		if err != nil {
			return err
		}
		_, x, err := parseDomain(doc)
		if err != nil {
			return err
		}
		g.dom = dom
		g.path, g.state = channelOf(x.Devices, GuestChannel)
		_, g.agentState = channelOf(x.Devices, GuestAgentChannel)
		if g.path == "" && g.agentState == "" {
			return fmt.Errorf("domain %s has neither channel %s nor %s (defined by an older ovnrun? recreate it with --recreate-vms)",
				vm, GuestAgentChannel, GuestChannel)
		}
		return nil
	})
	return g, err
}

// openChannel waits until the guest of vm has opened a way in.
func (h *hostState) openChannel(ctx context.Context, vm string) (guestChannels, error) {
	var g guestChannels
	err := poll.Until(ctx, 24*time.Hour, pollEvery, func() (bool, error) {
		var err error
		g, err = h.guestChannels(ctx, vm)
		return err == nil && g.open(), err
	})
	return g, err
}

// lockGuest serializes conversations with one guest, which answers one
// request at a time.
func (h *hostState) lockGuest(ctx context.Context, vm string) (func(), error) {
	h.mu.Lock()
	if h.guests == nil {
		h.guests = map[string]chan struct{}{}
	}
	ch := h.guests[vm]
	if ch == nil {
		ch = make(chan struct{}, 1)
		h.guests[vm] = ch
	}
	h.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// GuestBootWait bounds waiting for a guest to open its command channel
// (Config.WaitGuests).
const GuestBootWait = 2 * time.Minute

// waitGuests waits until the guests of domains have opened the command
// channel, hosts concurrently, and returns the IDs of those that did.
func (d *Driver) waitGuests(ctx context.Context, domains []*Domain) ([]string, error) {
	var mu sync.Mutex
	var booted []string
	err := d.lanes(ctx, len(domains), func(i int) string { return domains[i].M.Host },
		func(ctx context.Context, h *hostState, i int) error {
			a := domains[i]
			if err := h.waitGuest(ctx, a.Domain); err != nil {
				return interp.NewActionError(a, err)
			}
			mu.Lock()
			booted = append(booted, a.M.ID)
			mu.Unlock()
			return nil
		})
	return booted, err
}

// waitGuest polls the running domain's channels until libvirt says the
// guest has opened its agent's or ovnrun's.
func (h *hostState) waitGuest(ctx context.Context, vm string) error {
	start := time.Now()
	err := poll.Until(ctx, GuestBootWait, pollEvery, func() (bool, error) {
		g, err := h.guestChannels(ctx, vm)
		return g.open(), err
	})
	if errors.Is(err, poll.ErrTimeout) {
		return fmt.Errorf("the guest of domain %s has opened neither channel %s nor %s within %s: has it booted, and does it run a guest agent or serve ovnrun's channel?",
			vm, GuestAgentChannel, GuestChannel, GuestBootWait)
	}
	if err == nil {
		h.d.logf(h.name, "the guest of domain %s is up (%s)", vm, time.Since(start).Round(10*time.Millisecond))
	}
	return err
}
