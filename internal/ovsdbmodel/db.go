package ovsdbmodel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
	"github.com/ovnrun/ovnrun/internal/dialguard"
)

// DB is a connected libovsdb client whose model was built from the server's
// own schema, with a cache of the requested tables and columns.
type DB struct {
	client  client.Client
	schema  ovsdb.DatabaseSchema
	tables  map[string]*Table
	missing []*MissingError
}

// MissingError says that a requested table or column is not in the server's
// schema. Callers turn it into a plan-time error before touching anything.
type MissingError struct {
	DB      string // "OVN_Northbound"
	Version string // the server's schema version, e.g. "6.1.0"
	Table   string
	Column  string // empty when the whole table is missing
}

func (e *MissingError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("table %s is not in the server's %s schema version %s", e.Table, e.DB, e.Version)
	}
	return fmt.Sprintf("column %s of table %s is not in the server's %s schema version %s", e.Column, e.Table, e.DB, e.Version)
}

// Option configures Connect, Open, Replicate and Transact.
type Option func(*options)

type options struct {
	client []client.Option // libovsdb's, for Connect and Open
	tls    *tls.Config     // for ssl: endpoints; nil: Go's defaults
}

func newOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithClientOptions passes options to libovsdb (logger, metrics...),
// applied after, and so overriding, Connect's defaults. Replicate and
// Transact do not use libovsdb and ignore them.
func WithClientOptions(opts ...client.Option) Option {
	return func(o *options) { o.client = append(o.client, opts...) }
}

// WithTLS is the TLS configuration of ssl: endpoints, for libovsdb's
// connections and for Replicate's and Transact's own (see LoadTLS).
func WithTLS(cfg *tls.Config) Option {
	return func(o *options) {
		o.tls = cfg
		o.client = append(o.client, client.WithTLSConfig(cfg))
	}
}

// Connect fetches dbName's schema from the server, builds models for the
// wanted tables (table -> columns; _uuid and index columns come along), and
// connects and monitors exactly those columns. Requested tables and columns
// the server lacks are not an error here: see Missing and Check.
//
// With several endpoints (a RAFT cluster) it only talks to the leader and
// follows it across elections; any lost connection is retried forever.
func Connect(ctx context.Context, endpoints []string, dbName string, want map[string][]string, opts ...Option) (*DB, error) {
	if err := checkEndpoints(endpoints); err != nil {
		return nil, err
	}
	copts := append(defaultOptions(endpoints), newOptions(opts).client...)
	schema, err := fetchSchema(ctx, dbName, copts)
	if err != nil {
		return nil, err
	}

	db := &DB{schema: schema, tables: map[string]*Table{}}
	models := map[string]model.Model{}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		ts := schema.Table(name)
		if ts == nil {
			db.missing = append(db.missing, db.missingErr(name, ""))
			continue
		}
		t, missing := buildTable(name, ts, want[name])
		for _, c := range missing {
			db.missing = append(db.missing, db.missingErr(name, c))
		}
		db.tables[name] = t
		models[name] = t.New()
	}
	cdb, err := model.NewClientDBModel(dbName, models)
	if err != nil {
		return nil, fmt.Errorf("ovsdbmodel: %w", err)
	}
	db.client, err = client.NewOVSDBClient(cdb, copts...)
	if err != nil {
		return nil, fmt.Errorf("ovsdbmodel: %w", err)
	}
	if err := db.client.Connect(ctx); err != nil {
		return nil, fmt.Errorf("ovsdbmodel: connect to %s: %w", dbName, err)
	}
	if len(db.tables) > 0 {
		// Explicit columns: with all columns, an update touching a column
		// the model lacks would be dropped for the whole row.
		mon := db.client.NewMonitor()
		for _, name := range slices.Sorted(maps.Keys(db.tables)) {
			mon.Tables = append(mon.Tables, client.TableMonitor{Table: name, Fields: db.tables[name].Columns})
		}
		if _, err := db.client.Monitor(ctx, mon); err != nil {
			db.client.Close()
			return nil, fmt.Errorf("ovsdbmodel: monitor %s: %w", dbName, err)
		}
	}
	return db, nil
}

// checkEndpoints refuses an empty list, and endpoints the dial guard
// forbids.
func checkEndpoints(endpoints []string) error {
	if len(endpoints) == 0 {
		return errors.New("ovsdbmodel: no endpoints")
	}
	for _, ep := range endpoints {
		if network, addr, ok := strings.Cut(ep, ":"); ok && (network == "tcp" || network == "ssl") {
			if err := dialguard.Check("tcp", addr); err != nil {
				return err
			}
		}
	}
	return nil
}

func defaultOptions(endpoints []string) []client.Option {
	opts := []client.Option{client.WithLeaderOnly(true)}
	for _, ep := range endpoints {
		opts = append(opts, client.WithEndpoint(ep))
	}
	// libovsdb panics when a reconnect backoff gives up (the default one
	// stops after 15 minutes), so retry forever, at most every 500 ms.
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = 50 * time.Millisecond
	bo.MaxInterval = 500 * time.Millisecond
	bo.MaxElapsedTime = 0
	return append(opts, client.WithInactivityCheck(30*time.Second, 10*time.Second, bo))
}

