# Runs inside new mount, network and PID namespaces (internal/shellrec):
# the record directory stays writable, every other mount becomes read-only,
# and there is no network, so a script can change nothing outside its
# directory and reach nothing, whatever it runs that no recorder shadows.
set -e
mount --bind "$SHELLREC_DIR" "$SHELLREC_DIR"
while read -r _ target _; do
	[[ $target == "$SHELLREC_DIR" || $target == *\\* ]] && continue
	mount -o remount,bind,ro "$target" 2>/dev/null || true
done </proc/self/mounts
cd "$SHELLREC_WORK"
set +e
PATH=$SHELLREC_PATH exec bash "$SHELLREC_SCRIPT_PATH"
