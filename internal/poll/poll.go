// Package poll waits for a condition that something else makes true: a
// daemon's socket, northd assigning an address, a bridge appearing. Drivers
// of several domains wait this way, so the loop lives here once.
//
// It imports the standard library only.
package poll

import (
	"context"
	"errors"
	"time"
)

// ErrTimeout is Until's own timeout, told apart from the caller's deadline.
var ErrTimeout = errors.New("timed out")

// Until calls done until it reports true or an error, the timeout passes
// (ErrTimeout) or ctx ends. It checks at once, then backs off from 1 ms to
// at most every.
func Until(ctx context.Context, timeout, every time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for delay := time.Millisecond; ; delay = min(2*delay, every) {
		ok, err := done()
		if ok || err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return ErrTimeout
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}
