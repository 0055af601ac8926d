package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ovnrun/ovnrun/interp"
)

// Saved plans (docs/saved-plans.md): `ovnrun --dry-run --out FILE` writes
// the plan it printed, with its actions, what it was made from and the
// live changes it found; `ovnrun apply FILE` reads the actions back (the
// runbook is not evaluated again), plans them against the live targets and
// applies them only if that finds exactly the recorded changes.

// ActionCodec writes a domain's actions into a saved plan and reads them
// back. Encode returns mine=false for an action of another domain.
type ActionCodec struct {
	Encode func(interp.Action) (data json.RawMessage, mine bool, err error)
	Decode func(json.RawMessage) (interp.Action, error)
}

// SavedPlanFormat is the version of the saved plan file; a reader refuses
// any other.
const SavedPlanFormat = 1

// SaveInfo is what a saved plan records of the run beside the plan.
type SaveInfo struct {
	NB    string // the NB endpoint(s) the plan was made against
	Adopt bool
	Only  []string
	From  string
	// Destroy: the plan is a destroy's, the deletion of what the runbook
	// created.
	Destroy bool
	// Owner (--owner, "" for the runbook's own) and NoPrune say whose
	// things a prune or destroy finds.
	Owner   string
	NoPrune bool
}

// savedFile is the file: the body and the SHA-256 of its compact JSON, so
// that a changed file is refused.
type savedFile struct {
	Format int             `json:"ovnrun_saved_plan"`
	SHA256 string          `json:"sha256"`
	Body   json.RawMessage `json:"body"`
}

type savedBody struct {
	Created       time.Time         `json:"created"`
	Runbook       string            `json:"runbook"`
	RunbookPath   string            `json:"runbook_path"`
	RunbookSHA256 string            `json:"runbook_sha256"`
	Vars          map[string]string `json:"vars"`
	Modules       []savedHash       `json:"modules"`
	Libraries     []interp.Library  `json:"libraries,omitempty"`
	Files         []savedHash       `json:"files,omitempty"`
	Targets       savedTargets      `json:"targets"`
	Only          []string          `json:"only,omitempty"`
	From          string            `json:"from,omitempty"`
	Destroy       bool              `json:"destroy,omitempty"`
	Owner         string            `json:"owner,omitempty"`
	NoPrune       bool              `json:"no_prune,omitempty"`
	// Steps are every step of the runbook, as evaluated: Only and From
	// select among them, and a prune or destroy finds what the runbook
	// declares in all of them.
	Steps []savedStep `json:"steps"`
	// Plan is the JSON plan as --output json prints it: what was shown,
	// and the live changes the apply must find again.
	Plan json.RawMessage `json:"plan"`
}

type savedHash struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

type savedTargets struct {
	NB       string         `json:"nb,omitempty"`
	Adopt    bool           `json:"adopt,omitempty"`
	Settings map[string]any `json:"settings,omitempty"`
	Hosts    []*interp.Host `json:"hosts,omitempty"`
}

type savedStep struct {
	Name    string        `json:"name"`
	Pos     interp.Pos    `json:"pos"`
	Actions []savedAction `json:"actions"`
}

type savedAction struct {
	Domain string          `json:"domain"`
	Hash   string          `json:"hash"` // interp.ActionHash, checked when read back
	Action json.RawMessage `json:"action"`
}

