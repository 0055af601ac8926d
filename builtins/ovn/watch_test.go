package ovn

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
)

// watcher counts the row changes another client sees, to prove that a run
// sent no transaction, or only the one it should.
type watcher struct {
	db     *ovsdbmodel.DB
	events atomic.Int64
	mu     sync.Mutex
	seen   []string    // table names of the events
	marks  chan string // names of the sentinel rows seen
	n      int         // sentinel rows added
}

// sentinelTable holds the watcher's sentinel rows: a table the driver never
// reads or writes.
const sentinelTable = "Copp"

func (w *watcher) saw(table string, m model.Model) {
	if table == sentinelTable {
		name, _ := ovsdbmodel.Get(m, "name")
		w.marks <- name.(string)
		return
	}
	w.events.Add(1)
	w.mu.Lock()
	w.seen = append(w.seen, table)
	w.mu.Unlock()
}

// watch connects a watcher to the NB and returns it once it has seen the
// rows already there, counting nothing so far.
func watch(t testing.TB, endpoint string) *watcher {
	t.Helper()
	tables := describedColumns()
	tables[sentinelTable] = []string{"name"}
	db, err := ovsdbmodel.Connect(testCtx(t), []string{endpoint}, "OVN_Northbound", tables)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	w := &watcher{db: db, marks: make(chan string, 64)}
	db.Client().Cache().AddEventHandler(&cache.EventHandlerFuncs{
		AddFunc:    func(table string, m model.Model) { w.saw(table, m) },
		UpdateFunc: func(table string, _, m model.Model) { w.saw(table, m) },
		DeleteFunc: func(table string, m model.Model) { w.saw(table, m) },
	})
	w.sync(t) // the initial dump's events come first
	w.events.Store(0)
	w.mu.Lock()
	w.seen = nil
	w.mu.Unlock()
	return w
}

// sync returns once the watcher has counted every change committed before
// the call. It adds a sentinel row and waits for its event: the server
// sends a client the changes in the order they were committed, and the
// cache hands them to the counter in that order.
func (w *watcher) sync(t testing.TB) {
	t.Helper()
	w.n++
	name := fmt.Sprintf("ovnrun-test-sync-%d", w.n)
	row, err := w.db.NewRow(sentinelTable)
	if err == nil {
		err = ovsdbmodel.Set(row, "name", name)
	}
	var ops []ovsdb.Operation
	if err == nil {
		ops, err = w.db.Client().Create(row)
	}
	var res []ovsdb.OperationResult
	if err == nil {
		res, err = w.db.Client().Transact(testCtx(t), ops...)
	}
	if err == nil {
		_, err = ovsdb.CheckOperationResults(res, ops)
	}
	if err != nil {
		t.Fatalf("watcher: adding sentinel row %s: %v", name, err)
	}
	// An upper bound on waiting only: the event follows at once.
	timeout := time.After(20 * time.Second)
	for {
		select {
		case got := <-w.marks:
			if got == name {
				return
			}
		case <-timeout:
			t.Fatalf("watcher: sentinel row %s not seen within 20s", name)
		}
	}
}
