package check

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// tcp() runs as three kinds of guest command, all busybox sh and nc, which
// both the lab's namespace VMs and the guest kit have (busybox nc has no -k:
// -ll with -e is its persistent server, a process per connection):
//
//   - a listener started in its own session (so that one kill of the
//     process group stops the server, the connections it serves, and the
//     sleep that ends it by itself should ovnrun never come back to stop
//     it), reported once the port is in LISTEN state in /proc/net;
//   - one round of count connections from src, a line "tcp STATUS OUTPUT"
//     each, where OUTPUT is what the listener answered or nc's error;
//   - the kill of each listener's process group.

// listening defines `listening`, true while port $1 is in LISTEN state.
const listening = `hex=$(printf ':%04X ' "$1")
listening() { grep -q "$hex[0-9A-F]*:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
`

// listenScript starts the listener: $1 port, $2 the answer, $3 its lifetime
// in seconds, $4 how long to wait for it to listen. It prints the process
// group to kill.
const listenScript = listening + `if listening; then echo "port $1 is already in use" >&2; exit 1; fi
setsid sh -c 'busybox nc -ll -p "$1" -e echo "$2" & sleep "$3"; kill $!' sh "$1" "$2" "$3" </dev/null >/dev/null 2>&1 &
pid=$!
n=$(($4 * 20))
until listening; do
	if [ $n -le 0 ]; then kill -TERM -$pid; echo "busybox nc is not listening on port $1 after $4s" >&2; exit 1; fi
	n=$((n - 1))
	sleep 0.05
done
echo $pid`

// connectScript makes the connections: $1 address, $2 port, $3 seconds to
// wait for each, $4 how many. Unquoted, $out is one line whatever nc said.
const connectScript = `set -f
i=0
while [ $i -lt "$4" ]; do
	i=$((i + 1))
	out=$(busybox nc -w "$3" "$1" "$2" </dev/null 2>&1)
	echo "tcp $?" $out
done`

// stopScript kills a listener's process group, $2, and waits until port $1
// is closed, so that the next check may listen on it again, and every
// process of the group has ended (zombies aside: their reaper may be slow).
// A process's state and group follow its name in /proc/PID/stat, which
// may hold spaces and parentheses: the last ") " ends it.
const stopScript = listening + `pg=$2
group_alive() {
	for f in /proc/[0-9]*/stat; do
		read -r s <"$f" 2>/dev/null || continue
		set -- ${s##*) }
		[ "$3" = "$pg" ] && [ "$1" != Z ] && return 0
	done
	return 1
}
kill -TERM -"$pg" 2>/dev/null
n=100
while listening || group_alive; do
	if [ $n -le 0 ]; then echo "process group $pg still runs after kill -TERM" >&2; exit 1; fi
	n=$((n - 1))
	sleep 0.05
done`

// callSlack bounds what a guest command adds to its own waiting (a
// conversation over the guest channel), as ping's.
const callSlack = 10 * time.Second

