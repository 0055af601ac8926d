// Package ovshost is the Open vSwitch database of a host (ovsdb-server's
// db.sock), reached with libovsdb: over the host's SSH connection (a
// tunnel on its remote.Session, shared by every domain of a run), or
// directly on this machine. The host domain (ovs_external_ids(), bridge(),
// interface external_ids), the libvirt driver (a NIC's iface-id) and the
// lab's VM driver (plugging veths into br-int) all use this one client; no
// ovs-vsctl runs. Models are built from the server's own schema
// (internal/ovsdbmodel), so every OVS version works.
//
// It imports internal/remote, internal/ovsdbmodel, internal/poll and
// libovsdb; never a domain (builtins/*).
package ovshost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/internal/poll"
	"github.com/ovnrun/ovnrun/internal/remote"
)

// Tables are the tables and columns the client monitors: what every user
// of it reads.
var Tables = map[string][]string{
	"Open_vSwitch": {"external_ids", "bridges", "next_cfg", "cur_cfg"},
	"Bridge":       {"name", "ports", "datapath_type"},
	"Port":         {"name", "interfaces"},
	"Interface":    {"name", "type", "external_ids"},
}

// connectTimeout bounds connecting to the database and filling its cache.
const connectTimeout = 15 * time.Second

// pollEvery is how often the client re-reads its cache while waiting.
const pollEvery = 20 * time.Millisecond

// Wait bounds waiting for the cache to show a committed change, and for
// ovs-vswitchd to take it in.
const Wait = 15 * time.Second

// Client is a connected client of one host's Open vSwitch database.
type Client struct {
	Host   string // the host's name, for messages
	Socket string // db.sock on the host
	db     *ovsdbmodel.DB
	tun    *remote.Tunnel
}

// NotRunningError says that nothing listens on the database's socket:
// Open vSwitch is not running on the host, or not yet.
type NotRunningError struct{ Host, Socket string }

func (e *NotRunningError) Error() string {
	return fmt.Sprintf("the Open vSwitch database is not running (nothing listens on %s)", e.Socket)
}

// Socket returns the path of db.sock in an Open vSwitch run directory.
func Socket(rundir string) string { return path.Join(rundir, "db.sock") }

// Open connects to the database at socket on c's host: through a tunnel
// over its connection, or the socket itself for a remote.Local.
func Open(ctx context.Context, c remote.Conn, socket string) (*Client, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	tun, err := remote.OpenTunnel(ctx, c, socket)
	if errors.Is(err, remote.ErrNoSocket) {
		return nil, &NotRunningError{Host: c.Host(), Socket: socket}
	}
	if err != nil {
		return nil, fmt.Errorf("the Open vSwitch database of host %s: %w", c.Host(), err)
	}
	db, err := ovsdbmodel.Connect(ctx, []string{tun.Endpoint}, "Open_vSwitch", Tables)
	if err == nil && len(db.Missing()) > 0 {
		db.Close()
		err = db.Missing()[0]
	}
	if err != nil {
		tun.Close()
		return nil, fmt.Errorf("the Open vSwitch database of host %s at %s: %w", c.Host(), socket, err)
	}
	return &Client{Host: c.Host(), Socket: socket, db: db, tun: tun}, nil
}

type sessionKey struct{}

// Of returns the client of the session's host, shared by every domain of
// the run: opened on first use in the host's Open vSwitch run directory,
// closed with the session. A *NotRunningError is not kept: the next call
// tries again.
func Of(ctx context.Context, s *remote.Session) (*Client, error) {
	c, err := s.Shared(ctx, sessionKey{}, func(ctx context.Context, conn remote.Conn) (io.Closer, error) {
		return Open(ctx, conn, Socket(s.Target.OVSDir()))
	})
	if err != nil {
		return nil, err
	}
	return c.(*Client), nil
}

// Close disconnects.
func (c *Client) Close() error {
	c.db.Close()
	return c.tun.Close()
}

// DB returns the database client, for callers that build their own
// operations (the host domain's bridge()).
func (c *Client) DB() *ovsdbmodel.DB { return c.db }

// Transact sends ops in one transaction and returns the first error the
// server reported, if any, naming what with the failed operation.
func (c *Client) Transact(ctx context.Context, what string, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	return Transact(ctx, c.db, what, ops...)
}