// SavePlan writes plan, planned as changes against the live targets, to
// path. It refuses a plan holding an action no domain can save.
//
// The actions saved are the runbook's, in every step of plan. The changes
// of a step the run adds (prune, destroy) are what the drivers found in
// the live targets; they are recorded in the JSON plan only, with their
// fields (a row's _uuid, a VM's disk), and the apply finds them again or
// is refused (Check).
func SavePlan(path string, plan *interp.Plan, changes []interp.StepChanges, domains []Domain, info SaveInfo) error {
	abs, err := filepath.Abs(plan.Runbook)
	if err != nil {
		return err
	}
	b := savedBody{Created: time.Now().UTC(), Runbook: plan.Runbook, RunbookPath: abs, Vars: plan.Vars,
		Libraries: plan.Libraries, Only: info.Only, From: info.From, Destroy: info.Destroy,
		Owner: info.Owner, NoPrune: info.NoPrune,
		Targets: savedTargets{NB: info.NB, Adopt: info.Adopt, Settings: map[string]any{}, Hosts: plan.HostList()}}
	for i, m := range plan.Modules {
		if i == 0 {
			b.RunbookSHA256 = m.SHA256
		}
		b.Modules = append(b.Modules, savedHash{m.Key, m.SHA256})
	}
	for _, f := range plan.Files {
		b.Files = append(b.Files, savedHash{f.Path, f.SHA256})
	}
	for _, f := range plan.Settings {
		switch v := f.Value.(type) {
		case string, int, bool:
			b.Targets.Settings[f.Key] = v
		default:
			return fmt.Errorf("--out: the setting %s (a %T) cannot be saved", f.Key, f.Value)
		}
	}
	for _, st := range plan.Steps {
		s := savedStep{Name: st.Name, Pos: st.Pos}
		for _, a := range st.Actions {
			sa, err := encodeAction(a, domains)
			if err != nil {
				return err
			}
			s.Actions = append(s.Actions, sa)
		}
		b.Steps = append(b.Steps, s)
	}
	var js bytes.Buffer
	if err := interp.WriteJSON(&js, plan, changes); err != nil {
		return err
	}
	b.Plan = js.Bytes()
	body, err := json.Marshal(b)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	out, err := json.MarshalIndent(savedFile{SavedPlanFormat, hex.EncodeToString(sum[:]), body}, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(out, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func encodeAction(a interp.Action, domains []Domain) (savedAction, error) {
	for _, d := range domains {
		if d.Saved == nil {
			continue
		}
		data, mine, err := d.Saved.Encode(a)
		if err != nil {
			return savedAction{}, fmt.Errorf("--out: %v", err)
		}
		if mine {
			return savedAction{Domain: d.Name, Hash: interp.ActionHash(a), Action: data}, nil
		}
	}
	m := a.Meta()
	return savedAction{}, fmt.Errorf("--out: %s: %s %s (driver %s) cannot be saved: no domain writes %T actions into saved plans; "+
		"apply the runbook itself", m.Pos(), m.Kind, m.Name, m.Driver, a)
}

// SavedPlan is a saved plan read back.
type SavedPlan struct {
	Plan *interp.Plan
	// SaveInfo is what the file recorded of the run (its NB, selection,
	// destroy, owner and prune).
	SaveInfo
	// recorded are the changes the plan was saved with, as the JSON plan
	// shows them.
	recorded []jsonChange
}

// ReadSavedPlan reads the saved plan in data (named path in errors).
func ReadSavedPlan(path string, data []byte, domains []Domain) (*SavedPlan, error) {
	var f savedFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: not a saved plan: %v", path, err)
	}
	if f.Format != SavedPlanFormat {
		return nil, fmt.Errorf("%s: saved plan format %d, this ovnrun reads format %d", path, f.Format, SavedPlanFormat)
	}
	var body bytes.Buffer
	if err := json.Compact(&body, f.Body); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if sum := sha256.Sum256(body.Bytes()); hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, fmt.Errorf("%s: the plan was changed after ovnrun saved it (its sha256 does not match): save it again", path)
	}
	var b savedBody
	if err := json.Unmarshal(body.Bytes(), &b); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	p := &interp.Plan{Runbook: b.RunbookPath, Vars: b.Vars, Libraries: b.Libraries, Hosts: map[string]*interp.Host{}}
	for k, v := range b.Targets.Settings {
		if n, ok := v.(float64); ok && n == float64(int(n)) {
			v = int(n) // JSON numbers read back as the int they were
		}
		p.Settings = append(p.Settings, interp.F(k, v))
	}
	for _, h := range b.Targets.Hosts {
		p.Hosts[h.Name] = h
	}
	for _, m := range b.Modules {
		p.Modules = append(p.Modules, interp.Module{Key: m.Path, SHA256: m.SHA256})
	}
	byName := map[string]*ActionCodec{}
	for _, d := range domains {
		byName[d.Name] = d.Saved
	}
	for _, s := range b.Steps {
		st := &interp.Step{Name: s.Name, Pos: s.Pos}
		for _, sa := range s.Actions {
			codec := byName[sa.Domain]
			if codec == nil {
				return nil, fmt.Errorf("%s: step %s: no domain %q reads saved actions", path, s.Name, sa.Domain)
			}
			a, err := codec.Decode(sa.Action)
			if err == nil && interp.ActionHash(a) != sa.Hash {
				err = fmt.Errorf("%s reads back as another action than was saved", a.Meta().ID)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: step %s: %v", path, s.Name, err)
			}
			st.Actions = append(st.Actions, a)
		}
		p.Steps = append(p.Steps, st)
	}
	if err := p.Index(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	recorded, err := jsonChanges(b.Plan)
	if err != nil {
		return nil, fmt.Errorf("%s: its JSON plan: %v", path, err)
	}
	return &SavedPlan{Plan: p, SaveInfo: SaveInfo{NB: b.Targets.NB, Adopt: b.Targets.Adopt, Only: b.Only, From: b.From,
		Destroy: b.Destroy, Owner: b.Owner, NoPrune: b.NoPrune}, recorded: recorded}, nil
}

// jsonChange is what the JSON plan says one action will do.
type jsonChange struct {
	ID    string          `json:"id"`
	Kind  string          `json:"kind"`
	Name  string          `json:"name"`
	Op    interp.Op       `json:"op"`
	Diffs json.RawMessage `json:"diffs"`
	// Fields say which thing a deletion the drivers found deletes (a
	// row's _uuid): a declared action's are the same as saved.
	Fields json.RawMessage `json:"fields"`
}

func jsonChanges(plan []byte) ([]jsonChange, error) {
	var p struct {
		Steps []struct{ Actions []jsonChange }
	}
	if err := json.Unmarshal(plan, &p); err != nil {
		return nil, err
	}
	var out []jsonChange
	for _, s := range p.Steps {
		for _, c := range s.Actions {
			c.Diffs, c.Fields = compact(c.Diffs), compact(c.Fields)
			out = append(out, c)
		}
	}
	return out, nil
}

func compact(js json.RawMessage) json.RawMessage {
	if len(js) == 0 {
		return js
	}
	var b bytes.Buffer
	json.Compact(&b, js)
	return b.Bytes()
}

// ErrStale is wrapped by Check's error: the targets changed since the plan
// was saved.
var ErrStale = errors.New("the live state no longer matches the saved plan")

// Check compares changes, planned now against the live targets, with the
// changes recorded when the plan was saved, and names the first
// difference.
func (s *SavedPlan) Check(plan *interp.Plan, changes []interp.StepChanges) error {
	var js bytes.Buffer
	if err := interp.WriteJSON(&js, plan, changes); err != nil {
		return err
	}
	now, err := jsonChanges(js.Bytes())
	if err != nil {
		return err
	}
	for i, want := range s.recorded {
		if i >= len(now) {
			return fmt.Errorf("%w: %s %s is no longer planned", ErrStale, want.Kind, want.Name)
		}
		got := now[i]
		if got.ID != want.ID {
			return fmt.Errorf("%w: %s is planned where %s was", ErrStale, got.ID, want.ID)
		}
		if got.Op != want.Op || !bytes.Equal(got.Diffs, want.Diffs) {
			return fmt.Errorf("%w: %s %s: saved as %s, now %s; make the plan again", ErrStale,
				want.Kind, want.Name, describe(want), describe(got))
		}
		if !bytes.Equal(got.Fields, want.Fields) {
			return fmt.Errorf("%w: %s %s: saved as %s of %s, now of %s; make the plan again", ErrStale,
				want.Kind, want.Name, want.Op, want.Fields, got.Fields)
		}
	}
	if len(now) > len(s.recorded) {
		return fmt.Errorf("%w: %s is planned, and was not", ErrStale, now[len(s.recorded)].ID)
	}
	return nil
}

// describe says what a change does, with its diffs.
func describe(c jsonChange) string {
	if len(c.Diffs) == 0 {
		return string(c.Op)
	}
	return string(c.Op) + " " + string(c.Diffs)
}
