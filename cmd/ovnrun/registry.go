package main

import (
	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/interp"
)

// newRegistry assembles the builtins of every domain.
func newRegistry() (*interp.Registry, error) {
	r := interp.NewRegistry()
	for _, register := range []func(*interp.Registry) error{ovn.Register, host.Register, virt.Register, check.Register} {
		if err := register(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}
