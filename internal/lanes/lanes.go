// Package lanes runs the work of a run's hosts: the items of one host in
// order (a lane), hosts concurrently, at most a bounded number at once. The
// apply engine (interp) and the domains' drivers share it, so that every
// per-host fan-out of a run has the same bound and names a failure by its
// host.
//
// It imports the standard library only: interp and every domain may use it.
package lanes

import (
	"context"
	"errors"
	"sync"
)

// Default bounds how many lanes run at once when a caller gives no bound.
const Default = 8

// HostError is the failure of one host's lane. When several lanes fail,
// Run returns them joined (errors.Join); the other lanes still ran to
// their end.
type HostError struct {
	Host string
	Err  error
}

// Error is the failure alone: the actions' names already name their host.
func (e *HostError) Error() string { return e.Err.Error() }
func (e *HostError) Unwrap() error { return e.Err }

// Each calls fn(i) for i in [0, n), at most limit at once (Default when
// limit <= 0), and returns each call's error at its index.
func Each(limit, n int, fn func(i int) error) []error {
	if limit <= 0 {
		limit = Default
	}
	errs := make([]error, n)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errs
}

// Run splits n items into lanes by host (hostOf), in order of first use,
// and calls fn for the items of each lane in order, lanes concurrently, at
// most limit at once. A failure ends its lane only: the error is a
// *HostError, joined with the other lanes' failures in lane order.
func Run(ctx context.Context, limit, n int, hostOf func(i int) string, fn func(ctx context.Context, host string, i int) error) error {
	var order []string
	byHost := map[string][]int{}
	for i := range n {
		h := hostOf(i)
		if _, ok := byHost[h]; !ok {
			order = append(order, h)
		}
		byHost[h] = append(byHost[h], i)
	}
	errs := Each(limit, len(order), func(k int) error {
		host := order[k]
		for _, i := range byHost[host] {
			if err := fn(ctx, host, i); err != nil {
				return &HostError{Host: host, Err: err}
			}
		}
		return nil
	})
	return errors.Join(errs...)
}
