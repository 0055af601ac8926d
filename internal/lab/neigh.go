package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The kernel keeps one ARP table and one NDP table for the whole machine,
// shared by every network namespace, and so are their limits
// (net.ipv4.neigh.default.gc_thresh1..3, 128/512/1024 by default). Every
// lab host resolves every other host's underlay address, so a lab of n
// hosts needs about n² entries. At 65 hosts the table overflows (the kernel
// logs "neighbour: arp_cache: neighbor table overflow!"): no new entry can
// be made, and a VM silently drops the echo request it should answer,
// since it cannot resolve its gateway to send the reply. So a lab that
// needs more than the machine allows raises the limits while it is up, and
// the last lab down puts back what it found.

// neighDir is where the thresholds are read and written; tests point it at
// a directory of their own.
var neighDir = "/proc/sys/net"

// neighState is the file that remembers what the limits were before a lab
// raised them, and what it set them to.
func neighState() string { return filepath.Join(BaseDir(), "neigh.json") }

type neighSaved struct {
	Before map[string][3]int `json:"before"` // per family ("ipv4", "ipv6")
	Set    map[string][3]int `json:"set"`
}

// neighNeed is the neighbour entries a lab of hosts hosts needs: each of
// them and the control namespace resolving every other's underlay address,
// and room for their VMs' gateways and outside peers.
func neighNeed(hosts int) int {
	n := hosts + 1
	return n*n + 16*n
}

// neighTargets returns the thresholds for labs needing need entries beside
// what the machine had (before): none of them below what it was, and no
// garbage collection below the labs' need plus the machine's own.
func neighTargets(before [3]int, need int) [3]int {
	if need <= before[1]/2 {
		return before // small labs fit in what the machine allows
	}
	t := need + before[2]
	out := [3]int{t, 2 * t, 4 * t}
	for i := range out {
		out[i] = max(out[i], before[i])
	}
	return out
}

// fitNeighbours sets the thresholds for the labs that are up plus one of
// extraHosts hosts being built, under the labs' lock. It raises them when
// the labs need more and puts back what it found when they need no more.
// Thresholds someone else changed since are theirs and left alone.
func fitNeighbours(extraHosts int, log io.Writer) error {
	need := 0
	if extraHosts > 0 {
		need = neighNeed(extraHosts)
	}
	for _, name := range List() {
		if l, err := Open(name); err == nil {
			need += neighNeed(len(l.Hosts))
		}
	}
	var saved neighSaved
	if data, err := os.ReadFile(neighState()); err == nil {
		if err := json.Unmarshal(data, &saved); err != nil {
			return fmt.Errorf("lab: %s: %w", neighState(), err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("lab: %w", err)
	}
	next := neighSaved{Before: map[string][3]int{}, Set: map[string][3]int{}}
	var raised []string
	for _, fam := range []string{"ipv4", "ipv6"} {
		cur, err := readThresholds(fam)
		if errors.Is(err, os.ErrNotExist) {
			continue // no IPv6 on this machine
		}
		if err != nil {
			return err
		}
		before, ok := saved.Before[fam]
		if !ok || saved.Set[fam] != cur {
			before = cur // never raised by a lab, or changed by hand since
		}
		want := neighTargets(before, need)
		if want != cur {
			if err := writeThresholds(fam, want); err != nil {
				return err
			}
			if want != before {
				raised = append(raised, fmt.Sprintf("net.%s.neigh.default.gc_thresh1-3 %s (were %s)", fam, triple(want), triple(before)))
			}
		}
		if want != before {
			next.Before[fam], next.Set[fam] = before, want
		}
	}
	if len(next.Set) == 0 {
		if err := os.Remove(neighState()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("lab: %w", err)
		}
		return nil
	}
	if len(raised) > 0 {
		fmt.Fprintf(log, "Raised the kernel's neighbour table limits, which every namespace shares, for the labs' %d entries: %s; the last lab down puts them back.\n",
			need, strings.Join(raised, ", "))
	}
	data, _ := json.Marshal(next)
	if err := os.MkdirAll(BaseDir(), 0o700); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := os.WriteFile(neighState(), data, 0o600); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

func triple(t [3]int) string { return fmt.Sprintf("%d/%d/%d", t[0], t[1], t[2]) }

func thresholdPath(fam string, i int) string {
	return filepath.Join(neighDir, fam, "neigh", "default", "gc_thresh"+strconv.Itoa(i+1))
}

func readThresholds(fam string) ([3]int, error) {
	var t [3]int
	for i := range t {
		data, err := os.ReadFile(thresholdPath(fam, i))
		if err != nil {
			return t, err
		}
		if t[i], err = strconv.Atoi(strings.TrimSpace(string(data))); err != nil {
			return t, fmt.Errorf("lab: %s: %w", thresholdPath(fam, i), err)
		}
	}
	return t, nil
}

// writeThresholds writes the three from the top when they go up and from
// the bottom when they go down, so that they stay in order in between.
func writeThresholds(fam string, t [3]int) error {
	cur, _ := readThresholds(fam)
	order := []int{2, 1, 0}
	if t[2] < cur[2] {
		order = []int{0, 1, 2}
	}
	for _, i := range order {
		if err := os.WriteFile(thresholdPath(fam, i), []byte(strconv.Itoa(t[i])), 0o644); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	return nil
}
