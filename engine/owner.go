package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"

	"github.com/ovnrun/ovnrun/interp"
)

// Ownership is who a run acts as: the tag its NB rows and VMs carry.
type Ownership struct {
	// Owner is the tag this run writes and prunes by.
	Owner string
	// Legacy is the tag older ovnrun wrote for this runbook (its base
	// name), set only when Owner is derived from the path: rows carrying
	// it are this runbook's when it still declares them (and are re-tagged
	// on apply), but are never pruned, since copies of the runbook in other
	// directories wrote the same tag.
	Legacy string
	// From says where Owner comes from: "--owner", "lab()" or "path".
	From string
}

// OwnerOf returns the ownership of a run of plan: flag (--owner) if set,
// else the runbook's lab() name, else a name derived from the runbook's
// path.
func OwnerOf(plan *interp.Plan, flag string) Ownership {
	if flag != "" {
		return Ownership{Owner: flag, From: "--owner"}
	}
	if v, ok := plan.Setting(interp.OwnerSetting); ok {
		if s, _ := v.(string); s != "" {
			return Ownership{Owner: s, From: "lab()"}
		}
	}
	return Ownership{Owner: PathOwner(plan.Runbook), Legacy: filepath.Base(plan.Runbook), From: "path"}
}

// PathOwner is the owner of a runbook without lab() or --owner: its base
// name, readable in the NB, then "@" and the first 12 hex digits of the
// SHA-256 of its absolute path, so that copies in two directories differ
// while one file keeps its owner whatever the working directory.
func PathOwner(runbook string) string {
	abs, err := filepath.Abs(runbook)
	if err != nil {
		abs = runbook
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Base(runbook) + "@" + hex.EncodeToString(sum[:6])
}
