package impair

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

// Usage is the synopsis of `ovnrun lab impair`, which Main implements.
const Usage = "ovnrun lab impair --dev DEV --tap TAP [--delay-ms N] [--loss-pct P] --pidfile FILE [--background]"

// readyFD is the descriptor a background impairer reports on: "ready\n"
// once the impairment is in place, else why it is not.
const readyFD = 3

// Main runs `ovnrun lab impair ARGS` (args without the command words) and
// returns its exit status. With --background it starts itself again, in a
// session of its own with no terminal, and returns once that process has
// the impairment in place (0) or has failed (1): a host's shell then holds
// no connection open to it.
func Main(args []string, stderr io.Writer) int {
	var cfg Config
	var background bool
	fs := pflag.NewFlagSet("lab impair", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.Dev, "dev", "", "the device whose egress is impaired")
	fs.StringVar(&cfg.Tap, "tap", "", "the tap device to make, which the device's frames are redirected to")
	fs.IntVar(&cfg.DelayMS, "delay-ms", 0, "milliseconds each frame is held")
	fs.IntVar(&cfg.LossPct, "loss-pct", 0, "percentage of frames dropped at random")
	fs.StringVar(&cfg.Pidfile, "pidfile", "", "the file this process writes its pid into once the impairment is in place")
	fs.BoolVar(&background, "background", false, "start in the background; return once the impairment is in place")
	err := fs.Parse(args)
	if err == nil {
		err = cfg.Validate()
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun lab impair: %v\nusage: %s\n", err, Usage)
		return 2
	}
	if background {
		err = startBackground(args)
	} else {
		err = foreground(cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ovnrun lab impair: %v\n", err)
		return 1
	}
	return 0
}

// foreground sets up, reports on readyFD when started by startBackground,
// and forwards frames until SIGTERM or SIGINT.
func foreground(cfg Config) error {
	var ready *os.File
	if os.Getenv(childEnv) == "1" {
		ready = os.NewFile(readyFD, "ready")
	}
	im, err := Setup(cfg)
	if err != nil {
		if ready != nil {
			fmt.Fprint(ready, err)
		}
		return err
	}
	defer im.Close()
	if ready != nil {
		fmt.Fprint(ready, "ready\n")
		ready.Close()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	errc := make(chan error, 1)
	go func() { errc <- im.Run() }()
	select {
	case <-sig:
		return nil
	case err := <-errc:
		return err
	}
}

// childEnv marks the process startBackground starts.
const childEnv = "OVNRUN_IMPAIR_CHILD"

// startBackground starts this executable again with args less
// --background, detached, and waits for its report.
func startBackground(args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var rest []string
	for _, a := range args {
		if a != "--background" && a != "--background=true" {
			rest = append(rest, a)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(exe, append([]string{"lab", "impair"}, rest...)...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.ExtraFiles = []*os.File{w} // readyFD
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return err
	}
	report, _ := io.ReadAll(r)
	if string(report) == "ready\n" {
		return cmd.Process.Release()
	}
	cmd.Wait()
	if len(report) == 0 {
		return fmt.Errorf("the impairer exited before it was in place (%v)", cmd.ProcessState)
	}
	return fmt.Errorf("%s", strings.TrimSpace(string(report)))
}
