package ovn

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/poll"
)

// SyncChassis waits until every chassis has installed the flows for what
// the Southbound holds now, as `ovn-nbctl --wait=hv sync` does: it
// increments NB_Global nb_cfg and waits, at most timeout, until hv_cfg
// reaches it. ovn-northd passes nb_cfg on to the Southbound after what came
// before it, and an ovn-controller reports it only once the flows computed
// from that Southbound are in its switch; hv_cfg is the lowest report.
// Southbound rows the chassis wrote themselves before the call (the
// MAC_Binding a first ping taught them) are covered too. It returns the
// time waited.
func (d *NBDriver) SyncChassis(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	s, err := d.snapshot(ctx)
	if err != nil {
		return 0, err
	}
	if s.global == nil {
		return 0, fmt.Errorf("nb: the NB has no NB_Global row yet: is ovn-northd running?")
	}
	ep := d.db.Endpoint()
	if ep == "" {
		return 0, fmt.Errorf("nb: not connected to %s", strings.Join(d.cfg.Endpoints, ","))
	}
	where := ovsdbmodel.WhereUUID(s.global.uuid)
	ops := []ovsdb.Operation{
		{Op: ovsdb.OperationMutate, Table: "NB_Global", Where: where,
			Mutations: []ovsdb.Mutation{{Column: "nb_cfg", Mutator: ovsdb.MutateOperationAdd, Value: 1}}},
		{Op: ovsdb.OperationSelect, Table: "NB_Global", Where: where, Columns: []string{"nb_cfg"}},
	}
	res, err := ovsdbmodel.Transact(ctx, ep, d.db.Schema().Name, ops, d.opts...)
	if err != nil {
		return 0, fmt.Errorf("nb: incrementing nb_cfg: %w", err)
	}
	for _, r := range res {
		if r.Error != "" {
			return 0, fmt.Errorf("nb: incrementing nb_cfg: %s", strings.TrimSpace(r.Error+": "+r.Details))
		}
	}
	if len(res) < 2 {
		return 0, fmt.Errorf("nb: incrementing nb_cfg: %d results for 2 operations", len(res))
	}
	want, err := selectedCfg(res[1])
	if err != nil {
		return 0, fmt.Errorf("nb: %w", err)
	}
	err = d.reachCfg(ctx, "hv_cfg", want, timeout)
	if err == poll.ErrTimeout {
		return time.Since(start), fmt.Errorf("nb: NB_Global hv_cfg did not reach nb_cfg %d within %s: is every chassis' ovn-controller running?", want, timeout.Round(time.Millisecond))
	}
	return time.Since(start), err
}

// SyncChassis is NBDriver.SyncChassis, connecting first.
func (l *LazyNB) SyncChassis(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	d, err := l.connect(ctx)
	if err != nil {
		return 0, err
	}
	return d.SyncChassis(ctx, timeout)
}
