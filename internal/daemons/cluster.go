package daemons

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NBCluster is a clustered (RAFT) Northbound database. Members talk RAFT
// over unix sockets, which need no port to be reserved in advance; clients
// reach each member on its own unix socket and an ephemeral 127.0.0.1 port.
type NBCluster struct {
	Members       []*Server
	SchemaVersion string
}

// StartNBCluster creates an n-member NB cluster (create-cluster on the
// first member, join-cluster on the others) and returns once every member
// has joined and one is leader. Options: WithSchema; members always get TCP.
func StartNBCluster(t testing.TB, n int, opts ...Option) *NBCluster {
	t.Helper()
	Require(t, "ovsdb-server", "ovsdb-tool", "ovs-appctl")
	if n < 1 {
		t.Fatalf("daemons: cluster of %d members", n)
	}
	c := newConfig(opts)
	dir := tempDir(t)
	cl := &NBCluster{}
	for i := range n {
		s := newServer(t, dir, fmt.Sprintf("s%d", i+1), c.schema)
		s.Raft = "unix:" + filepath.Join(dir, s.name+".raft")
		db := filepath.Join(dir, s.name+".db")
		var err error
		if i == 0 {
			_, err = run("ovsdb-tool", "create-cluster", db, c.schema, s.Raft)
		} else {
			_, err = run("ovsdb-tool", "join-cluster", db, s.DBName, s.Raft, cl.Members[0].Raft)
		}
		if err != nil {
			t.Fatalf("daemons: %v", err)
		}
		cl.Members = append(cl.Members, s)
	}
	cl.SchemaVersion = cl.Members[0].SchemaVersion
	for _, s := range cl.Members {
		s.serve(t, filepath.Join(dir, s.name+".db"), true)
	}
	for _, s := range cl.Members {
		waitFor(t, s.proc, s.name+" to join the cluster", func() error {
			_, err := s.clusterState()
			return err
		})
	}
	if _, err := cl.WaitLeader(readyTimeout); err != nil {
		t.Fatalf("daemons: %v", err)
	}
	return cl
}

// raftState is a member's view of itself from the _Server database.
type raftState struct {
	Leader bool
}

// clusterState reads the _Server row of the member's database; it fails
// until the member has joined and caught up with the cluster.
func (s *Server) clusterState() (raftState, error) {
	if s.proc.exited() {
		return raftState{}, errors.New(s.name + " is not running")
	}
	op := map[string]any{
		"op": "select", "table": "Database",
		"where":   [][]any{{"name", "==", s.DBName}},
		"columns": []string{"connected", "leader"},
	}
	var res []struct {
		Rows []struct{ Connected, Leader bool } `json:"rows"`
	}
	if err := call(s.Sock[len("unix:"):], "transact", []any{"_Server", op}, &res); err != nil {
		return raftState{}, err
	}
	if len(res) != 1 || len(res[0].Rows) != 1 {
		return raftState{}, fmt.Errorf("%s: unexpected _Server answer %+v", s.name, res)
	}
	if !res[0].Rows[0].Connected {
		return raftState{}, fmt.Errorf("%s not connected to the cluster", s.name)
	}
	return raftState{Leader: res[0].Rows[0].Leader}, nil
}

// Leader returns the index in Members of the current leader among the
// running members, or an error while there is none (during an election).
func (c *NBCluster) Leader() (int, error) {
	for i, s := range c.Members {
		if st, err := s.clusterState(); err == nil && st.Leader {
			return i, nil
		}
	}
	return -1, errors.New("cluster has no leader")
}

// WaitLeader waits until a running member is leader and returns its index.
func (c *NBCluster) WaitLeader(timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		i, err := c.Leader()
		if err == nil || time.Now().After(deadline) {
			return i, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// KillLeader kills the current leader with SIGKILL, waits until its process
// is gone, and returns its index. The others elect a new leader after the
// election timer (1 s by default); WaitLeader waits for that.
func (c *NBCluster) KillLeader() (int, error) {
	i, err := c.Leader()
	if err != nil {
		return -1, err
	}
	c.Members[i].Kill()
	return i, nil
}

// ClusterStatus returns `ovs-appctl cluster/status` of member i, for logs.
func (c *NBCluster) ClusterStatus(i int) (string, error) {
	s := c.Members[i]
	return run("ovs-appctl", "-t", s.Ctl, "cluster/status", s.DBName)
}

// Endpoints returns the unix endpoints of all members, dead or alive, as a
// client configured with the whole cluster would have them.
func (c *NBCluster) Endpoints() []string {
	var eps []string
	for _, s := range c.Members {
		eps = append(eps, s.Sock)
	}
	return eps
}

// TCPEndpoints returns the TCP endpoints of all members.
func (c *NBCluster) TCPEndpoints() []string {
	var eps []string
	for _, s := range c.Members {
		eps = append(eps, s.TCP)
	}
	return eps
}

// NBCtl runs ovn-nbctl against the cluster; ovn-nbctl finds the leader.
func (c *NBCluster) NBCtl(args ...string) (string, error) {
	db := "--db=" + strings.Join(c.Endpoints(), ",")
	return run("ovn-nbctl", append([]string{db, "--timeout=20"}, args...)...)
}
