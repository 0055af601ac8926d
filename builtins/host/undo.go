package host

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/ovshost"
)

// Undo records: what ovnrun changed on a host, kept on the host itself in
// the Open_vSwitch row's external_ids, one key per change, named
// "ovnrun/OWNER/KIND/WHAT" (docs/hosts.md; ovs-vsctl reads such keys
// unquoted, unlike keys with a colon). A record is written when ovnrun
// first makes the change, in the transaction that makes it when the change
// is to the Open vSwitch database, and is never overwritten: a map insert
// keeps a key's value, so the earliest value stays. --destroy reads them,
// from any process and whatever the journal holds, and undoes each.
//
// Values: "-" when ovnrun created the thing (the key, bridge, route,
// address) or started the service (then the start time, for the order of
// stops); "=" and the earlier value when ovnrun replaced one.

// Kinds of undo records.
const (
	recExternalID = "external_ids"  // WHAT: the key
	recBridge     = "bridge"        // WHAT: the bridge
	recPort       = "port"          // WHAT: the port; value: its bridge
	recDatapath   = "datapath_type" // WHAT: the bridge
	recRoute      = "route"         // WHAT: the prefix; earlier: "VIA DEV"
	recAddress    = "address"       // WHAT: "DEV CIDR"
	recService    = "service"       // WHAT: the unit; value: start time
)

// created is the value of a record of something that did not exist.
const created = "-"

// recordPrefix starts every record of owner, escaped so that one owner's
// prefix never starts another's.
func recordPrefix(owner string) string { return "ovnrun/" + url.PathEscape(owner) + "/" }

// recordKey is the external_ids key of one record.
func (hs *Hosts) recordKey(kind, what string) string {
	return recordPrefix(hs.cfg.Owner) + kind + "/" + what
}

// was is the value of a record of a replaced value.
func was(old string) string { return "=" + old }

// undoRecord is one record read back.
type undoRecord struct {
	key, kind, what, value string
}

// earlier returns the replaced value and whether there was one.
func (r undoRecord) earlier() (string, bool) { return strings.CutPrefix(r.value, "=") }

// records returns owner's records in external_ids, sorted by key.
func records(owner string, ids map[string]string) []undoRecord {
	prefix := recordPrefix(owner)
	var out []undoRecord
	for k, v := range ids {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		kind, what, ok := strings.Cut(rest, "/")
		if !ok {
			continue
		}
		out = append(out, undoRecord{key: k, kind: kind, what: what, value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// recordMutation adds records to the Open_vSwitch row, keeping any that
// exist: the first change's record stays.
func recordMutation(root model.Model, recs map[string]string) ovsdb.Operation {
	return ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Open_vSwitch", Where: ovsdbmodel.WhereUUID(ovsdbmodel.UUID(root)),
		Mutations: []ovsdb.Mutation{{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert, Value: stringMap(recs)}}}
}

// dropRecord is the mutation that deletes a record.
func dropRecord(root model.Model, key string) ovsdb.Operation {
	return ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Open_vSwitch", Where: ovsdbmodel.WhereUUID(ovsdbmodel.UUID(root)),
		Mutations: []ovsdb.Mutation{{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: stringSet(key)}}}
}

// record writes a record of a change made outside the Open vSwitch
// database (a route, an address, a service). Without a running database
// to keep it, the change is made all the same and a note says that a
// destroy will leave it.
func (h *hostState) record(ctx context.Context, kind, what, value string) error {
	key := h.hs.recordKey(kind, what)
	db, err := h.db(ctx, dbOVS)
	var nr *notRunningError
	if errors.As(err, &nr) {
		h.logf("cannot record %s %s for --destroy: %v; a destroy will leave it", kind, what, nr)
		return nil
	}
	if err != nil {
		return err
	}
	s, err := readOVS(ctx, db)
	if err != nil {
		return err
	}
	if s.root == nil {
		h.logf("cannot record %s %s for --destroy: the Open vSwitch database has no Open_vSwitch row; a destroy will leave it", kind, what)
		return nil
	}
	if _, ok := s.externalIDs()[key]; ok {
		return nil
	}
	if _, err := ovshost.Transact(ctx, db, "undo record "+key, recordMutation(s.root, map[string]string{key: value})); err != nil {
		return err
	}
	return settle(ctx, func() (bool, error) {
		s, err := readOVS(ctx, db)
		if err != nil {
			return false, err
		}
		_, ok := s.externalIDs()[key]
		return ok, nil
	})
}

// startedAt is the value of a service record: when ovnrun started it, so
// that a destroy stops the last started first.
func startedAt() string { return strconv.FormatInt(time.Now().UnixNano(), 10) }
