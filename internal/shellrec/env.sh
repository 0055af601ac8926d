# BASH_ENV of a script ovnrun convert records (internal/shellrec): before
# each command, export the line it is on, so a recorder can say where it was
# called from. Only the script itself sets the trap, not the recorders.
if [[ $0 == "$SHELLREC_SCRIPT_PATH" ]]; then
	set -o functrace
	trap 'export SHELLREC_LINE=$LINENO' DEBUG
fi
