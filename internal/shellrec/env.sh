# BASH_ENV of a script ovnrun convert records (internal/shellrec): before
# each command, export the line it is on, so a recorder can say where it was
# called from. Only the script itself sets the trap, not the recorders.
# $RANDOM is seeded, so a script converts the same way every time.
if [[ $0 == "$SHELLREC_SCRIPT_PATH" ]]; then
	RANDOM=14
	set -o functrace
	trap 'export SHELLREC_LINE=$LINENO' DEBUG
fi
