package check

import (
	"fmt"
	"math"

	"go.starlark.net/starlark"

	"github.com/ovnrun/ovnrun/interp"
)

// ping_watch() and outage() measure how long a path is down while a later
// step breaks something on purpose (fault()): the watch keeps a ping running
// in the background from one step to a later one, and outage() stops it and
// reads the gap from the ICMP sequence numbers of its replies
// (watchdriver.go).

const pingWatchDoc = `Starts a ping from src to dst that keeps running in the background, one echo request every
interval_ms milliseconds (default 100, 10..10000), for outage() in a later step to stop and
measure. src and dst are as ping()'s. The watch first waits up to timeout_s seconds (default 10)
for a reply, as ping() does, so that what a later step breaks was working when it broke; then it
starts the background ping and the step goes on. Returns a ping_watch to hand to outage(). Put
the watch, the faults and outage() in three steps, in that order: a step runs the actions of
different hosts at the same time. A watch that no outage() stopped (the run failed or was
interrupted before it) is stopped when the run ends; src's host records each watch (in
$OVS_RUNDIR/ovnrun-watches), so one left by a run killed outright is stopped by the next run
that declares a ping_watch() from that host, when it starts that watch again or when it ends. A
watch's ping ends by itself after 600 s in any case. The plan shows src, dst, interval_ms and timeout_s, with the ID ping_watch/<src>-><dst>.`

const outageDoc = `Stops a ping_watch() and reports the longest outage it saw: the time between the last reply
before a run of lost echo requests and the first reply after it, read from the replies' ICMP
sequence numbers (requests are sent every interval_ms, so a gap from sequence a to b is
(b - a) x interval). Before stopping the watch, it waits for the replies to resume: for a run of
consecutive replies lasting 1 s (at least 3), after the requests sent since outage() began. The
check fails when the outage exceeds max_outage_s (required, 0.1..3600), or when the replies do
not resume within max_outage_s plus that second of replies and 2 s. Call it in a step after the
one that breaks the path (fault()); the result shows the outage, the sequence numbers around it
and the replies counted. The plan shows watch and max_outage_s, with the ID outage/<src>-><dst>.`

// PingWatch starts a ping running in the background from Src to Dst.
type PingWatch struct {
	interp.ActionMeta
	// Src, Guest and Dst are as Ping's.
	Src, Guest string
	Dst        any
	IntervalMS int
	TimeoutS   int
}

// Fields implements interp.Action.
func (w *PingWatch) Fields() []interp.Field {
	return []interp.Field{
		interp.F("src", w.Src),
		interp.F("dst", w.Dst),
		interp.F("interval_ms", w.IntervalMS),
		interp.F("timeout_s", w.TimeoutS),
	}
}

// Outage stops the watch with ID Watch and judges the longest outage it
// saw.
type Outage struct {
	interp.ActionMeta
	Watch      string // the PingWatch's ID
	Label      string // its "src -> dst", for messages
	MaxOutageS float64
}

// Fields implements interp.Action.
func (o *Outage) Fields() []interp.Field {
	return []interp.Field{interp.F("watch", o.Label), interp.F("max_outage_s", o.MaxOutageS)}
}

// pingWatch is the Starlark value ping_watch() returns.
type pingWatch struct {
	id, label string
	host      *interp.Host
}

var _ starlark.Value = (*pingWatch)(nil)

func (w *pingWatch) String() string        { return fmt.Sprintf("ping_watch(%q)", w.label) }
func (w *pingWatch) Type() string          { return "ping_watch" }
func (w *pingWatch) Freeze()               {}
func (w *pingWatch) Truth() starlark.Bool  { return starlark.True }
func (w *pingWatch) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: ping_watch") }

func pingWatchBuiltin(c *interp.Call) (starlark.Value, error) {
	var (
		srcv, dstv starlark.Value
		interval   = 100
		timeout    = 10
	)
	if err := c.Unpack(2, "src", &srcv, "dst", &dstv, "interval_ms?", &interval, "timeout_s?", &timeout); err != nil {
		return nil, err
	}
	switch {
	case interval < 10 || interval > 10000:
		return nil, c.Errorf("interval_ms %d is out of range 10..10000", interval)
	case timeout < 1 || timeout > 3600:
		return nil, c.Errorf("timeout_s %d is out of range 1..3600", timeout)
	}
	src, err := resolveSource(c, srcv)
	if err != nil {
		return nil, err
	}
	dst, err := resolveTarget(c, dstv)
	if err != nil {
		return nil, err
	}
	label := src.label + " -> " + dst.label
	w := &PingWatch{Src: src.label, Guest: src.guest, Dst: dst.addr, IntervalMS: interval, TimeoutS: timeout}
	w.M = interp.Meta{Kind: "ping_watch", Name: label, Mode: interp.Command, Driver: DriverName,
		Host: src.host.Name, ID: checkID(c, "ping_watch", src.label+"->"+dst.label)}
	for _, d := range []string{src.dep, dst.dep} {
		if d != "" {
			w.M.DependsOn = append(w.M.DependsOn, d)
		}
	}
	if err := c.Add(w); err != nil {
		return nil, err
	}
	return &pingWatch{id: w.M.ID, label: label, host: src.host}, nil
}

func outageBuiltin(c *interp.Call) (starlark.Value, error) {
	var wv, maxv starlark.Value
	if err := c.Unpack(1, "watch", &wv, "max_outage_s", &maxv); err != nil {
		return nil, err
	}
	max, ok := starlark.AsFloat(maxv)
	if !ok {
		return nil, c.Errorf("for parameter max_outage_s: got %s, want int or float", maxv.Type())
	}
	w, isWatch := wv.(*pingWatch)
	if !isWatch {
		return nil, c.Errorf("for parameter watch: got %s, want ping_watch (from ping_watch())", wv.Type())
	}
	if math.IsNaN(max) || max < 0.1 || max > 3600 {
		return nil, c.Errorf("max_outage_s %v is out of range 0.1..3600", max)
	}
	o := &Outage{Watch: w.id, Label: w.label, MaxOutageS: max}
	o.M = interp.Meta{Kind: "outage", Name: w.label, Mode: interp.Command, Driver: DriverName,
		Host: w.host.Name, ID: checkID(c, "outage", w.id[len("ping_watch/"):]), DependsOn: []string{w.id}}
	if err := c.Add(o); err != nil {
		return nil, err
	}
	return starlark.None, nil
}
