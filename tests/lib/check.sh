# check.sh: the one way a twinbench test script reports, sourced by tests/host/*.sh and
# tests/vm/*.sh (in the guest it is /twinbench/lib/check.sh). Every check prints one line,
# "ok - WHAT" or "not ok - WHAT", which tests/run.sh counts; the script ends with `finish`,
# whose status is non-zero when any check failed.
# shellcheck shell=bash
fails=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; fails=$((fails + 1)); }
# check WHAT COMMAND...: run COMMAND; its status decides WHAT's line.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() { [ "$fails" = 0 ]; }
