//go:build race

package main

// raceEnabled: the race detector keeps shadow memory beside the heap, so
// the process's RSS says nothing about its heap.
const raceEnabled = true
