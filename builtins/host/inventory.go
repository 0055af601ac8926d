package host

import (
	"fmt"

	"github.com/ovnrun/ovnrun/internal/remote"
	"github.com/ovnrun/ovnrun/interp"
)

// The inventory is an input to evaluation, not an edit of a finished plan:
// host() takes the inventory's address, port, user and identity file for
// its name, so the plan shows the machine really reached and where that
// came from.

// inventoryKey is the key of the inventory in interp.Options.Inputs.
const inventoryKey = "host.inventory"

type inventoryInput struct {
	inv *remote.Inventory
	via string // "inventory lab.json", shown in the plan
}

// SetInventory makes inv, read from path, say how every host it lists is
// reached, for the evaluation opts configures.
func SetInventory(opts *interp.Options, inv *remote.Inventory, path string) {
	if inv == nil {
		return
	}
	if opts.Inputs == nil {
		opts.Inputs = map[string]any{}
	}
	opts.Inputs[inventoryKey] = inventoryInput{inv: inv, via: "inventory " + path}
}

// applyInventory gives h what the evaluation's inventory says of it, and
// notes where its address came from and what the runbook said.
func applyInventory(c *interp.Call, h *interp.Host) {
	in, ok := c.Ev.Input(inventoryKey).(inventoryInput)
	if !ok {
		return
	}
	t, listed := in.inv.Apply(remote.Target{Name: h.Name, Local: h.Local, Address: h.Address, Port: h.Port, User: h.User,
		Become: h.Become, BecomePasswordEnv: h.BecomePasswordEnv})
	if !listed {
		return
	}
	before := *h
	ih := in.inv.Hosts[h.Name]
	h.Local, h.Address, h.Port, h.User = t.Local, t.Address, t.Port, t.User
	h.Become, h.BecomePasswordEnv = t.Become, t.BecomePasswordEnv
	// What the inventory says is explicit, like host()'s user= and port=.
	h.DefaultUser = h.DefaultUser && ih.User == ""
	h.DefaultPort = h.DefaultPort && ih.Port == 0
	if t.Local {
		h.Address, h.Port, h.User, h.IdentityFile = "", 0, "", ""
		h.DefaultUser, h.DefaultPort, h.Become, h.BecomePasswordEnv = false, false, false, ""
	} else if h.Port == 0 {
		h.Port = 22
	}
	if f := ih.IdentityFile; f != "" {
		h.IdentityFile = f
	}
	if reach(h) != reach(&before) {
		h.Via, h.Declared = in.via, reach(&before)
		if !h.Local && !before.Local && h.User == before.User && h.Port == before.Port {
			h.Declared = before.Address // the address is what changed
		}
	}
}

// reach is how h is reached, as the plan names it.
func reach(h *interp.Host) string {
	if h.Local {
		return "local"
	}
	return fmt.Sprintf("%s@%s:%d", h.User, h.Address, h.Port)
}

// Unlisted returns the names of plan's hosts that inv does not list: they
// are reached as the runbook says, which is worth a warning, since a
// runbook's defaults usually name another lab.
func Unlisted(plan *interp.Plan, inv *remote.Inventory) []string {
	if inv == nil {
		return nil
	}
	var missing []string
	for _, h := range plan.HostList() {
		if _, ok := inv.Hosts[h.Name]; !ok {
			missing = append(missing, h.Name)
		}
	}
	return missing
}
