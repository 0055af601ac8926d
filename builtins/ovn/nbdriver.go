package ovn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/poll"
	"github.com/ovnrun/ovnrun/interp"
)

// The NB driver applies the OVN actions of a plan to a Northbound database.
// It sends transactions through a libovsdb client and reads the NB through an
// ovsdbmodel.Replica of every table, on a second connection; both take the
// server's own schema, so one binary serves OVN 22.03 to 26.03.
//
// Every action is a Row of a Table (table.go): the driver knows no table by
// name. Identity: rows are found by the ownership tag, named rows by name,
// and otherwise by the table's natural key (Table.Key) to refuse, or with
// --adopt take over, a row another tool made. References: a row is linked
// from the named rows of Table.In by mutation of their columns; whether a
// reference is strong or weak, and a table root, comes from the schema.
//
// Ownership: every row ovnrun creates carries external_ids ovnrun:runbook
// (see Owner) and ovnrun:action (the action ID). A row with the name of a
// declared action but without these tags is never adopted silently. Rows of
// a table without external_ids (Static_MAC_Binding, Load_Balancer_Group)
// have their tags in a ledger in NB_Global external_ids instead
// (nbledger.go).
//
// Columns: ovnrun manages, on its own rows, exactly the columns its actions
// describe (whole columns, maps included: a key added by hand to an owned
// row's options shows up as drift and is removed). It never writes any other
// column, and touches other rows only to add or remove references to its own
// rows (a switch's ports, a router's nat...).

// Ownership tag keys in external_ids.
const (
	TagRunbook = "ovnrun:runbook"
	TagAction  = "ovnrun:action"
)

// Owner is the value of the ovnrun:runbook tag that older ovnrun wrote for a
// runbook path: its base name. Runs now tag rows with engine.OwnerOf (lab(),
// --owner, or the base name with a hash of the absolute path) and take this
// one as NBConfig.Legacy.
func Owner(runbook string) string { return filepath.Base(runbook) }

// DefaultConnectTimeout bounds connecting to the NB.
const DefaultConnectTimeout = 10 * time.Second

// NBConfig configures the NB driver.
type NBConfig struct {
	// Endpoints are the NB remotes ("tcp:IP:PORT", "unix:PATH", "ssl:...");
	// several are the members of a clustered NB (ovnrun talks to the leader).
	Endpoints []string
	// SSL are the files an ssl: endpoint needs (nbssl.go).
	SSL ovsdbmodel.TLSFiles
	// Owner is the ovnrun:runbook tag value; see Owner.
	Owner string
	// Legacy, when set, is the tag older ovnrun wrote for this runbook (its
	// base name, Owner(path)): rows carrying it are this runbook's while it
	// declares them, and are re-tagged with Owner when applied; they are
	// never pruned nor destroyed otherwise, since copies of the runbook in
	// other directories wrote the same tag.
	Legacy string
	// ConnectTimeout bounds connecting and reading the initial state;
	// DefaultConnectTimeout when zero.
	ConnectTimeout time.Duration
	// Adopt lets apply take over rows with a declared name that ovnrun did
	// not create (or another runbook created): they get this runbook's tags.
	Adopt bool
	// Wait is "", "sb" or "hv": after each transaction wait until
	// ovn-northd (sb) or every chassis (hv) has processed it, like
	// ovn-nbctl --wait.
	Wait string
	// Log receives notes such as the time waited; discarded when nil.
	Log io.Writer
}

// SplitEndpoints splits a comma-separated --nb value.
func SplitEndpoints(s string) []string {
	var eps []string
	for _, ep := range strings.Split(s, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			eps = append(eps, ep)
		}
	}
	return eps
}

// NBDriver is the interp.Driver of NB actions ("nb").
type NBDriver struct {
	cfg     NBConfig
	opts    []ovsdbmodel.Option // of every connection: TLS for ssl:
	db      *ovsdbmodel.DB
	replica *ovsdbmodel.Replica
	// refCols and roots are what the server's schema says of references.
	refCols refColumns
	roots   map[string]bool
	// last is the latest snapshot, reused while the cache is unchanged
	// (taken under snapMu); diffs memoises comparisons against it, for
	// Plan, Prepare and Apply, which the engine calls one at a time.
	last   *snapshot
	diffs  map[interp.Action]*rowPlan
	diffOf *snapshot
	// unsettled is the last transaction, which the cache may not show yet.
	unsettled *unsettled
	// prepared is the transaction Prepare staged for the next Apply.
	prepared *staged
	// snapMu serialises snapshot: ReadOutput is called from every host's
	// lane at once (the checks of a step), and the first caller must not
	// take unsettled while the others read a replica that lags behind it.
	snapMu sync.Mutex
	// transactions counts the transactions sent, for tests and the bench.
	transactions atomic.Int64
	// syncs shares SyncChassis among concurrent checks.
	syncs syncFlights
}

