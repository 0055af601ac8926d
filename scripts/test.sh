#!/usr/bin/env bash
# Runs every test of ovnrun: formatting, vet, unit and script tests, golden
# plans, integration tests against real daemons (which the tests start
# themselves), and a short fuzz run. Installs what the tests need first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
# ovnrun may reach only loopback from this machine's own network namespace
# (internal/dialguard): runbooks name real labs' addresses.
export OVNRUN_DIAL_GUARD=1

scripts/install-deps.sh
# libvirt and QEMU for the VM driver's tests and the lab with QEMU guests, and
# their guest (tests would build it too, if missing, but several at once).
scripts/install-virt-deps.sh
scripts/build-guest-kit.sh

unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go test -count=1 ./...
# A short fuzz run of runbook evaluation: any input may be refused, none may panic.
# Minimising each new input could take the whole budget (60 s each by default).
go test -run '^$' -fuzz '^FuzzEvaluate$' -fuzztime "${FUZZTIME:-15s}" -fuzzminimizetime 1s ./cmd/ovnrun
# The same for every reader of outside input (files, command output, the
# NB's messages): none may panic, each refusal names where it stopped.
# go test -fuzz takes one package and one target at a time.
for target in interp:FuzzReadJournal internal/remote:FuzzParseInventory \
	builtins/check:FuzzParseTraceSummary builtins/check:FuzzParseTables \
	builtins/check:FuzzPingSummary internal/ovsdbmodel:FuzzReplicaParse; do
	go test -run '^$' -fuzz "^${target#*:}\$" -fuzztime "${FUZZTIME_READERS:-4s}" -fuzzminimizetime 1s "./${target%%:*}"
done
