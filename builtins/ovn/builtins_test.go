package ovn_test

import (
	"testing"

	"github.com/ovnrun/ovnrun/builtins/ovn"
	"github.com/ovnrun/ovnrun/internal/startest"
	"github.com/ovnrun/ovnrun/interp"
)

func newRegistry() (*interp.Registry, error) {
	r := interp.NewRegistry()
	return r, ovn.Register(r)
}

func TestScripts(t *testing.T) {
	startest.Run(t, "testdata/*.star", newRegistry, interp.Options{})
}
