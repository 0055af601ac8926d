package nbimport

import (
	"iter"
	"maps"
	"strconv"
)

func mapsKeys[V any](m map[string]V) iter.Seq[string] { return maps.Keys(m) }

// parseUint returns s as an integer literal when it is one.
func parseUint(s string) (string, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return "", err
	}
	return strconv.FormatUint(n, 10), nil
}
