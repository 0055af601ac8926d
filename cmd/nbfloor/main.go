// Command nbfloor is the libovsdb side of cmd/nbbench (docs/speed.md): what
// libovsdb's own client takes for the bench's workload, for ovnrun to be
// measured against. It connects with libovsdb's client and a model made by
// libovsdb's modelgen (package nbmodel), and does one of:
//
//	insert     send one hand-built transaction inserting the workload's rows,
//	           with no monitor: the floor of an apply from an empty NB
//	read-diff  monitor the tables and columns ovnrun reads, wait for the
//	           initial dump and compare it with the workload's rows built in
//	           memory: what a no-op re-run or a dry-run cannot go below
//
// The rows are those ovnrun writes for the bench's runbook, ownership tags
// included; nbbench checks that the NB ends the same.
//
//	nbfloor -nb unix:PATH [-switches 1000] [-ports 10] [-owner scale.star] insert|read-diff
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/ovnrun/ovnrun/cmd/nbfloor/nbmodel"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nbfloor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nb := fs.String("nb", "", "NB endpoint (unix:PATH, tcp:IP:PORT)")
	switches := fs.Int("switches", 1000, "logical switches")
	ports := fs.Int("ports", 10, "ports per switch (at most 256)")
	owner := fs.String("owner", "scale.star", "value of the ovnrun:runbook tag, as ovnrun writes it")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || *nb == "" || *switches < 1 || *switches > 65536 || *ports < 1 || *ports > 256 {
		fmt.Fprintln(stderr, "nbfloor: usage: nbfloor -nb ENDPOINT [-switches N] [-ports N] [-owner TAG] insert|read-diff")
		return 2
	}
	mode := fs.Arg(0)
	if mode != "insert" && mode != "read-diff" {
		fmt.Fprintf(stderr, "nbfloor: unknown mode %q: want insert or read-diff\n", mode)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	w := newWorkload(*switches, *ports, *owner)
	start := time.Now()
	c, err := connect(ctx, *nb)
	if err != nil {
		fmt.Fprintf(stderr, "nbfloor: %v\n", err)
		return 1
	}
	defer c.Close()
	connected := time.Since(start)
	var report string
	if mode == "insert" {
		report, err = insert(ctx, c, w)
	} else {
		report, err = readDiff(ctx, c, w)
	}
	if err != nil {
		fmt.Fprintf(stderr, "nbfloor %s: %v\n", mode, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s; connect %s\n", report, ms(connected))
	return 0
}

// connect opens libovsdb's client on one endpoint: no leader search (which
// would monitor _Server), no reconnect, no monitor yet.
func connect(ctx context.Context, endpoint string) (client.Client, error) {
	dbModel, err := nbmodel.FullDatabaseModel()
	if err != nil {
		return nil, err
	}
	c, err := client.NewOVSDBClient(dbModel, client.WithEndpoint(endpoint), client.WithLeaderOnly(false))
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", endpoint, err)
	}
	return c, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond)) }