var (
	_ interp.Driver       = (*NBDriver)(nil)
	_ interp.Preflighter  = (*NBDriver)(nil)
	_ interp.OutputReader = (*NBDriver)(nil)
	_ interp.Preparer     = (*NBDriver)(nil)
)

// ConnectNB connects to the NB and fills the cache of the tables and columns
// the driver manages. It fails within cfg.ConnectTimeout, naming the
// endpoints, when the NB cannot be reached.
func ConnectNB(ctx context.Context, cfg NBConfig) (*NBDriver, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("nb: no Northbound endpoints: pass --nb or call ovn_nb() in the runbook")
	}
	switch cfg.Wait {
	case "", "none", "sb", "hv":
	default:
		return nil, fmt.Errorf("nb: wait %q: want sb, hv or none", cfg.Wait)
	}
	if cfg.Wait == "none" {
		cfg.Wait = ""
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	opts, err := cfg.connectOptions()
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	t0 := time.Now()
	// Transactions go through libovsdb; the NB is read through a replica
	// on a second connection (see ovsdbmodel.Replica for why).
	db, err := ovsdbmodel.Open(cctx, cfg.Endpoints, "OVN_Northbound", opts...)
	var rep *ovsdbmodel.Replica
	if err == nil {
		if rep, err = replicate(cctx, db, opts); err != nil {
			db.Close()
		}
	}
	if err != nil {
		eps := strings.Join(cfg.Endpoints, ",")
		if cctx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("nb: cannot connect to the Northbound database at %s within %s: %w", eps, cfg.ConnectTimeout, err)
		}
		return nil, fmt.Errorf("nb: cannot connect to the Northbound database at %s: %w%s", eps, err, refusedHint(err))
	}
	slog.Debug("nb connected", "endpoint", db.Endpoint(), "took", time.Since(t0))
	schema := db.Schema()
	return &NBDriver{cfg: cfg, opts: opts, db: db, replica: rep, refCols: newRefColumns(&schema), roots: rootTables(&schema)}, nil
}

func replicate(ctx context.Context, db *ovsdbmodel.DB, opts []ovsdbmodel.Option) (*ovsdbmodel.Replica, error) {
	schema := db.Schema()
	return ovsdbmodel.Replicate(ctx, db.Endpoint(), &schema, monitored(&schema), opts...)
}

// currentReplica returns a replica of the NB the transactions go to. It
// replaces one whose connection was lost, or which reads from another server
// than the one libovsdb now sends transactions to (the new leader of a
// cluster). While libovsdb is reconnecting (it has no endpoint), a live
// replica is kept and a lost one is a *connectionError, which Apply retries.
func (d *NBDriver) currentReplica(ctx context.Context) (*ovsdbmodel.Replica, error) {
	ep := d.db.Endpoint()
	lost := d.replica.Err()
	if lost == nil && (ep == "" || ep == d.replica.Endpoint()) {
		return d.replica, nil
	}
	if ep == "" {
		return nil, &connectionError{lost, "while reading the NB"}
	}
	cctx, cancel := context.WithTimeout(ctx, d.cfg.ConnectTimeout)
	defer cancel()
	rep, err := replicate(cctx, d.db, d.opts)
	if err != nil {
		if ctx.Err() == nil {
			return nil, &connectionError{err, "while reading the NB"}
		}
		return nil, err
	}
	d.replica.Close()
	d.replica = rep
	return rep, nil
}

// Name implements interp.Driver.
func (d *NBDriver) Name() string { return driverName }

// Close implements interp.Driver.
func (d *NBDriver) Close() error {
	d.replica.Close()
	d.db.Close()
	return nil
}

// SchemaVersion is the server's NB schema version.
func (d *NBDriver) SchemaVersion() string { return d.db.SchemaVersion() }

// Transactions returns how many transactions the driver has sent.
func (d *NBDriver) Transactions() int64 { return d.transactions.Load() }

// Plan implements interp.Driver: it compares each action with the live NB
// (the driver's cache) and changes nothing.
func (d *NBDriver) Plan(ctx context.Context, actions []interp.Action) ([]interp.Change, error) {
	snap, err := d.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if d.diffOf != snap {
		// diff memoizes a comparison per action: sized once for all of them.
		d.diffOf, d.diffs = snap, make(map[interp.Action]*rowPlan, len(actions))
	}
	out := make([]interp.Change, len(actions))
	for i, a := range actions {
		rp, err := d.diff(ctx, snap, a)
		if err != nil {
			return nil, err
		}
		out[i] = rp.change(d.cfg.Adopt)
	}
	return out, nil
}

