// Package impair is a userspace link impairer, for kernels without the netem
// qdisc: it delays and drops what a device sends, as `tc qdisc ... netem
// delay N loss P` would. A tc clsact egress filter (u32, every packet)
// redirects the device's outgoing frames to a tap device; this process reads
// them there, drops loss_pct of them at random, holds the rest delay_ms, and
// sends them out of the device with an AF_PACKET socket that bypasses the
// qdisc layer (PACKET_QDISC_BYPASS), so its own frames skip the filter.
// fault(host, "netem", ...) runs it in an emulated lab's host namespace
// (`ovnrun lab impair`, docs/faults.md). It imports only the standard
// library and x/sys.
package impair

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Config is one impairment of a device's egress.
type Config struct {
	Dev     string // the impaired device
	Tap     string // the tap device its frames are redirected to
	DelayMS int    // 0..60000
	LossPct int    // 0..100
	Pidfile string // written once the impairment is in place
}

// ifName is what a Linux interface name may be (IFNAMSIZ is 16).
var ifName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,14}$`)

// Validate refuses a configuration before anything is changed.
func (c Config) Validate() error {
	switch {
	case !ifName.MatchString(c.Dev):
		return fmt.Errorf("--dev %q is not a device name", c.Dev)
	case !ifName.MatchString(c.Tap):
		return fmt.Errorf("--tap %q is not a device name", c.Tap)
	case c.Dev == c.Tap:
		return fmt.Errorf("--tap %q is the impaired device itself", c.Tap)
	case c.DelayMS < 0 || c.DelayMS > 60000:
		return fmt.Errorf("--delay-ms %d is out of range 0..60000", c.DelayMS)
	case c.LossPct < 0 || c.LossPct > 100:
		return fmt.Errorf("--loss-pct %d is out of range 0..100", c.LossPct)
	case c.Pidfile == "":
		return errors.New("--pidfile is required")
	}
	return nil
}

// Drop says whether to drop a frame, lossPct percent of the time; r draws
// from 0..99.
func Drop(r func(n int) int, lossPct int) bool {
	return lossPct > 0 && (lossPct >= 100 || r(100) < lossPct)
}

// queueLen bounds the frames held back, as netem's limit (1000 by default)
// does; a frame that finds the queue full is dropped.
const queueLen = 4096

type held struct {
	due   time.Time
	frame []byte
}

// Impairer is an impairment in place: its tap and its socket on Dev.
type Impairer struct {
	cfg  Config
	tap  int // the tap's file descriptor
	sock int // AF_PACKET, bound to Dev, bypassing its qdiscs
	dev  int // Dev's ifindex
}

// Setup makes the tap, the socket and the tc redirect, then writes the
// pidfile. On error, what it made is taken down again.
func Setup(cfg Config) (_ *Impairer, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ifi, err := net.InterfaceByName(cfg.Dev)
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", cfg.Dev, err)
	}
	im := &Impairer{cfg: cfg, tap: -1, sock: -1, dev: ifi.Index}
	defer func() {
		if err != nil {
			im.Close()
		}
	}()
	if im.tap, err = openTap(cfg.Tap); err != nil {
		return nil, err
	}
	// The tap must send nothing of its own (IPv6 router solicitations,
	// say): all it carries goes out of Dev.
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+cfg.Tap+"/disable_ipv6", []byte("1"), 0)
	if err = command("ip", "link", "set", "dev", cfg.Tap, "up"); err != nil {
		return nil, err
	}
	if im.sock, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
		return nil, fmt.Errorf("packet socket: %w", err)
	}
	if err = unix.SetsockoptInt(im.sock, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1); err != nil {
		return nil, fmt.Errorf("packet socket: PACKET_QDISC_BYPASS: %w", err)
	}
	if err = unix.Bind(im.sock, &unix.SockaddrLinklayer{Ifindex: im.dev}); err != nil {
		return nil, fmt.Errorf("packet socket on %s: %w", cfg.Dev, err)
	}
	if err = command("tc", "qdisc", "add", "dev", cfg.Dev, "clsact"); err != nil {
		return nil, err
	}
	if err = command("tc", "filter", "add", "dev", cfg.Dev, "egress", "protocol", "all", "prio", "1",
		"u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", cfg.Tap); err != nil {
		return nil, err
	}
	if err = os.WriteFile(cfg.Pidfile, []byte(fmt.Sprintln(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	return im, nil
}

// Close takes the redirect, the socket and the tap (with its fd) down.
func (im *Impairer) Close() {
	_ = command("tc", "qdisc", "del", "dev", im.cfg.Dev, "clsact")
	for _, fd := range []int{im.sock, im.tap} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	os.Remove(im.cfg.Pidfile)
}

// Run forwards frames from the tap to Dev until it fails.
func (im *Impairer) Run() error {
	q := make(chan held, queueLen)
	errc := make(chan error, 1)
	go func() { errc <- im.send(q) }()
	delay := time.Duration(im.cfg.DelayMS) * time.Millisecond
	buf := make([]byte, 65536)
	for {
		n, err := unix.Read(im.tap, buf)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("reading tap %s: %w", im.cfg.Tap, err)
		}
		if n < 14 || Drop(rand.IntN, im.cfg.LossPct) {
			continue
		}
		select {
		case q <- held{time.Now().Add(delay), append([]byte(nil), buf[:n]...)}:
		case err := <-errc:
			return err
		default: // the queue is full
		}
	}
}

// send sends the held frames out of Dev when they are due: in order, as
// the delay is the same for all.
func (im *Impairer) send(q <-chan held) error {
	for h := range q {
		time.Sleep(time.Until(h.due))
		// The frame's EtherType, in network order as sockaddr_ll wants it.
		to := &unix.SockaddrLinklayer{Ifindex: im.dev, Protocol: binary.NativeEndian.Uint16(h.frame[12:14])}
		if err := unix.Sendto(im.sock, h.frame, 0, to); err != nil && !transient(err) {
			return fmt.Errorf("sending on %s: %w", im.cfg.Dev, err)
		}
	}
	return nil
}

// transient errors lose one frame, as a full queue or a link down would.
func transient(err error) bool {
	return errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENETDOWN) ||
		errors.Is(err, unix.EMSGSIZE) || errors.Is(err, unix.ENXIO)
}

// openTap makes the tap device name, which lives as long as its fd.
func openTap(name string) (int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("tap %s: %w (module tun)", name, err)
	}
	ifr, err := unix.NewIfreq(name)
	if err == nil {
		ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
		err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
	}
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("tap %s: %w", name, err)
	}
	return fd, nil
}

func command(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
