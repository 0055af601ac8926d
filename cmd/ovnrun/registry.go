package main

import (
	"github.com/ovnrun/ovnrun/builtins/check"
	"github.com/ovnrun/ovnrun/builtins/host"
	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/builtins/virt"
	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/interp"
)

// domains lists every domain once, its drivers configured by the run's
// flags (nil: the flags' defaults, for commands that only evaluate). Adding
// a domain is one package under builtins/ and one line here.
func domains(lf *liveFlags) []engine.Domain {
	if lf == nil {
		lf = &liveFlags{}
	}
	return []engine.Domain{
		ovn.Registration(ovn.RunConfig{NB: lf.nb, SSL: lf.ssl, Timeout: lf.timeout, Adopt: lf.adopt, Wait: lf.wait}),
		host.Registration(),
		virt.Registration(virt.RunConfig{RecreateVMs: lf.virt.recreateVMs, WaitGuests: lf.virt.waitGuests}),
		check.Registration(),
	}
}

// newRegistry assembles the builtins of every domain.
func newRegistry() (*interp.Registry, error) {
	r := interp.NewRegistry()
	for _, d := range domains(nil) {
		if err := d.Register(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}
