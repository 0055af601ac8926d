package daemons

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// Server is one ovsdb-server serving one database (standalone or a member
// of a RAFT cluster).
type Server struct {
	Sock          string // client endpoint, "unix:/abs/dir/NAME.sock"
	TCP           string // "tcp:127.0.0.1:PORT", when enabled
	SSL           string // "ssl:127.0.0.1:PORT", when enabled (WithSSL)
	PKI           *PKI   // the certificates of SSL
	Dir           string // directory of its files (shared with the other daemons of a Central or cluster)
	Ctl           string // absolute path of its unixctl socket, for ovs-appctl -t
	Log           string // its log file
	DBName        string // "OVN_Northbound", "OVN_Southbound"
	SchemaVersion string // version of the schema the database was created from
	Raft          string // RAFT address ("unix:..."), for cluster members only

	name string // file name stem in Dir: NAME.db, NAME.sock, NAME.log
	proc *process
}

// NB is the Northbound server StartNB returns.
type NB = Server

// Option configures StartNB, StartCentral and StartNBCluster.
type Option func(*config)

type config struct {
	schema string // NB schema
	tcp    bool
	ssl    bool
}

// WithSchema creates the NB database from the schema file at path instead
// of the installed one, e.g. to test against another OVN version.
func WithSchema(path string) Option { return func(c *config) { c.schema = path } }

// WithTCP also listens on an ephemeral TCP port on 127.0.0.1 (Server.TCP).
func WithTCP() Option { return func(c *config) { c.tcp = true } }

// WithSSL makes StartNB listen on an ephemeral SSL port on 127.0.0.1
// (Server.SSL) with certificates of a new PKI (Server.PKI). It excludes
// WithTCP: the server logs both ports alike.
func WithSSL() Option { return func(c *config) { c.ssl = true } }

func newConfig(opts []Option) config {
	c := config{schema: DefaultNBSchema}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// StartNB starts a standalone Northbound ovsdb-server with an empty database
// and returns once it answers JSON-RPC. It is stopped at test cleanup.
func StartNB(t testing.TB, opts ...Option) *NB {
	t.Helper()
	c := newConfig(opts)
	dir := tempDir(t)
	if !c.ssl {
		return startStandalone(t, dir, "nb", c.schema, c.tcp, nil)
	}
	if c.tcp {
		t.Fatal("daemons: WithSSL and WithTCP together")
	}
	return startStandalone(t, dir, "nb", c.schema, false, NewPKI(t, filepath.Join(dir, "pki")))
}

// startStandalone creates DIR/NAME.db from schema and serves it.
func startStandalone(t testing.TB, dir, name, schema string, tcp bool, pki *PKI) *Server {
	t.Helper()
	Require(t, "ovsdb-server", "ovsdb-tool")
	db := filepath.Join(dir, name+".db")
	if _, err := run("ovsdb-tool", "create", db, schema); err != nil {
		t.Fatalf("daemons: %v", err)
	}
	s := newServer(t, dir, name, schema)
	s.PKI = pki
	s.serve(t, db, tcp)
	return s
}

func newServer(t testing.TB, dir, name, schema string) *Server {
	t.Helper()
	dbName, version, err := schemaInfo(schema)
	if err != nil {
		t.Fatalf("daemons: %v", err)
	}
	return &Server{
		name:          name,
		Sock:          "unix:" + filepath.Join(dir, name+".sock"),
		Dir:           dir,
		Ctl:           filepath.Join(dir, name+".ctl"),
		Log:           filepath.Join(dir, name+".log"),
		DBName:        dbName,
		SchemaVersion: version,
	}
}

// serve runs ovsdb-server on db and waits until it lists the database.
func (s *Server) serve(t testing.TB, db string, tcp bool) {
	t.Helper()
	args := []string{
		"--remote=p" + s.Sock,
		"--unixctl=" + s.Ctl,
		"--log-file=" + s.Log,
		"-vconsole:off", "-vsyslog:off",
	}
	if tcp {
		// Port 0 lets the kernel pick a free port with no race; the server
		// logs the port it got.
		args = append(args, "--remote=ptcp:0:127.0.0.1")
	}
	if s.PKI != nil {
		args = append(args, "--remote=pssl:0:127.0.0.1", "--private-key="+s.PKI.ServerKey,
			"--certificate="+s.PKI.ServerCert, "--ca-cert="+s.PKI.ClientCA)
	}
	s.proc = start(t, s.Dir, s.name, s.Log, "ovsdb-server", append(args, db)...)
	sock := s.Sock[len("unix:"):]
	waitFor(t, s.proc, s.DBName+" on "+s.Sock, func() error {
		var dbs []string
		if err := call(sock, "list_dbs", []any{}, &dbs); err != nil {
			return err
		}
		for _, d := range dbs {
			if d == s.DBName {
				return nil
			}
		}
		return fmt.Errorf("%s not in %v", s.DBName, dbs)
	})
	if s.PKI != nil {
		waitFor(t, s.proc, "SSL port of "+s.name, func() error {
			port, err := listeningPort(s.Log)
			if err == nil {
				s.SSL = "ssl:127.0.0.1:" + port
			}
			return err
		})
	}
	if tcp {
		waitFor(t, s.proc, "TCP port of "+s.name, func() error {
			port, err := listeningPort(s.Log)
			if err == nil {
				s.TCP = "tcp:127.0.0.1:" + port
			}
			return err
		})
	}
}

var portRE = regexp.MustCompile(`listening on port (\d+)`)

// listeningPort finds the port ovsdb-server logged for its ptcp:0 remote
// (the OVS test suite reads it the same way).
func listeningPort(log string) (string, error) {
	data, err := os.ReadFile(log)
	if err != nil {
		return "", err
	}
	m := portRE.FindSubmatch(data)
	if m == nil {
		return "", fmt.Errorf("no listening port in %s yet", log)
	}
	return string(m[1]), nil
}

// Stop shuts the server down and waits until the process is gone. Cleanup
// calls it too; calling it twice is harmless.
func (s *Server) Stop() { s.proc.stop() }

// Kill ends the server with SIGKILL, like a crash, and waits until the
// process is gone.
func (s *Server) Kill() {
	if !s.proc.exited() {
		s.proc.kill()
	}
}

// Alive reports whether the server process is still running.
func (s *Server) Alive() bool { return !s.proc.exited() }

// Restart kills a standalone server, as a crash would, and starts it again
// on the same database and socket (without a TCP or SSL remote), returning
// once it answers: for tests of clients that must survive their server
// restarting.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Kill()
	// Without SSL: its log names the old port, so a new one could not be told apart.
	pki := s.PKI
	s.PKI, s.SSL = nil, ""
	s.serve(t, filepath.Join(s.Dir, s.name+".db"), false)
	s.PKI = pki
}
