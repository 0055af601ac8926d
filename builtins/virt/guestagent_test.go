package virt

import (
	"encoding/json"
	"testing"

	"github.com/ovnrun/ovnrun/internal/remote"
)

// TestGuestAgentProtocol: guest-exec carries every argument as given
// (empty ones, spaces, newlines) and asks for the output; an exited
// command's status decodes into a result, a signal into Signal.
func TestGuestAgentProtocol(t *testing.T) {
	argv := []string{"sh", "-c", "echo $1", "", "a b\nc"}
	req := agentRequest("guest-exec", guestExecArgs{Path: argv[0], Arg: argv[1:], CaptureOutput: true})
	var got struct {
		Execute   string
		Arguments map[string]any
	}
	if err := json.Unmarshal([]byte(req), &got); err != nil {
		t.Fatal(err)
	}
	args, _ := got.Arguments["arg"].([]any)
	if got.Execute != "guest-exec" || got.Arguments["path"] != "sh" || got.Arguments["capture-output"] != true || len(args) != 4 || args[3] != "a b\nc" || args[2] != "" {
		t.Errorf("request %s", req)
	}

	var st struct {
		Return guestExecStatus `json:"return"`
	}
	for _, tc := range []struct {
		answer string
		want   remote.Result
		err    bool
	}{
		{`{"return":{"exited":true,"exitcode":2,"out-data":"b3V0","err-data":"ZXJyCg=="}}`, remote.Result{Status: 2, Stdout: "out", Stderr: "err\n"}, false},
		{`{"return":{"exited":true,"exitcode":0}}`, remote.Result{}, false},
		{`{"return":{"exited":true,"signal":9}}`, remote.Result{Status: -1, Signal: "signal 9"}, false},
		{`{"return":{"exited":true,"exitcode":0,"out-data":"!"}}`, remote.Result{}, true},
		{`{"return":{"exited":true}}`, remote.Result{}, true},
	} {
		st.Return = guestExecStatus{}
		if err := json.Unmarshal([]byte(tc.answer), &st); err != nil {
			t.Fatal(err)
		}
		var res remote.Result
		err := decodeExecStatus(st.Return, &res)
		if (err != nil) != tc.err || (!tc.err && res != tc.want) {
			t.Errorf("%s: %+v, %v; want %+v (error %v)", tc.answer, res, err, tc.want, tc.err)
		}
	}
}
