#!/usr/bin/env bash
# seed-lab.sh runs the seed lab end to end on this machine, with no lab
# hardware: on a fresh Debian or Ubuntu machine, as root, it installs what
# ovnrun needs (scripts/install-deps.sh), builds ovnrun, brings up an emulated
# lab for runbooks/dgp.star (network namespaces with sshd, Open vSwitch and
# OVN; namespace VMs), applies the runbook to it, printing the plan, the
# progress of each step with its timing and the pings' results, and tears the
# lab down. Another runbook can be given as the first argument;
# SEED_LAB_KEEP=1 keeps the lab up afterwards (ovnrun lab down removes it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
runbook=${1:-runbooks/dgp.star}

if ((EUID != 0)); then
	echo "seed-lab: run me as root: the lab is made of network namespaces" >&2
	exit 1
fi
scripts/install-deps.sh
if ! command -v go >/dev/null; then
	echo "seed-lab: no Go toolchain on PATH: install Go $(sed -n 's/^go //p' go.mod) or later" >&2
	exit 1
fi
go build -o ovnrun ./cmd/ovnrun

./ovnrun lab down "$runbook" >/dev/null # what an interrupted earlier run left
if [[ "${SEED_LAB_KEEP:-}" != 1 ]]; then
	trap './ovnrun lab down "$runbook"' EXIT
fi
./ovnrun --lab "$runbook"
