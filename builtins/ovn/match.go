package ovn

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ovnrun/ovnrun/builtins/ovn/ovnmatch"
	"github.com/ovnrun/ovnrun/interp"
)

// checkMatch parses the match of an ACL, router policy or QoS rule with
// OVN's expression syntax (ovnmatch) and refuses a typo at evaluation, where
// ovn-nbctl would store it and ovn-northd drop the flow with a log line. The
// port groups (@pg), address sets ($as, and the $pg_ip4/$pg_ip6 sets
// ovn-northd makes for each port group) and ports (inport == "p") it names
// must be declared by the runbook, by the end of its evaluation.
func checkMatch(c *interp.Call, param, match string) error {
	e, err := ovnmatch.Parse(match)
	if err != nil {
		var pe *ovnmatch.Error
		if errors.As(err, &pe) {
			return c.Errorf("%s: %s\n    %s\n    %s^ here (byte %d%s)", param, pe.Msg, match,
				strings.Repeat(" ", len([]rune(match[:min(pe.Offset, len(match))]))), pe.Offset, tokenNote(pe.Token))
		}
		return c.Errorf("%s: %v", param, err)
	}
	st := stateOf(c)
	c.AtEnd(func() error {
		var errs []string
		for _, pg := range e.PortGroups() {
			if st.portGroups[pg] == nil {
				errs = append(errs, fmt.Sprintf("@%s: no port_group %q is declared", pg, pg))
			}
		}
		for _, as := range e.AddressSets() {
			if st.addressSets[as] != nil {
				continue
			}
			if pg, ok := strings.CutSuffix(as, "_ip4"); ok && st.portGroups[pg] != nil {
				continue
			}
			if pg, ok := strings.CutSuffix(as, "_ip6"); ok && st.portGroups[pg] != nil {
				continue
			}
			errs = append(errs, fmt.Sprintf("$%s: no address_set %q is declared (nor a port group whose %q ovn-northd makes)", as, as, as))
		}
		for _, p := range e.Ports() {
			if _, taken := st.portNameTaken(p); !taken {
				errs = append(errs, fmt.Sprintf("%q: no logical switch or router port of that name is declared", p))
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("%s %q: %s", param, match, strings.Join(errs, "; "))
		}
		return nil
	})
	return nil
}

func tokenNote(tok string) string {
	if tok == "" {
		return ", at the end"
	}
	return fmt.Sprintf(", %q", tok)
}
