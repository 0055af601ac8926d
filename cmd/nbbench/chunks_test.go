package main

import (
	"slices"
	"testing"
)

// The size is one ovn-nbctl process; ten times it must be split,
// in order, into runs the kernel accepts.
func TestChunks(t *testing.T) {
	if n := len(chunks(commands(1000, 10))); n != 1 {
		t.Errorf("1000 switches x 10 ports: %d processes, want 1", n)
	}
	cmds := commands(10000, 10)
	parts := chunks(cmds)
	if len(parts) < 2 {
		t.Fatalf("10000 switches x 10 ports: %d processes, want several", len(parts))
	}
	var again []command
	for _, p := range parts {
		var n int
		for _, a := range joined(p) {
			n += len(a) + 1 + 8
		}
		if n > maxArgBytes {
			t.Errorf("a process gets %d bytes of arguments, more than %d", n, maxArgBytes)
		}
		again = append(again, p...)
	}
	if !slices.EqualFunc(again, cmds, slices.Equal) {
		t.Error("the processes do not run the commands in order, each once")
	}
}
