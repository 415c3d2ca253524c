#!/bin/bash
# bpf-perf.sh: twinperf on the host. Checks: bad options are refused with one line; the
# command's exit status comes back; task-clock over a shell and the shell it starts agrees
# with the kernel's own CPU accounting of both (/proc/PID/stat utime+stime+cutime+cstime,
# in clock ticks: tolerance 10 % + 3 ticks), so children are counted; a sleeping command
# switches context and costs little CPU; cycles/instructions are reported available exactly
# when `perf stat` can count instructions.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
plan 6
. "$(dirname "$0")/../lib/need.sh"
need jq perf || exit 1

top=$(cd "$(dirname "$0")/../.." && pwd)
tool=$top/bpf/twinperf
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

holds() { jq -e "$1" "$2" >/dev/null; }

if [ ! -x "$tool" ]; then
	make -C "$top/bpf" >/dev/null || { not_ok "bpf/twinperf builds"; exit 1; }
fi

"$tool" -o "$work/x.json" -e cycles,bogus -- true 2>"$work/err"
check "an unknown -e event is refused with one line naming it" \
	test $? = 2 -a "$(wc -l <"$work/err")" = 1 -a -n "$(grep bogus "$work/err")"
"$tool" -- true 2>"$work/err"
check "a missing -o is refused" test $? = 2 -a -n "$(grep -- '-o' "$work/err")"

"$tool" -o "$work/exit.json" -- sh -c 'exit 7'
rc=$?
check "the command's exit status (7) comes back and is recorded" \
	test $rc = 7 -a "$(jq .exit_status "$work/exit.json")" = 7

json=$work/busy.json
"$tool" -o "$json" -- sh -c 'sh -c "i=0; while [ \$i -lt 300000 ]; do i=\$((i + 1)); done"
	cat /proc/$$/stat' >"$work/stat"
hz=$(getconf CLK_TCK)
ticks=$(awk '{ print $14 + $15 + $16 + $17 }' "$work/stat")
clock=$(jq '.counters["task-clock"].value' "$json")
got=$((clock * hz / 1000000000))
check "task-clock over a shell and its child ($got ticks) matches /proc accounting ($ticks)" \
	test "$got" -ge $((ticks * 9 / 10 - 3)) -a "$got" -le $((ticks * 11 / 10 + 3)) -a "$ticks" -gt 10

json=$work/sleep.json
"$tool" -o "$json" -e task-clock,context-switches,page-faults -- sleep 0.3
check "a 0.3 s sleep: >= 1 context switch, < 50 ms task-clock, >= 0.3 s wall, page faults" \
	holds '.counters["context-switches"].value >= 1 and
		.counters["task-clock"].value < 50000000 and .wall_ns >= 300000000 and
		.counters["page-faults"].value > 0 and (.counters | length) == 3' "$json"

"$tool" -o "$work/hw.json" -e cycles,instructions -- true
if perf stat -x, -e instructions true 2>&1 | grep -q 'not supported'; then
	check "no PMU here (perf says so): cycles and instructions are listed unavailable" \
		holds '[.unavailable[].event] == ["cycles", "instructions"]' "$work/hw.json"
else
	check "a PMU here (perf counts instructions): twinperf counts them too" \
		holds '.counters.instructions.value > 0 and .counters.cycles.value > 0' "$work/hw.json"
fi

finish
