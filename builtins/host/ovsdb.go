package host

import (
	"context"
	"errors"
	"fmt"
	pathpkg "path"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/ovshost"
	"github.com/ovnrun/ovnrun/internal/poll"
	"github.com/ovnrun/ovnrun/internal/remote"
)

// pollEvery is how often this domain re-checks what it waits for.
const pollEvery = 50 * time.Millisecond

// A host's databases are reached with libovsdb through a unix socket
// tunnelled over the host's SSH connection; models are built from each
// server's own schema (internal/ovsdbmodel), so every OVS and OVN version
// works. No ovs-vsctl or ovn-nbctl runs. The Open vSwitch database's client
// is the session's (internal/ovshost), shared with the libvirt driver; the
// OVN databases' are this domain's own.

type dbKind int

const (
	dbOVS dbKind = iota // the Open_vSwitch database of ovsdb-server
	dbNB                // OVN Northbound, on the central node
	dbSB                // OVN Southbound, on the central node
)

// dbSpec says where a database is and which columns the drivers use.
type dbSpec struct {
	what   string // for messages
	name   string // database name
	socket func(t remote.Target) string
	tables map[string][]string
}

var dbSpecs = map[dbKind]dbSpec{
	dbOVS: {"the Open vSwitch database", "Open_vSwitch",
		func(t remote.Target) string { return ovshost.Socket(t.OVSDir()) }, ovshost.Tables},
	dbNB: {"the OVN Northbound database", "OVN_Northbound",
		func(t remote.Target) string { return pathpkg.Join(t.OVNDir(), "ovnnb_db.sock") },
		map[string][]string{"NB_Global": {"connections"}, "Connection": {"target", "inactivity_probe"}}},
	dbSB: {"the OVN Southbound database", "OVN_Southbound",
		func(t remote.Target) string { return pathpkg.Join(t.OVNDir(), "ovnsb_db.sock") },
		map[string][]string{"SB_Global": {"connections"}, "Connection": {"target", "inactivity_probe"}}},
}

// dbConn is one connected database client and its tunnel.
type dbConn struct {
	db  *ovsdbmodel.DB
	tun *remote.Tunnel
}

// notRunningError says that a database's socket is not there: its daemon is
// not running, or not yet (a service earlier in the plan starts it).
type notRunningError struct {
	what, socket string
	err          error
}

func (e *notRunningError) Error() string {
	return fmt.Sprintf("%s is not running (nothing listens on %s)", e.what, e.socket)
}
func (e *notRunningError) Unwrap() error { return e.err }

// connectTimeout bounds connecting to a database and filling its cache.
const connectTimeout = 15 * time.Second

// db returns the client of one of the host's databases, connecting on
// first use. A database that is not running is a *notRunningError, and is
// tried again on the next call.
func (h *hostState) db(ctx context.Context, k dbKind) (*ovsdbmodel.DB, error) {
	if k == dbOVS {
		c, err := h.ovs(ctx)
		if err != nil {
			return nil, err
		}
		return c.DB(), nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.dbs[k]; c != nil {
		return c.db, nil
	}
	spec := dbSpecs[k]
	conn, err := h.conn(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	sock := spec.socket(h.target)
	tun, err := remote.OpenTunnel(ctx, conn, sock)
	if errors.Is(err, remote.ErrNoSocket) {
		return nil, &notRunningError{what: spec.what, socket: sock, err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.what, err)
	}
	// The host's own member of a clustered NB or SB may be a follower:
	// it reads the replicated rows and forwards writes to the leader.
	db, err := ovsdbmodel.Connect(ctx, []string{tun.Endpoint}, spec.name, spec.tables,
		ovsdbmodel.WithClientOptions(client.WithLeaderOnly(false)))
	if err != nil {
		tun.Close()
		return nil, fmt.Errorf("%s at %s: %w", spec.what, sock, err)
	}
	if missing := db.Missing(); len(missing) > 0 {
		db.Close()
		tun.Close()
		return nil, missing[0]
	}
	h.dbs[k] = &dbConn{db: db, tun: tun}
	return db, nil
}

// ovs returns the client of the host's Open vSwitch database, the
// session's. Not running is a *notRunningError, as for the other databases.
func (h *hostState) ovs(ctx context.Context) (*ovshost.Client, error) {
	c, err := ovshost.Of(ctx, h.sess)
	var nr *ovshost.NotRunningError
	if errors.As(err, &nr) {
		return nil, &notRunningError{what: dbSpecs[dbOVS].what, socket: nr.Socket, err: err}
	}
	return c, err
}

// dbWhenUp is db for apply: a database that a service of this step has
// just started may take a moment to open its socket.
func (h *hostState) dbWhenUp(ctx context.Context, k dbKind) (*ovsdbmodel.DB, error) {
	var db *ovsdbmodel.DB
	err := poll.Until(ctx, 10*time.Second, pollEvery, func() (bool, error) {
		var err error
		db, err = h.db(ctx, k)
		var nr *notRunningError
		if errors.As(err, &nr) {
			return false, nil
		}
		return err == nil, err
	})
	if errors.Is(err, poll.ErrTimeout) {
		_, err = h.db(ctx, k)
	}
	return db, err
}

func (h *hostState) closeDBs() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for k, c := range h.dbs {
		c.db.Close()
		errs = append(errs, c.tun.Close())
		delete(h.dbs, k)
	}
	return errors.Join(errs...)
}

// str, strMap and strSet read columns of a cached row; the models come
// from the schema, so the types are known.
func str(row model.Model, col string) string {
	v, _ := ovsdbmodel.Get(row, col)
	switch v := v.(type) {
	case string:
		return v
	case *string:
		if v != nil {
			return *v
		}
	}
	return ""
}

func strMap(row model.Model, col string) map[string]string {
	v, _ := ovsdbmodel.Get(row, col)
	m, _ := v.(map[string]string)
	return m
}

func strSet(row model.Model, col string) []string {
	v, _ := ovsdbmodel.Get(row, col)
	s, _ := v.([]string)
	return s
}

func uuidSet(uuids ...string) ovsdb.OvsSet {
	set := ovsdb.OvsSet{GoSet: make([]any, len(uuids))}
	for i, u := range uuids {
		set.GoSet[i] = ovsdb.UUID{GoUUID: u}
	}
	return set
}

func stringSet(ss ...string) ovsdb.OvsSet {
	set := ovsdb.OvsSet{GoSet: make([]any, len(ss))}
	for i, s := range ss {
		set.GoSet[i] = s
	}
	return set
}

func stringMap(m map[string]string) ovsdb.OvsMap {
	om := ovsdb.OvsMap{GoMap: map[any]any{}}
	for k, v := range m {
		om.GoMap[k] = v
	}
	return om
}

// settleTimeout bounds waiting for the cache to show our own transaction.
const settleTimeout = 20 * time.Second
