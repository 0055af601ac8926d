package interp

import (
	"fmt"

	"go.starlark.net/starlark"
)

// Future is a value known only at apply time, such as a port's dynamic
// address or a chassis name read from a host. Plans print it as
// "(known after apply)"; drivers resolve it from the outputs of the action
// named by From.
type Future struct {
	From string // ID of the action whose output this is
	Attr string // which output
}

var _ starlark.Value = (*Future)(nil)

// NewFuture returns the future output attr of the action with id from.
func NewFuture(from, attr string) *Future { return &Future{From: from, Attr: attr} }

func (f *Future) String() string        { return "(known after apply)" }
func (f *Future) Type() string          { return "future" }
func (f *Future) Freeze()               {}
func (f *Future) Truth() starlark.Bool  { return starlark.True }
func (f *Future) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: future") }