// Preflight implements interp.Preflighter: without Adopt it refuses the run
// when a declared row exists but was not created by this runbook.
func (d *NBDriver) Preflight(ctx context.Context, changes []interp.Change) error {
	snap, err := d.snapshot(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range changes {
		if _, ok := c.Action.(*ownedRow); ok {
			continue
		}
		rp, err := d.diff(ctx, snap, c.Action)
		if err != nil {
			return err
		}
		if err := rp.refusal(d.cfg.Adopt); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Apply implements interp.Driver: it applies the changes of one step in one
// transaction, computed afresh from the live NB so that it converges even if
// the NB changed since Plan; a step with nothing to change sends nothing.
// Each action's op is what that comparison found. Its outputs are the
// dynamic addresses northd has already assigned to the step's ports
// (ReadOutput waits for the others). When the connection drops with the
// transaction in flight (a clustered NB losing its leader), it reconnects
// and applies the step again: recomputed from the NB, the retry sends only
// what did not land.
func (d *NBDriver) Apply(ctx context.Context, changes []interp.Change) (interp.Outcomes, error) {
	lost := false
	// What an interrupted transaction was to do: if it landed, the retry
	// finds those rows unchanged, and it is what this step did.
	inFlight := map[string]interp.Op{}
	for attempt := 1; ; attempt++ {
		snap, applied, ops, err := d.applyOnce(ctx, changes)
		var lostErr *connectionError
		var conflict *conflictError
		var race *globalRaceError
		switch {
		case errors.As(err, &lostErr) && attempt < maxAttempts:
			lost = true
			for id, op := range ops {
				if op != interp.OpUnchanged {
					inFlight[id] = op
				}
			}
			fmt.Fprintf(d.cfg.Log, "nb: %v; retrying the step once reconnected\n", lostErr)
			if err := d.waitConnected(ctx); err != nil {
				return nil, err
			}
			continue
		case lost && errors.As(err, &conflict) && attempt < maxAttempts:
			// The interrupted transaction may have been committed after
			// all (a new RAFT leader commits its predecessor's entries),
			// after the cache was refilled: the conflict is with ourselves.
			fmt.Fprintf(d.cfg.Log, "nb: the interrupted transaction probably landed after all: comparing again (the retry said: %v)\n", conflict)
			d.waitChange(ctx)
			continue
		case errors.As(err, &race) && attempt < maxAttempts:
			// ovn-northd creates NB_Global when it starts: a step that
			// needed the row raced it. The retry updates northd's row.
			d.waitGlobal(ctx)
			continue
		case err != nil:
			return nil, err
		}
		out := d.outputs(snap, applied, ops)
		res := interp.Outcomes{}
		for id, op := range ops {
			if was, ok := inFlight[id]; ok && op == interp.OpUnchanged {
				op = was
			}
			res.Did(id, op)
			res.AddOutputs(id, out[id])
		}
		return res, nil
	}
}

// maxAttempts bounds how often a step is sent again after losing the
// connection.
const maxAttempts = 4

// waitGlobal waits, briefly, until the cache shows an NB_Global row.
func (d *NBDriver) waitGlobal(ctx context.Context) {
	_ = poll.Until(ctx, 3*time.Second, pollEvery, func() (bool, error) {
		s, err := d.snapshot(ctx)
		return err == nil && s.global != nil, err
	})
}

// waitChange waits, briefly, until the cache differs from the last snapshot.
func (d *NBDriver) waitChange(ctx context.Context) {
	old := d.last
	_ = poll.Until(ctx, 3*time.Second, pollEvery, func() (bool, error) {
		s, err := d.snapshot(ctx)
		return s != old, err
	})
}

// applyOnce sends the step's transaction. It returns the snapshot it compared with, the actions applied
// and, by action ID, what the transaction does to each (also when sending
// it failed).
func (d *NBDriver) applyOnce(ctx context.Context, changes []interp.Change) (*snapshot, []interp.Action, map[string]interp.Op, error) {
	t0 := time.Now()
	snap, err := d.snapshot(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	slog.Debug("nb snapshot", "took", time.Since(t0))
	st := d.takePrepared(snap, changes)
	if st == nil {
		if st, err = d.stage(ctx, snap, changes); err != nil {
			return nil, nil, nil, err
		}
	}
	tx := st.tx
	if err := tx.commit(ctx); err != nil {
		return nil, nil, st.ops, err
	}
	if tx.sent {
		// The server committed the step; the cache catches up in the
		// background and the next look at the NB waits for it (settle).
		d.unsettled = &unsettled{st.applied, tx.deleted}
	}
	return snap, st.applied, st.ops, nil
}

// staged is a step's transaction, compared and built against snap, with
// the actions it applies and the op of each change.
type staged struct {
	changes []interp.Change
	snap    *snapshot
	tx      *txn
	applied []interp.Action
	ops     map[string]interp.Op
}

// stage compares changes with snap and builds their transaction.
func (d *NBDriver) stage(ctx context.Context, snap *snapshot, changes []interp.Change) (*staged, error) {
	st := &staged{changes: changes, snap: snap, tx: newTxn(d, snap, len(changes)), ops: make(map[string]interp.Op, len(changes))}
	for _, c := range changes {
		id := c.Action.Meta().ID
		if c.Op == interp.OpDelete {
			if err := st.tx.destroy(c.Action); err != nil {
				return st, err
			}
			st.ops[id] = interp.OpUnchanged // already gone
			if snap.deletable(c.Action.(*ownedRow)) {
				st.ops[id] = interp.OpDelete
			}
			continue
		}
		if _, ok := c.Action.(*ownedRow); ok {
			st.ops[id] = interp.OpUnchanged // a row destroy keeps
			continue
		}
		rp, err := d.diff(ctx, snap, c.Action)
		if err != nil {
			return st, err
		}
		if err := rp.refusal(d.cfg.Adopt); err != nil {
			return st, err
		}
		if err := st.tx.add(rp); err != nil {
			return st, err
		}
		st.applied = append(st.applied, c.Action)
		st.ops[id] = rp.op()
	}
	return st, st.tx.build()
}

// Prepare stages the transaction of changes while the engine prints the
// plan (interp.Preparer): on a bulk build, comparing and building 11,000
// rows is ~40 ms that then overlaps the printing. Anything it cannot do
// (a future not resolved yet, a refusal) is left to Apply, which does it
// again and reports it.
func (d *NBDriver) Prepare(ctx context.Context, changes []interp.Change) {
	d.prepared = nil
	snap, err := d.snapshot(ctx)
	if err != nil {
		return
	}
	if st, err := d.stage(ctx, snap, changes); err == nil {
		d.prepared = st
	}
}

// takePrepared returns what Prepare staged if it was for these changes
// against this very snapshot (snapshots are never modified, so the same
// one means the NB has not changed since), and forgets it either way.
func (d *NBDriver) takePrepared(snap *snapshot, changes []interp.Change) *staged {
	st := d.prepared
	d.prepared = nil
	if st == nil || st.snap != snap || len(st.changes) != len(changes) {
		return nil
	}
	for i, c := range changes {
		if st.changes[i].Action != c.Action || st.changes[i].Op != c.Op {
			return nil
		}
	}
	return st
}

// connectionError is a transaction that failed for want of a connection
// (it may or may not have been committed), or a read of the NB that did.
type connectionError struct {
	err  error
	when string // "during the transaction", "while reading the NB"
}

func (e *connectionError) Error() string {
	return "connection lost " + e.when + ": " + e.err.Error()
}
func (e *connectionError) Unwrap() error { return e.err }

// waitConnected waits until libovsdb has noticed the lost connection, then
// until it has reconnected (to the new leader of a cluster), and replicates
// the NB from there, so that the retry compares against the NB as it is now.
func (d *NBDriver) waitConnected(ctx context.Context) error {
	c := d.db.Client()
	_ = poll.Until(ctx, time.Second, pollEvery, func() (bool, error) { return !c.Connected(), nil })
	err := poll.Until(ctx, d.cfg.ConnectTimeout, pollEvery, func() (bool, error) { return c.Connected() && d.db.Endpoint() != "", nil })
	if err == nil {
		_, err = d.currentReplica(ctx)
	}
	if err != nil {
		return fmt.Errorf("nb: reconnecting to %s: %w", strings.Join(d.cfg.Endpoints, ","), err)
	}
	return nil
}

// monitored lists the tables and columns the driver reads: every column of
// every table of the server's schema. Rows of any table may be declared
// (row()), owned and destroyed, and may reference or be referenced by rows
// ovnrun manages; the tables ovnrun does not use are mostly empty.
func monitored(schema *ovsdb.DatabaseSchema) map[string][]string {
	want := make(map[string][]string, len(schema.Tables))
	for name, ts := range schema.Tables {
		want[name] = slices.Sorted(maps.Keys(ts.Columns))
	}
	return want
}

// actionError is the failure of an NB action (interp.ActionError: the
// action and its runbook position), prefixed with the driver.
func actionError(a interp.Action, format string, args ...any) error {
	return fmt.Errorf("nb: %w", interp.NewActionError(a, fmt.Errorf(format, args...)))
}
