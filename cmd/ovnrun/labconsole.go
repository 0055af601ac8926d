package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/internal/lab"
)

// `ovnrun lab shell HOST/VM` on a QEMU guest: its serial console, the pty
// libvirt gave QEMU, attached raw to the terminal until Ctrl-].

// consoleEscape leaves the console, as in telnet and virsh console.
const consoleEscape = 0x1d // Ctrl-]

// consoleShell starts a shell on the guest's serial port unless something
// (a getty, an earlier shell) already reads it: the guest kit's init runs
// none there. The shell is its session's leader, so the port becomes its
// terminal (Ctrl-C reaches what it runs); it keeps nothing of the agent's
// pipes, whose end the agent waits for.
const consoleShell = `for f in /proc/[0-9]*/fd/*; do
	[ "$(readlink "$f")" = /dev/ttyS0 ] && exit 0
done
PS1="$1" setsid sh -c 'exec sh -i </dev/ttyS0 >/dev/ttyS0 2>&1' </dev/null >/dev/null 2>&1 &
`

// guestShell attaches this process's terminal to guest p's serial console
// until Ctrl-] or the end of stdin.
func guestShell(c *cli, l *lab.Lab, p lab.Place) error {
	lv, err := guestClient(p)
	if err != nil {
		return err
	}
	devs, err := virt.ReadGuestDevices(lv, p.Guest)
	if err == nil && devs.ConsolePTY == "" {
		err = fmt.Errorf("%s has no serial console on a pty: lab exec runs commands in it", p.Name)
	}
	if err == nil {
		prompt := fmt.Sprintf("[%s %s] # ", l.Name, p.Name)
		_, err = virt.AgentExec(context.Background(), lv, p.Guest, []string{"sh", "-c", consoleShell, "sh", prompt})
	}
	lv.Disconnect()
	if err != nil {
		return err
	}
	console, err := os.OpenFile(devs.ConsolePTY, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return err
	}
	defer console.Close()
	// The console pty passes bytes as they are; the guest's own terminal
	// does the echo and line editing.
	if restore, err := makeRaw(int(console.Fd())); err == nil {
		defer restore()
	}
	if c.stdin == nil {
		return errors.New("no standard input to attach")
	}
	if restore, err := makeRaw(int(c.stdin.Fd())); err == nil {
		defer restore()
	}
	fmt.Fprintf(c.stderr, "ovnrun: lab shell: the serial console of %s; Ctrl-] leaves it (its shell goes on)\r\n", p.Name)
	go io.Copy(c.stdout, console)
	// A newline makes the shell print its prompt.
	console.Write([]byte("\n"))
	buf := make([]byte, 4096)
	for {
		n, err := c.stdin.Read(buf)
		if i := bytes.IndexByte(buf[:n], consoleEscape); i >= 0 {
			console.Write(buf[:i])
			break
		}
		if n > 0 {
			if _, werr := console.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err != nil {
			break
		}
	}
	fmt.Fprintf(c.stderr, "\r\novnrun: lab shell: left the console of %s\r\n", p.Name)
	return nil
}

// makeRaw puts terminal fd in raw mode (as cfmakeraw) and returns what
// restores it; fd that is no terminal gives an error.
func makeRaw(fd int) (func(), error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	t := *old
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