// Transact is Client.Transact for any database client.
func Transact(ctx context.Context, db *ovsdbmodel.DB, what string, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	res, err := db.Client().Transact(ctx, ops...)
	if err != nil {
		return nil, fmt.Errorf("%s: transaction: %w", what, err)
	}
	for i, r := range res {
		if r.Error != "" {
			msg := strings.TrimSpace(r.Error + ": " + r.Details)
			if i < len(ops) {
				return nil, fmt.Errorf("%s: %s of %s failed: %s", what, ops[i].Op, ops[i].Table, msg)
			}
			return nil, fmt.Errorf("%s: transaction failed: %s", what, msg)
		}
	}
	return res, nil
}

// Row returns the row of table whose name is name, or nil.
func (c *Client) Row(ctx context.Context, table, name string) (model.Model, error) {
	rows, err := c.db.List(ctx, table)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if v, _ := ovsdbmodel.Get(r, "name"); v == name {
			return r, nil
		}
	}
	return nil, nil
}

// WaitRow waits up to wait for the row of table named name, returning nil
// (and no error) when it did not appear.
func (c *Client) WaitRow(ctx context.Context, table, name string, wait time.Duration) (model.Model, error) {
	var row model.Model
	err := poll.Until(ctx, wait, pollEvery, func() (bool, error) {
		var err error
		row, err = c.Row(ctx, table, name)
		return row != nil, err
	})
	if errors.Is(err, poll.ErrTimeout) {
		return nil, nil
	}
	return row, err
}

// IfaceExternalIDs returns the external_ids of the Interface name; ok is
// false when there is no such interface.
func (c *Client) IfaceExternalIDs(ctx context.Context, name string) (ids map[string]string, ok bool, err error) {
	r, err := c.Row(ctx, "Interface", name)
	if err != nil || r == nil {
		return nil, false, err
	}
	v, _ := ovsdbmodel.Get(r, "external_ids")
	ids, _ = v.(map[string]string)
	return ids, true, nil
}

// SetIfaceExternalIDs sets keys of the Interface name's external_ids,
// leaving its other keys alone, and waits until the cache shows them. It
// first waits up to wait for the interface to exist (libvirt adds the port
// of a hot-plugged NIC a moment after the device).
func (c *Client) SetIfaceExternalIDs(ctx context.Context, name string, ids map[string]string, wait time.Duration) error {
	row, err := c.WaitRow(ctx, "Interface", name, wait)
	if err != nil {
		return err
	}
	if row == nil {
		return fmt.Errorf("interface %s is not in %s's Open vSwitch database after %s", name, c.Host, wait)
	}
	v, _ := ovsdbmodel.Get(row, "external_ids")
	live, _ := v.(map[string]string)
	var keys []any
	set := map[any]any{}
	for k, v := range ids {
		if lv, ok := live[k]; !ok || lv != v {
			keys = append(keys, k)
			set[k] = v
		}
	}
	if len(keys) == 0 {
		return nil
	}
	// A map insert keeps an existing key's value: delete the keys first.
	op := ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "Interface", Where: ovsdbmodel.WhereUUID(ovsdbmodel.UUID(row)),
		Mutations: []ovsdb.Mutation{
			{Column: "external_ids", Mutator: ovsdb.MutateOperationDelete, Value: ovsdb.OvsSet{GoSet: keys}},
			{Column: "external_ids", Mutator: ovsdb.MutateOperationInsert, Value: ovsdb.OvsMap{GoMap: set}},
		}}
	if _, err := c.Transact(ctx, "interface "+name, op); err != nil {
		return err
	}
	return c.settle(ctx, "interface "+name, func() (bool, error) {
		got, _, err := c.IfaceExternalIDs(ctx, name)
		for k, v := range ids {
			if got[k] != v {
				return false, err
			}
		}
		return true, err
	})
}

// settle waits until the cache shows a committed change.
func (c *Client) settle(ctx context.Context, what string, done func() (bool, error)) error {
	err := poll.Until(ctx, Wait, pollEvery, done)
	if errors.Is(err, poll.ErrTimeout) {
		return fmt.Errorf("%s: committed, but not seen within %s", what, Wait)
	}
	return err
}
