package main

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
)

// The workload: S switches with a subnet, each with P ports that have a
// MAC and "dynamic" addresses. ovnrun builds it from a Starlark loop; the
// ovn-nbctl variants run the commands that make the same rows.

// runbook is the ovnrun runbook of the workload, the same loop as the
// evaluation benchmark of cmd/ovnrun.
func runbook(switches, ports int) string {
	return fmt.Sprintf(`def hx(n):
    h = "%%x" %% n
    return "0" + h if len(h) == 1 else h

def build():
    for i in range(%d):
        s = ls("ls%%d" %% i, subnet = subnet(i))
        for j in range(%d):
            lsp(s, "ls%%d-p%%d" %% (i, j), mac = mac(i, j), ips = "dynamic")

def subnet(i):
    return "10.%%d.%%d.0/24" %% (i // 256, i %% 256)

def mac(i, j):
    return "0a:00:%%s:%%s:%%s:%%s" %% (hx(i // 65536), hx(i // 256 %% 256), hx(i %% 256), hx(j))

step("scale", build)
`, switches, ports)
}

// command is one ovn-nbctl command (without the "--" that joins several).
type command []string

// commands returns the ovn-nbctl commands that make the workload's rows:
// per switch ls-add and set other_config:subnet, per port lsp-add and
// lsp-set-addresses.
func commands(switches, ports int) []command {
	var cmds []command
	for i := range switches {
		sw := fmt.Sprintf("ls%d", i)
		cmds = append(cmds,
			command{"ls-add", sw},
			command{"set", "Logical_Switch", sw, fmt.Sprintf("other_config:subnet=10.%d.%d.0/24", i/256, i%256)})
		for j := range ports {
			port := fmt.Sprintf("%s-p%d", sw, j)
			mac := fmt.Sprintf("0a:00:%02x:%02x:%02x:%02x", i/65536, i/256%256, i%256, j)
			cmds = append(cmds, command{"lsp-add", sw, port}, command{"lsp-set-addresses", port, mac + " dynamic"})
		}
	}
	return cmds
}

// joined returns the arguments of one ovn-nbctl process running cmds.
func joined(cmds []command) []string {
	var args []string
	for i, c := range cmds {
		if i > 0 {
			args = append(args, "--")
		}
		args = append(args, c...)
	}
	return args
}

// nbDigest summarises the workload's rows in an NB: every switch with its
// other_config and its ports' names, every port with its addresses (UUIDs,
// external_ids and the addresses northd assigns are left out). It returns
// that digest, a second one that includes every row's external_ids, and the
// row counts.
func nbDigest(sock string) (digest, withTags string, switches, ports int, err error) {
	var res []struct {
		Rows []map[string]any `json:"rows"`
	}
	err = rpc(sock, "transact", []any{"OVN_Northbound",
		map[string]any{"op": "select", "table": "Logical_Switch", "where": []any{}, "columns": []string{"name", "other_config", "ports", "external_ids"}},
		map[string]any{"op": "select", "table": "Logical_Switch_Port", "where": []any{}, "columns": []string{"_uuid", "name", "addresses", "external_ids"}},
	}, &res)
	if err != nil {
		return "", "", 0, 0, err
	}
	if len(res) != 2 {
		return "", "", 0, 0, fmt.Errorf("select: %d results", len(res))
	}
	portName := map[string]string{}
	var lines, tags []string
	for _, r := range res[1].Rows {
		name, _ := r["name"].(string)
		portName[uuidOf(r["_uuid"])] = name
		lines = append(lines, fmt.Sprintf("lsp %s %v", name, ovsdbSet(r["addresses"])))
		tags = append(tags, fmt.Sprintf("lsp %s %s", name, ovsdbMap(r["external_ids"])))
	}
	for _, r := range res[0].Rows {
		var ports []string
		for _, u := range ovsdbSet(r["ports"]) {
			ports = append(ports, portName[u])
		}
		slices.Sort(ports)
		lines = append(lines, fmt.Sprintf("ls %s %v %v", r["name"], ovsdbMap(r["other_config"]), ports))
		tags = append(tags, fmt.Sprintf("ls %s %s", r["name"], ovsdbMap(r["external_ids"])))
	}
	return sum(lines), sum(append(tags, lines...)), len(res[0].Rows), len(res[1].Rows), nil
}

func sum(lines []string) string {
	slices.Sort(lines)
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return fmt.Sprintf("%x", h[:8])
}

// ovsdbSet returns the members of an OVSDB set (or single atom) as sorted
// strings; UUIDs become their string.
func ovsdbSet(v any) []string {
	var members []any
	if a, ok := v.([]any); ok && len(a) == 2 && a[0] == "set" {
		members, _ = a[1].([]any)
	} else if v != nil {
		members = []any{v}
	}
	out := make([]string, 0, len(members))
	for _, m := range members {
		if a, ok := m.([]any); ok && len(a) == 2 && a[0] == "uuid" {
			out = append(out, fmt.Sprint(a[1]))
		} else {
			out = append(out, fmt.Sprint(m))
		}
	}
	slices.Sort(out)
	return out
}

func ovsdbMap(v any) string {
	a, ok := v.([]any)
	if !ok || len(a) != 2 || a[0] != "map" {
		return fmt.Sprint(v)
	}
	pairs, _ := a[1].([]any)
	var out []string
	for _, p := range pairs {
		if kv, ok := p.([]any); ok && len(kv) == 2 {
			out = append(out, fmt.Sprintf("%v=%v", kv[0], kv[1]))
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func uuidOf(v any) string {
	if a, ok := v.([]any); ok && len(a) == 2 {
		return fmt.Sprint(a[1])
	}
	return ""
}
