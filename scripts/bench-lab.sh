#!/usr/bin/env bash
# The lab at scale (docs/speed.md, "Lab at scale"): runbooks/scale.star with N hypervisors, from
# nothing to verified pings, then `ovnrun lab down`. As root. Usage: scripts/bench-lab.sh [N...]
# (default 8 16 32 64 128). Prints each run's step timings and one table row per N: wall time,
# the machine's peak memory in use (MemTotal - MemAvailable, sampled every 0.2 s, minus what was
# in use before), the lab's processes' RSS at the end, ovnrun's own peak RSS, and the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(8 16 32 64 128)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/ovnrun" ./cmd/ovnrun
runbook=runbooks/scale.star

used_kb() { awk '/^MemTotal:/ {t=$2} /^MemAvailable:/ {a=$2} END {print t - a}' /proc/meminfo; }

# lab_rss_kb: the RSS of every process in the lab's namespaces.
lab_rss_kb() {
	local sum=0 p ns
	for p in /proc/[0-9]*; do
		ns=$(ip netns identify "${p#/proc/}" 2>/dev/null) || continue
		case $ns in ovnrun-scale | ovnrun-scale-*) ;; *) continue ;; esac
		sum=$((sum + $(awk '/^VmRSS:/ {print $2}' "$p/status" 2>/dev/null || echo 0)))
	done
	echo $sum
}

rows=()
for n in "${sizes[@]}"; do
	"$bin/ovnrun" lab down "$runbook" >/dev/null 2>&1 || true
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	base=$(used_kb)
	peakf=$(mktemp)
	echo "$base" >"$peakf"
	(
		peak=$base
		while sleep 0.2; do
			u=$(used_kb)
			[ "$u" -le "$peak" ] || { peak=$u; echo "$peak" >"$peakf"; }
		done
	) &
	sampler=$!
	echo "== n=$n (load $load0)"
	start=$(date +%s.%N)
	status=ok
	/usr/bin/time -f "%M" -o "$bin/rss" "$bin/ovnrun" --lab -D "n=$n" "$runbook" >"$bin/out" 2>&1 || status=FAILED
	wall=$(echo "$(date +%s.%N) - $start" | bc)
	labrss=$(lab_rss_kb)
	kill "$sampler"
	wait "$sampler" 2>/dev/null || true
	sed -n '/^Timing:/,$p' "$bin/out"
	[ $status = ok ] || tail -20 "$bin/out"
	"$bin/ovnrun" lab down "$runbook"
	rows+=("$(printf '| %d | %d | %.1f s | %s | %d MB | %d MB | %d MB | %s |' "$n" $((2 * n)) "$wall" "$status" \
		$((($(cat "$peakf") - base) / 1024)) $((labrss / 1024)) $(($(tail -1 "$bin/rss") / 1024)) "$load0")")
	rm -f "$peakf"
done
echo
echo "| hypervisors | VMs | from nothing to verified pings | result | machine memory, peak | lab's processes | ovnrun | load before |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
