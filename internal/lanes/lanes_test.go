package lanes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

func TestRunOrderBoundAndErrors(t *testing.T) {
	hosts := []string{"a", "b", "a", "c", "b", "a", "d"}
	var mu sync.Mutex
	seen := map[string][]int{}
	var running, peak atomic.Int32
	err := Run(context.Background(), 2, len(hosts), func(i int) string { return hosts[i] },
		func(_ context.Context, host string, i int) error {
			n := running.Add(1)
			defer running.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			mu.Lock()
			seen[host] = append(seen[host], i)
			mu.Unlock()
			if host == "b" || host == "d" {
				return fmt.Errorf("item %d failed", i)
			}
			return nil
		})
	if p := peak.Load(); p > 2 {
		t.Errorf("%d lanes ran at once, want at most 2", p)
	}
	want := map[string][]int{"a": {0, 2, 5}, "b": {1}, "c": {3}, "d": {6}}
	for h, w := range want {
		if !slices.Equal(seen[h], w) {
			t.Errorf("host %s ran items %v, want %v (in order; a failure ends the lane)", h, seen[h], w)
		}
	}
	var he *HostError
	if !errors.As(err, &he) || he.Host != "b" {
		t.Fatalf("err = %v, want b's *HostError first", err)
	}
	if got := err.Error(); got != "item 1 failed\nitem 6 failed" {
		t.Errorf("err = %q, want both failures in lane order", got)
	}
}

func TestEachDefaultBound(t *testing.T) {
	var running, peak atomic.Int32
	release := make(chan struct{})
	done := make(chan []error)
	go func() {
		done <- Each(0, Default+3, func(int) error {
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			<-release
			running.Add(-1)
			return nil
		})
	}()
	for running.Load() < Default {
	}
	close(release)
	<-done
	if p := peak.Load(); p != Default {
		t.Errorf("%d calls ran at once, want %d", p, Default)
	}
}