// tcp runs the check: listeners, then rounds of connections until one is
// as expected (retried only when expecting success, until timeout_s has
// passed), and the listeners stopped whatever happened.
func (d *Driver) tcp(ctx context.Context, t *TCP) (result string, err error) {
	dst, err := destination(ctx, t.Dst)
	if err != nil {
		return "", err
	}
	start := time.Now()
	deadline := start.Add(time.Duration(t.TimeoutS) * time.Second)
	var pgids []string
	defer func() {
		// Stop them even when ctx was cancelled (an interrupted run).
		if serr := d.stopListeners(context.WithoutCancel(ctx), t, pgids); serr != nil {
			err = errors.Join(err, serr)
		}
	}()
	for _, l := range t.Listeners {
		pgid, err := d.startListener(ctx, t, l)
		if err != nil {
			return "", err
		}
		pgids = append(pgids, pgid)
	}
	argv := []string{"sh", "-c", connectScript, "sh", dst, strconv.Itoa(t.Port), strconv.Itoa(t.TimeoutS), strconv.Itoa(t.Count)}
	limit := time.Duration(t.Count*t.TimeoutS)*time.Second + callSlack
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, limit)
		r, err := d.guests.GuestExec(cctx, t.M.Host, t.Guest, argv)
		cancel()
		if err != nil {
			return "", err
		}
		msg, ok := judgeTCP(t, r)
		switch {
		case ok && attempt > 1:
			return fmt.Sprintf("%s, after %d attempts in %s", msg, attempt, time.Since(start).Round(10*time.Millisecond)), nil
		case ok:
			return msg, nil
		case t.Expect != "success" || time.Now().After(deadline):
			return "", errors.New(msg)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// listenerLifetime bounds how long a listener serves if nobody stops it
// (ovnrun killed mid-check): longer than the check can last, which is
// timeout_s to start the listeners and retry, then a last round of count
// connections of up to timeout_s each, plus each call's slack.
func listenerLifetime(t *TCP) int {
	return (t.Count+2)*t.TimeoutS + int(callSlack.Seconds())*(len(t.Listeners)+1)
}

// startListener starts the server in VM l and returns its process group.
// A guest that does not answer yet (status 124: still booting) is asked
// again until timeout_s has passed.
func (d *Driver) startListener(ctx context.Context, t *TCP, l VMRef) (string, error) {
	argv := []string{"sh", "-c", listenScript, "sh", strconv.Itoa(t.Port), l.Label,
		strconv.Itoa(listenerLifetime(t)), strconv.Itoa(t.TimeoutS)}
	deadline := time.Now().Add(time.Duration(t.TimeoutS) * time.Second)
	for {
		cctx, cancel := context.WithDeadline(ctx, deadline.Add(callSlack))
		r, err := d.guests.GuestExec(cctx, l.Host, l.VM, argv)
		cancel()
		if err != nil {
			return "", fmt.Errorf("start a listener on port %d in VM %s: %w", t.Port, l.Label, err)
		}
		pgid := strings.TrimSpace(r.Stdout)
		if _, perr := strconv.Atoi(pgid); r.Status == 0 && perr == nil {
			return pgid, nil
		}
		if r.Status != 124 || time.Now().After(deadline) {
			return "", fmt.Errorf("start a listener on port %d in VM %s: exit status %d\n%s", t.Port, l.Label, r.Status, indent(r.Stdout+r.Stderr))
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stopListeners kills the listeners started, pgids in the order of
// t.Listeners.
func (d *Driver) stopListeners(ctx context.Context, t *TCP, pgids []string) error {
	var errs []error
	for i, pgid := range pgids {
		l := t.Listeners[i]
		cctx, cancel := context.WithTimeout(ctx, callSlack)
		r, err := d.guests.GuestExec(cctx, l.Host, l.VM, []string{"sh", "-c", stopScript, "sh", strconv.Itoa(t.Port), pgid})
		cancel()
		if err == nil && r.Status != 0 {
			err = fmt.Errorf("exit status %d: %s", r.Status, strings.TrimSpace(r.Stderr))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stop the listener on port %d in VM %s: %w", t.Port, l.Label, err))
		}
	}
	return errors.Join(errs...)
}

// tcpRound is how one round of connections ended.
type tcpRound struct {
	connected, refused, timedOut int
	failed                       []string // other errors ("No route to host")
	answers                      map[string]int
	made                         int
}

// A connection's line: "tcp STATUS OUTPUT".
var tcpLineRE = regexp.MustCompile(`^tcp (\d{1,3})(?:$| (.*))`)

// maxAnswer bounds what is kept of a connection's output, which goes into
// messages.
const maxAnswer = 200

// parseRound reads the lines of connectScript.
func parseRound(out string) tcpRound {
	r := tcpRound{answers: map[string]int{}}
	for _, line := range strings.Split(out, "\n") {
		m := tcpLineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		r.made++
		text := m[2]
		if len(text) > maxAnswer {
			text = text[:maxAnswer]
		}
		switch {
		case m[1] == "0":
			r.connected++
			r.answers[text]++
		case strings.Contains(text, "Connection refused"):
			r.refused++
		case strings.Contains(text, "timed out"):
			r.timedOut++
		default:
			r.failed = append(r.failed, text)
		}
	}
	return r
}

// judgeTCP says whether a round ended as t expects, and how it ended.
func judgeTCP(t *TCP, res *remote.Result) (string, bool) {
	if res.Status != 0 {
		return fmt.Sprintf("the connections from %s did not run: exit status %d\n%s", t.Src, res.Status, indent(res.Stdout+res.Stderr)), false
	}
	r := parseRound(res.Stdout)
	if r.made != t.Count {
		return fmt.Sprintf("%d of %d connections from %s reported their end:\n%s", r.made, t.Count, t.Src, indent(res.Stdout+res.Stderr)), false
	}
	s := r.describe(t)
	switch t.Expect {
	case "success":
		if r.connected < t.Count {
			return s, false
		}
		if missing := r.silent(t); len(missing) > 0 {
			return fmt.Sprintf("%s; no answer from %s", s, strings.Join(missing, ", ")), false
		}
		return s, true
	case "refused":
		return expectAll(s, r.refused == t.Count, "refused")
	case "timeout":
		return expectAll(s, r.timedOut == t.Count, "timed out")
	default: // failure
		return expectAll(s, r.connected == 0, "failed")
	}
}

func expectAll(s string, ok bool, end string) (string, bool) {
	if ok {
		return s + ", as expected", true
	}
	return s + "; expected every connection " + end, false
}

// silent lists the listeners no connection reached.
func (r tcpRound) silent(t *TCP) []string {
	var out []string
	for _, l := range t.Listeners {
		if r.answers[l.Label] == 0 {
			out = append(out, l.Label)
		}
	}
	return out
}

// describe says how the round ended: "30/30 connected; h0/v1 11, h0/v2 9,
// h0/v3 10", or "0/1 connected, 1 refused". Answers are counted when the
// check started listeners, in their order, then any other answer.
func (r tcpRound) describe(t *TCP) string {
	s := fmt.Sprintf("%d/%d connected", r.connected, t.Count)
	if r.refused > 0 {
		s += fmt.Sprintf(", %d refused", r.refused)
	}
	if r.timedOut > 0 {
		s += fmt.Sprintf(", %d timed out", r.timedOut)
	}
	if n := len(r.failed); n > 0 {
		s += fmt.Sprintf(", %d failed (%s)", n, r.failed[0])
	}
	if len(t.Listeners) == 0 || r.connected == 0 {
		return s
	}
	var parts []string
	for _, l := range t.Listeners {
		parts = append(parts, fmt.Sprintf("%s %d", l.Label, r.answers[l.Label]))
	}
	var others []string
	for a := range r.answers {
		if !slices.ContainsFunc(t.Listeners, func(l VMRef) bool { return l.Label == a }) {
			others = append(others, a)
		}
	}
	slices.Sort(others)
	for _, a := range others {
		parts = append(parts, fmt.Sprintf("%q %d", a, r.answers[a]))
	}
	return s + "; " + strings.Join(parts, ", ")
}
