package nbimport

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/ovnrun/ovnrun/internal/daemons"
)

// BenchmarkImport10kSwitches imports an NB of 10,000 switches with 10 ports
// each (110,000 rows), from reading the NB to the runbook's text. The target
// is under 5 s: go test ./builtins/ovn/nbimport -run '^$' -bench Import -benchtime 3x
func BenchmarkImport10kSwitches(b *testing.B) {
	daemons.Require(b, "ovsdb-server", "ovsdb-tool", "ovsdb-client")
	nb := daemons.StartNB(b)
	// Transactions of 50 switches (a command line holds no more) by ovsdb-client: ovn-nbctl would take minutes.
	for first := 0; first < 10000; first += 50 {
		transact(b, nb.Sock, first, first+50)
	}
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		text, err := Import(context.Background(), nb.Sock, Options{Source: nb.Sock})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(text)), "bytes/import")
		b.Logf("import of 110,000 rows: %v", time.Since(start).Round(time.Millisecond))
	}
}

// transact inserts switches first to end-1, 10 ports each.
func transact(b *testing.B, sock string, first, end int) {
	ops := []any{"OVN_Northbound"}
	for s := first; s < end; s++ {
		var ports []any
		for p := range 10 {
			id := fmt.Sprintf("p%d_%d", s, p)
			ports = append(ports, []any{"named-uuid", id})
			ops = append(ops, map[string]any{"op": "insert", "table": "Logical_Switch_Port", "uuid-name": id,
				"row": map[string]any{"name": fmt.Sprintf("sw%d-p%d", s, p),
					"addresses": fmt.Sprintf("0a:00:%02x:%02x:%02x:%02x 10.%d.%d.%d", s>>16&255, s>>8&255, s&255, p, s>>8&255, s&255, p+2)}})
		}
		ops = append(ops, map[string]any{"op": "insert", "table": "Logical_Switch",
			"row": map[string]any{"name": fmt.Sprintf("sw%d", s), "ports": []any{"set", ports}}})
	}
	txn, _ := json.Marshal(ops)
	if out, err := exec.Command("ovsdb-client", "transact", sock, string(txn)).CombinedOutput(); err != nil {
		b.Fatalf("ovsdb-client transact: %v: %.500s", err, out)
	}
}
