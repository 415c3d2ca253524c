# check.sh: the one way a twinbench test script reports, sourced by tests/host/*.sh and
# tests/vm/*.sh (in the guest it is /twinbench/lib/check.sh). Every check prints one line,
# "ok - WHAT" or "not ok - WHAT", which tests/run.sh counts; the script ends with `finish`,
# whose status is non-zero when any check failed.
# Every script declares up front how many checks it will make with `plan N` (printed as the
# TAP plan "1..N"). tests/run.sh fails a script that prints no plan or whose count of
# ok / not ok lines differs from it, so a section that silently stops running fails too.
# shellcheck shell=bash
fails=0 checks=0 planned=""
# plan N: this script makes exactly N checks (N computed from what the script is meant to
# cover, never from what it happened to find).
plan() {
	[ -z "$planned" ] || { not_ok "plan declared once (again: $1)"; return; }
	planned=$1
	echo "1..$1"
}
ok() { checks=$((checks + 1)); echo "ok - $*"; }
not_ok() { checks=$((checks + 1)); echo "not ok - $*"; fails=$((fails + 1)); }
# skip WHAT WHY: a check that cannot run here; counts against the plan, not as a pass.
skip() { checks=$((checks + 1)); echo "ok - $1 # SKIP $2"; }
# check WHAT COMMAND...: run COMMAND; its status decides WHAT's line.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
# replay FILE: count the check lines that a section run in the background (whose own counts
# died with its subshell) wrote to FILE, and print its other lines.
replay() {
	local l
	while IFS= read -r l; do
		case $l in
		"ok - "*) ok "${l#ok - }" ;;
		"not ok - "*) not_ok "${l#not ok - }" ;;
		*) echo "$l" ;;
		esac
	done <"$1"
}
finish() {
	[ -n "$planned" ] && [ "$checks" != "$planned" ] &&
		echo "# $checks checks made, $planned planned"
	[ "$fails" = 0 ]
}
