package ovn

import "github.com/ovnrun/ovnrun/interp"

// Every NB action is a Row of a described Table (row.go, table.go); its kind
// is the table's name in lower case.

// driverName is the Meta.Driver of every NB action.
const driverName = "nb"

func meta(kind, name string, deps ...string) interp.ActionMeta {
	return interp.ActionMeta{M: interp.Meta{Kind: kind, Name: name, Driver: driverName, DependsOn: deps}}
}