// fetchSchema connects with an empty model, which libovsdb accepts against
// any schema, and returns the schema the server sent. It reuses libovsdb's
// dialing (unix, tcp, ssl) and leader search instead of a JSON-RPC of its own.
func fetchSchema(ctx context.Context, dbName string, opts []client.Option) (ovsdb.DatabaseSchema, error) {
	probe, err := connectEmpty(ctx, dbName, opts)
	if err != nil {
		return ovsdb.DatabaseSchema{}, err
	}
	defer probe.Close()
	return probe.Schema(), nil
}

// connectEmpty returns a client connected with an empty model.
func connectEmpty(ctx context.Context, dbName string, opts []client.Option) (client.Client, error) {
	empty, err := model.NewClientDBModel(dbName, map[string]model.Model{})
	if err != nil {
		return nil, fmt.Errorf("ovsdbmodel: %w", err)
	}
	c, err := client.NewOVSDBClient(empty, opts...)
	if err != nil {
		return nil, fmt.Errorf("ovsdbmodel: %w", err)
	}
	if err := c.Connect(ctx); err != nil {
		return nil, fmt.Errorf("ovsdbmodel: get %s schema: %w", dbName, err)
	}
	return c, nil
}

// Open connects for transactions only: no models, no monitor, no cache.
// The client sends ovsdb.Operation values and follows the leader of a
// cluster like Connect's; read through a Replicate of its Endpoint. Check
// and Schema work as after Connect; Table and List have nothing to offer.
func Open(ctx context.Context, endpoints []string, dbName string, opts ...Option) (*DB, error) {
	if err := checkEndpoints(endpoints); err != nil {
		return nil, err
	}
	copts := append(defaultOptions(endpoints), newOptions(opts).client...)
	c, err := connectEmpty(ctx, dbName, copts)
	if err != nil {
		return nil, err
	}
	return &DB{client: c, schema: c.Schema(), tables: map[string]*Table{}}, nil
}

// Endpoint returns the endpoint the client is connected to: the leader, for
// a clustered database.
func (db *DB) Endpoint() string { return db.client.CurrentEndpoint() }

func (db *DB) missingErr(table, column string) *MissingError {
	return &MissingError{DB: db.schema.Name, Version: db.schema.Version, Table: table, Column: column}
}

// Client returns the libovsdb client, for transactions and conditions.
func (db *DB) Client() client.Client { return db.client }

// Schema returns the server's schema the models were built from.
func (db *DB) Schema() ovsdb.DatabaseSchema { return db.schema }

// SchemaVersion returns the server's schema version, e.g. "7.0.0".
func (db *DB) SchemaVersion() string { return db.schema.Version }

// Missing returns the requested tables and columns the server lacks, sorted
// by table and column.
func (db *DB) Missing() []*MissingError {
	out := slices.Clone(db.missing)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Column < out[j].Column
	})
	return out
}

// Check returns a *MissingError (joined, if several) for each of the table
// and columns the server's schema lacks, whether requested at Connect or
// not, and nil when all exist.
func (db *DB) Check(table string, columns ...string) error {
	ts := db.schema.Table(table)
	if ts == nil {
		return db.missingErr(table, "")
	}
	var errs []error
	for _, c := range columns {
		if ts.Column(c) == nil {
			errs = append(errs, db.missingErr(table, c))
		}
	}
	return errors.Join(errs...)
}

// Table returns the model of a requested table, or nil if the server
// lacks it.
func (db *DB) Table(name string) *Table { return db.tables[name] }

// NewRow returns a new, empty row of a modelled table.
func (db *DB) NewRow(table string) (model.Model, error) {
	t, err := db.table(table)
	if err != nil {
		return nil, err
	}
	return t.New(), nil
}

// List returns copies of the cached rows of a modelled table, sorted by
// _uuid so that output does not depend on map order.
func (db *DB) List(ctx context.Context, table string) ([]model.Model, error) {
	t, err := db.table(table)
	if err != nil {
		return nil, err
	}
	rows := reflect.New(reflect.SliceOf(t.typ))
	if err := db.client.List(ctx, rows.Interface()); err != nil {
		return nil, fmt.Errorf("ovsdbmodel: list %s: %w", table, err)
	}
	out := make([]model.Model, rows.Elem().Len())
	for i := range out {
		out[i] = rows.Elem().Index(i).Interface()
	}
	sort.Slice(out, func(i, j int) bool { return UUID(out[i]) < UUID(out[j]) })
	return out, nil
}

func (db *DB) table(name string) (*Table, error) {
	if t := db.tables[name]; t != nil {
		return t, nil
	}
	if db.schema.Table(name) == nil {
		return nil, db.missingErr(name, "")
	}
	return nil, fmt.Errorf("ovsdbmodel: table %s was not requested at connect", name)
}

// Close disconnects; the DB cannot be used afterwards.
func (db *DB) Close() { db.client.Close() }

// WhereUUID is the condition selecting one row by its UUID.
func WhereUUID(uuid string) []ovsdb.Condition {
	return []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, ovsdb.UUID{GoUUID: uuid})}
}
