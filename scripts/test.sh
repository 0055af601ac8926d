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
# Short fuzz runs, bounded by a count of executions, not a duration: Go 1.26's
# fuzz coordinator can fail a run whose -fuzztime deadline fires while a worker
# is busy ("context deadline exceeded", no crasher; golang/go#75804, fixed in
# Go 1.27). Counts are about 15 s (evaluation) and 4 s (each reader) of
# executions on this 2-core machine kind; FUZZSCALE multiplies them.
# Minimising each new input could take the whole budget (60 s each by
# default), hence -fuzzminimizetime.
scale=${FUZZSCALE:-1}
fuzz() { # PACKAGE TARGET EXECUTIONS
	# go test -fuzz passes, fuzzing nothing, when the target is not there.
	if ! go test -list "^$2\$" "./$1" | grep -x "$2" >/dev/null; then
		echo "test.sh: no fuzz target $2 in ./$1" >&2
		return 1
	fi
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$(($3 * scale))x" -fuzzminimizetime 1s "./$1"
}
# Runbook evaluation: any input may be refused, none may panic.
fuzz cmd/ovnrun FuzzEvaluate 30000
# Every reader of outside input (files, command output, the NB's messages):
# none may panic, each refusal names where it stopped.
fuzz engine FuzzReadJournal 30000
fuzz internal/remote FuzzParseInventory 30000
fuzz builtins/check FuzzParseTraceSummary 30000
fuzz builtins/check FuzzParseTables 8000
fuzz builtins/check FuzzPingSummary 30000
fuzz internal/ovsdbmodel FuzzReplicaParse 24000
fuzz builtins/ovn/ovnmatch FuzzParse 24000
