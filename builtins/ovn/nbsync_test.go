package ovn

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// TestSyncChassis: SyncChassis raises nb_cfg and returns once hv_cfg has
// followed; with a chassis that never reports (registered, no
// ovn-controller), it says so when its timeout passes.
func TestSyncChassis(t *testing.T) {
	c := daemons.StartCentral(t)
	d := connect(t, c.NB.Sock)
	apply(t, d, evaluate(t, "test.star", topology, nil))
	for want := range []string{"1", "2"} {
		if _, err := d.SyncChassis(testCtx(t), 20*time.Second); err != nil {
			t.Fatal(err)
		}
		if got := nbctl(t, c.NB, "get", "NB_Global", ".", "hv_cfg"); got != []string{"1", "2"}[want] {
			t.Errorf("hv_cfg = %s after sync %d", got, want+1)
		}
	}
	// What a chassis whose ovn-controller was killed leaves behind.
	if _, err := c.SBCtl("chassis-add", "silent", "geneve", "127.0.0.9", "--", "create", "Chassis_Private", "name=silent", "nb_cfg=0"); err != nil {
		t.Fatal(err)
	}
	_, err := d.SyncChassis(testCtx(t), time.Second)
	if err == nil || !strings.Contains(err.Error(), "hv_cfg did not reach nb_cfg 3 within 1s: is every chassis' ovn-controller running?") {
		t.Errorf("with a silent chassis: %v", err)
	}
}

// TestSyncChassisShared: a step's checks sync at once; they share one
// increment of nb_cfg (at most two: one may be under way when the others
// ask), not one each that every chassis must answer.
func TestSyncChassisShared(t *testing.T) {
	c := daemons.StartCentral(t)
	d := connect(t, c.NB.Sock)
	apply(t, d, evaluate(t, "test.star", topology, nil))
	const callers = 16
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			if _, err := d.SyncChassis(testCtx(t), 20*time.Second); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := strconv.Atoi(nbctl(t, c.NB, "get", "NB_Global", ".", "nb_cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if got < 1 || got > 2 {
		t.Errorf("nb_cfg = %d after %d concurrent syncs, want 1 or 2", got, callers)
	}
}

// A caller that asks while a sync is under way is not answered by it (it
// incremented nb_cfg before the caller asked) but by the next, which it
// shares with every other caller that asked meanwhile.
func TestSyncFlightsJoinTheNext(t *testing.T) {
	var f syncFlights
	release := make(chan struct{})
	started := make(chan int, 3)
	n := 0
	fn := func(context.Context, time.Duration) (time.Duration, error) {
		n++
		started <- n
		<-release
		return 0, nil
	}
	ctx := context.Background()
	first := make(chan struct{})
	go func() { f.do(ctx, time.Minute, fn); close(first) }()
	if got := <-started; got != 1 {
		t.Fatalf("sync %d started, want 1", got)
	}
	later := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { f.do(ctx, time.Minute, fn) })
	}
	go func() { wg.Wait(); close(later) }()
	// Both later callers have joined the next sync once it is waiting.
	for {
		f.mu.Lock()
		joined := f.next != nil && f.next.callers == 2
		f.mu.Unlock()
		if joined {
			break
		}
		time.Sleep(time.Millisecond)
	}
	release <- struct{}{}
	<-first
	if got := <-started; got != 2 {
		t.Fatalf("sync %d started, want 2", got)
	}
	select {
	case <-later:
		t.Fatal("callers that asked during sync 1 returned with it")
	default:
	}
	release <- struct{}{}
	<-later
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.syncs != 2 {
		t.Errorf("%d syncs for 3 callers, want 2", f.syncs)
	}
}
