package virt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/ovnrun/ovnrun/internal/poll"
	"github.com/ovnrun/ovnrun/internal/remote"
)

// Commands through QEMU's guest agent (qemu-ga), which stock cloud images
// install as qemu-guest-agent: libvirt relays the agent's JSON commands
// (virDomainQemuAgentCommand), guest-exec starts the command with its
// output captured and guest-exec-status is polled until it has exited.
// Every domain the driver defines has the agent's channel; a guest that
// runs the agent is reached this way before ovnrun's own channel.

// GuestAgentChannel is the virtio-serial port qemu-ga serves.
const GuestAgentChannel = "org.qemu.guest_agent.0"

// agentWait bounds one agent command as libvirt waits for its answer, in
// seconds.
const agentWait = 10

// agentCommand is one request of the agent's protocol.
type agentCommand struct {
	Execute   string `json:"execute"`
	Arguments any    `json:"arguments"`
}

type guestExecArgs struct {
	Path          string   `json:"path"`
	Arg           []string `json:"arg"`
	CaptureOutput bool     `json:"capture-output"`
}

// guestExecStatus is guest-exec-status's answer.
type guestExecStatus struct {
	Exited   bool   `json:"exited"`
	ExitCode *int   `json:"exitcode"`
	Signal   *int   `json:"signal"`
	OutData  string `json:"out-data"`
	ErrData  string `json:"err-data"`
}

// agentRequest encodes a command for QEMUDomainAgentCommand.
func agentRequest(execute string, args any) string {
	b, _ := json.Marshal(agentCommand{Execute: execute, Arguments: args})
	return string(b)
}

// agentExec runs argv in the guest of dom through its agent and fills res;
// it returns when the command has exited or ctx ends (the command then
// goes on in the guest: the agent cannot stop it).
func (h *hostState) agentExec(ctx context.Context, dom libvirt.Domain, argv []string, res *remote.Result) error {
	return runThroughAgent(ctx, func(req string, v any) error { return h.agent(ctx, dom, req, v) }, argv, res)
}

// runThroughAgent runs argv with guest-exec, polls guest-exec-status
// until it has exited, and fills res; ask sends one agent command.
func runThroughAgent(ctx context.Context, ask func(req string, v any) error, argv []string, res *remote.Result) error {
	var started struct {
		Return struct {
			PID int `json:"pid"`
		} `json:"return"`
	}
	req := agentRequest("guest-exec", guestExecArgs{Path: argv[0], Arg: append([]string{}, argv[1:]...), CaptureOutput: true})
	if err := ask(req, &started); err != nil {
		return err
	}
	var st struct {
		Return guestExecStatus `json:"return"`
	}
	status := agentRequest("guest-exec-status", map[string]int{"pid": started.Return.PID})
	err := poll.Until(ctx, time.Hour, pollEvery, func() (bool, error) {
		err := ask(status, &st)
		return err == nil && st.Return.Exited, err
	})
	if err != nil {
		return err
	}
	return decodeExecStatus(st.Return, res)
}

// decodeExecStatus fills res from the status of an exited command.
func decodeExecStatus(st guestExecStatus, res *remote.Result) error {
	out, err1 := base64.StdEncoding.DecodeString(st.OutData)
	errOut, err2 := base64.StdEncoding.DecodeString(st.ErrData)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("guest agent: bad output encoding: %w", err)
	}
	res.Stdout, res.Stderr = string(out), string(errOut)
	switch {
	case st.Signal != nil:
		res.Status, res.Signal = -1, fmt.Sprintf("signal %d", *st.Signal)
	case st.ExitCode != nil:
		res.Status = *st.ExitCode
	default:
		return fmt.Errorf("guest agent: the command exited with neither a status nor a signal")
	}
	return nil
}

// agent sends one command to the guest's agent and decodes its answer
// into v.
func (h *hostState) agent(ctx context.Context, dom libvirt.Domain, req string, v any) error {
	var answer libvirt.OptString
	err := h.do(ctx, func(l *libvirt.Libvirt) error {
		var err error
		answer, err = l.QEMUDomainAgentCommand(dom, req, agentWait, 0)
		return err
	})
	return decodeAgentAnswer(answer, err, v)
}

// decodeAgentAnswer decodes the answer of an agent command into v.
func decodeAgentAnswer(answer libvirt.OptString, err error, v any) error {
	if err != nil {
		return fmt.Errorf("guest agent: %w", err)
	}
	if len(answer) == 0 {
		return fmt.Errorf("guest agent: no answer")
	}
	if err := json.Unmarshal([]byte(answer[0]), v); err != nil {
		return fmt.Errorf("guest agent: unreadable answer %q: %w", firstLine(answer[0]), err)
	}
	return nil
}
