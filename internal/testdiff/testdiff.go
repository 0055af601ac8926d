// Package testdiff shows how two texts differ, for test failures: the
// lines only one of them has. It imports nothing of ovnrun.
package testdiff

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// Lines marks the lines only in want with -, only in got with +; when both
// hold the same lines in another order, it shows both texts.
func Lines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b bytes.Buffer
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	if b.Len() == 0 {
		return "(same lines, different order)\n--- want\n" + want + "\n--- got\n" + got
	}
	return b.String()
}

// JSON is v as indented JSON, for comparing values as text.
func JSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
