# BASH_ENV of a script ovnrun convert records (internal/shellrec): before
# each command, export the line it is on, so a recorder can say where it was
# called from. Only the script itself sets the trap, not the recorders.
# $RANDOM is seeded before each command from a count of commands (bash
# seeds each subshell afresh otherwise), so a script converts the same way
# every time.
if [[ $0 == "$SHELLREC_SCRIPT_PATH" ]]; then
	__shellrec_n=0
	set -o functrace
	trap '__shellrec_n=$((__shellrec_n + 1)); RANDOM=$((__shellrec_n * 101 + BASH_SUBSHELL)); export SHELLREC_LINE=$LINENO' DEBUG
fi
