#!/usr/bin/env bash
# kill-trials.sh runs the seed in the emulated lab, kills it with SIGKILL at a
# random moment of the whole run, resumes it, and compares the lab with an
# uninterrupted run's; TRIALS times (default 200). It reports each trial that
# differed and, at the end, how many did. Not part of CI: 200 trials take
# about 20 minutes. Run it as root after scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
export OVNRUN_DIAL_GUARD=1
export OVNRUN_KILL_TRIALS="${TRIALS:-200}"
exec go test -count=1 -v -timeout 4h -run '^TestLabKilledSeedResumes$' ./cmd/ovnrun
