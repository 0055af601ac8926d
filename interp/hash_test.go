package interp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
)

type hashTestAction struct {
	ActionMeta
	fields []Field
}

func (a *hashTestAction) Fields() []Field { return a.fields }

func mustMAC(t *testing.T, s string) MAC {
	t.Helper()
	m, err := ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustCIDR(t *testing.T, s string) CIDR {
	t.Helper()
	c, err := ParseCIDR(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// baseHashAction is a port with one field of every documented value type.
func baseHashAction(t *testing.T) *hashTestAction {
	return &hashTestAction{
		ActionMeta: ActionMeta{M: Meta{ID: "logical_switch_port/ls0-vm1", Kind: "logical_switch_port", Name: "ls0-vm1",
			Driver: "nb", Host: "", Step: "topology", Stack: []Pos{{File: "lab.star", Line: 10, Col: 1}}}},
		fields: []Field{
			F("switch", "ls0"),
			F("mac", mustMAC(t, "00:00:00:00:00:01")),
			F("cidr", mustCIDR(t, "172.16.1.0/24")),
			F("tag_request", 7),
			F("enabled", true),
			F("addresses", []string{"00:00:00:00:00:01", "dynamic"}),
			F("options", map[string]string{"a": "1", "b": "2", "c": "3"}),
			F("external_ids", StringMap{"owner": "lab"}),
			F("chassis", NewFuture("host/h0", "system_id")),
		},
	}
}

// The hash is part of the journal format: a change to it makes every
// recorded action look edited. Change hashVersion with the encoding, then
// this value.
func TestActionHashIsStableAcrossRuns(t *testing.T) {
	const want = "32eccb9e608e8ede49b731977bace0ce46e87be9cc5e011ae5b536ec3ed53d08"
	if got := ActionHash(baseHashAction(t)); got != want {
		t.Errorf("ActionHash = %s, want %s (did the encoding change without hashVersion?)", got, want)
	}
}

// The encoding, spelled out for a small action: tag, uvarint length, bytes.
func TestActionHashEncoding(t *testing.T) {
	a := &hashTestAction{ActionMeta: ActionMeta{M: Meta{ID: "sh/h0/x", Kind: "sh", Host: "h0"}},
		fields: []Field{F("unless", "test -e /x"), F("argv", []string{"ls", "-l"}), F("n", 2)}}
	pre := "s\x14" + hashVersion + "s\x02sh" + "s\x07sh/h0/x" + "s\x02h0" +
		"s\x04argv" + "l\x02" + "s\x02ls" + "s\x02-l" +
		"s\x01n" + "i\x012" +
		"s\x06unless" + "s\x0atest -e /x"
	sum := sha256.Sum256([]byte(pre))
	if got, want := ActionHash(a), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("ActionHash = %s, want sha256 of %q = %s", got, pre, want)
	}
}

func TestActionHashIgnoresPositionAndOrder(t *testing.T) {
	base := ActionHash(baseHashAction(t))
	for _, tc := range []struct {
		name string
		edit func(a *hashTestAction)
	}{
		{"declared elsewhere", func(a *hashTestAction) {
			a.M.Stack = []Pos{{File: "other.star", Line: 99, Col: 5}, {File: "lib.star", Line: 3}}
		}},
		{"moved to another step", func(a *hashTestAction) { a.M.Step = "later" }},
		{"other dependencies", func(a *hashTestAction) { a.M.DependsOn = []string{"logical_switch/ls0"} }},
		{"fields in another order", func(a *hashTestAction) {
			for i, j := 0, len(a.fields)-1; i < j; i, j = i+1, j-1 {
				a.fields[i], a.fields[j] = a.fields[j], a.fields[i]
			}
		}},
		{"map built in another order", func(a *hashTestAction) {
			m := map[string]string{}
			for _, k := range []string{"c", "a", "b"} {
				m[k] = map[string]string{"a": "1", "b": "2", "c": "3"}[k]
			}
			a.fields[6] = F("options", m)
		}},
		{"unset fields added", func(a *hashTestAction) {
			var none *Future
			a.fields = append(a.fields, F("dhcpv4_options", ""), F("port_security", []string(nil)),
				F("other_config", map[string]string{}), F("ext", nil), F("via", none), F("ip", IP{}))
		}},
		{"MAC given as a string", func(a *hashTestAction) { a.fields[1] = F("mac", "00:00:00:00:00:01") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := baseHashAction(t)
			tc.edit(a)
			if got := ActionHash(a); got != base {
				t.Errorf("hash changed: %s, want %s", got, base)
			}
		})
	}
}

func TestActionHashIgnoresMapIterationOrder(t *testing.T) {
	m := map[string]string{}
	for i := 0; i < 64; i++ {
		m[fmt.Sprintf("k%02d", i)] = fmt.Sprint(i)
	}
	a := &hashTestAction{ActionMeta: ActionMeta{M: Meta{ID: "x/y", Kind: "x"}}, fields: []Field{F("m", m), F("n", map[int]string{3: "c", 1: "a", 2: "b"})}}
	first := ActionHash(a)
	for i := 0; i < 50; i++ { // Go randomizes map iteration on every range
		if got := ActionHash(a); got != first {
			t.Fatalf("hash differs between calls: %s, %s", got, first)
		}
	}
}

func TestActionHashChangesWithDesiredState(t *testing.T) {
	set := func(i int, v any) func(a *hashTestAction) {
		return func(a *hashTestAction) { a.fields[i].Value = v }
	}
	cases := []struct {
		name string
		edit func(a *hashTestAction)
	}{
		{"kind", func(a *hashTestAction) { a.M.Kind = "logical_router_port" }},
		{"id", func(a *hashTestAction) { a.M.ID = "logical_switch_port/ls0-vm2" }},
		{"host", func(a *hashTestAction) { a.M.Host = "h1" }},
		{"string", set(0, "ls1")},
		{"MAC", set(1, mustMAC(t, "00:00:00:00:00:02"))},
		{"CIDR", set(2, mustCIDR(t, "172.16.2.0/24"))},
		{"int", set(3, 8)},
		{"int as string", set(3, "7")},
		{"bool", set(4, false)},
		{"list element", set(5, []string{"00:00:00:00:00:01", "static"})},
		{"list order", set(5, []string{"dynamic", "00:00:00:00:00:01"})},
		{"list joined", set(5, []string{"00:00:00:00:00:01,dynamic"})},
		{"list element added", set(5, []string{"00:00:00:00:00:01", "dynamic", ""})},
		{"map value", set(6, map[string]string{"a": "1", "b": "2", "c": "4"})},
		{"map key", set(6, map[string]string{"a": "1", "b": "2", "d": "3"})},
		{"map key/value boundary", set(6, map[string]string{"a": "1", "b": "2", "c3": ""})},
		{"map entry removed", set(6, map[string]string{"a": "1", "b": "2"})},
		{"StringMap value", set(7, StringMap{"owner": "other"})},
		{"future attribute", set(8, NewFuture("host/h0", "hostname"))},
		{"future source", set(8, NewFuture("host/h1", "system_id"))},
		{"future resolved", set(8, "chassis-0")},
		{"field renamed", func(a *hashTestAction) { a.fields[0].Key = "switch_name" }},
		{"field removed", func(a *hashTestAction) { a.fields = a.fields[1:] }},
		{"field added", func(a *hashTestAction) { a.fields = append(a.fields, F("type", "router")) }},
		{"pointer value", func(a *hashTestAction) { v := 9; a.fields = append(a.fields, F("p", &v)) }},
	}
	seen := map[string]string{ActionHash(baseHashAction(t)): "base"}
	for _, tc := range cases {
		a := baseHashAction(t)
		tc.edit(a)
		h := ActionHash(a)
		if other, dup := seen[h]; dup {
			t.Errorf("%s: same hash as %s", tc.name, other)
		}
		seen[h] = tc.name
	}
}
