package ovn

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ovnrun/ovnrun/engine"
	"github.com/ovnrun/ovnrun/internal/ovsdbmodel"
	"github.com/ovnrun/ovnrun/interp"
)

// RunConfig is what a run asks of the NB driver (the --nb, --nb-timeout,
// --adopt, --wait and --ovn-private-key... flags).
type RunConfig struct {
	NB      string              // endpoint(s), comma-separated; overrides the runbook's ovn_nb()
	SSL     ovsdbmodel.TLSFiles // each file overrides the runbook's ovn_nb() keyword
	Timeout time.Duration
	Adopt   bool
	Wait    string // sb, hv or none
}

// Registration is the OVN domain's registration: its builtins and the "nb"
// driver, which a destroy opens last and always (the rows a runbook owns
// are found by their tag).
func Registration(cfg RunConfig) engine.Domain {
	return engine.Domain{Name: "ovn", Register: Register, Saved: rowCodec, Drivers: []engine.DriverSpec{{
		Names: []string{"nb"}, Destroy: 2, DestroyAlways: true, DestroyOrder: destroyOrder,
		Open: func(ctx context.Context, env *engine.OpenEnv) ([]interp.Driver, interp.Outputs, error) {
			d, err := openNB(ctx, cfg, env)
			if err != nil {
				return nil, nil, err
			}
			return []interp.Driver{d}, nil, nil
		},
	}}}
}

// openNB connects the NB driver to --nb, else to the runbook's ovn_nb().
// When the run itself starts the NB (NBStarter) and the NB does not answer
// yet, the driver plans as if the NB were empty and connects when the first
// NB step is applied.
func openNB(ctx context.Context, cfg RunConfig, env *engine.OpenEnv) (interp.Driver, error) {
	endpoints := SplitEndpoints(cfg.NB)
	if len(endpoints) == 0 {
		if v, ok := env.Plan.Setting("nb"); ok {
			s, _ := v.(string)
			endpoints = SplitEndpoints(s)
		}
	}
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("no Northbound database: pass --nb ADDR or call ovn_nb() in the runbook")
	}
	nc := NBConfig{Endpoints: endpoints, SSL: sslFiles(cfg.SSL, env.Plan), Owner: env.Owner, Legacy: env.LegacyOwner,
		ConnectTimeout: cfg.Timeout, Adopt: cfg.Adopt, Wait: cfg.Wait, Log: env.Log}
	if env.Destroy {
		return ConnectNB(ctx, nc)
	}
	return ConnectNBOrLater(ctx, nc, NBStarter(env.Steps))
}

// ServiceStarter is implemented by actions that start a systemd unit on a
// host (the host domain's service()): StartsService returns the unit, or ""
// when the action stops it.
type ServiceStarter interface{ StartsService() string }

// DBOpener is implemented by actions that open an OVN database's connection
// on a host (the host domain's ovn_db_connection()): OpensDB returns "nb" or
// "sb".
type DBOpener interface{ OpensDB() string }

// nbUnits start the NB's ovsdb-server with them.
var nbUnits = []string{"ovn-northd", "ovn-central"}

// NBStarter returns the name of the step that starts the NB, among steps up
// to the first one with NB actions: one that starts ovn-northd (its unit
// starts the NB's ovsdb-server) or opens the NB's connection. "" when none.
func NBStarter(steps []*interp.Step) string {
	for _, s := range steps {
		nbStep := false
		for _, a := range s.Actions {
			if o, ok := a.(DBOpener); ok && o.OpensDB() == "nb" {
				return s.Name
			}
			if st, ok := a.(ServiceStarter); ok {
				unit := strings.TrimSuffix(st.StartsService(), ".service")
				for _, u := range nbUnits {
					if unit == u {
						return s.Name
					}
				}
			}
			nbStep = nbStep || a.Meta().Driver == "nb"
		}
		if nbStep {
			return ""
		}
	}
	return ""
}
