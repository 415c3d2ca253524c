#!/bin/bash
# faults.sh: how twinbench runs fail on a user's machine, and what the user then sees.
# Three small icount runs go side by side, each in its own VM:
#  A: kill -9 of the runner mid-run leaves no VM; a locked run folder and a wall-clock run
#     beside a running one are refused; --resume takes over the stale lock and completes
#     with no duplicate sample.
#  B: a results folder on a small tmpfs that fills up mid-run: the first error line names
#     ENOSPC, the finished samples stay, --resume completes once space is freed.
#  C: a guest sample that never returns (TWINBENCH_TEST_HANG): the watchdog stops the VM,
#     marks that sample invalid with the console tail, and the rest runs in a fresh boot.
# Plus, before any VM: a results folder too small for the plan is refused up front.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
# Checks: the small-disk refusal 3, two runs at once 3, kill -9 and resume 9, full disk 5,
# the hung guest 8.
plan 28
top=$(cd "$(dirname "$0")/../.." && pwd)
tb=$top/bench/twinbench
work=$(mktemp -d)
mounts=()
cleanup() {
	local pids
	pids=$(jobs -p)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	wait 2>/dev/null
	for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
# The machine lock and run entries of this test only: other runs on this machine are
# not this test's business (and must not make it wait).
export TWINBENCH_LOCK_DIR=$work/locks

# samples_in DIR: finished sample files of the run folder DIR.
samples_in() { ls "$1"/samples/[0-9]*.csv 2>/dev/null | wc -l; }
# wait_for SECONDS COMMAND...: poll COMMAND every 0.2 s; false after SECONDS.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}
has_samples() { [ "$(samples_in "$1")" -ge "$2" ]; }
no_vm() { ! pgrep -f "qemu-system.*path=$1," >/dev/null && ! pgrep -f "vm-run.sh --share $1 " >/dev/null; }
# first_problem FILE: the first line of a run's output that is not routine progress.
first_problem() {
	grep -v -E '^twinbench run: ((vm|host) mode|[0-9]+ samples(,| \()|building the guest|booting the VM|[0-9]+/[0-9]+ samples,)|^  (\(per sample|measured on [0-9]+ cores)' "$1" | head -n 1
}
# lists_runs RUN A B: RUN's manifest records runs A and B as run beside it.
lists_runs() {
	jq -e --arg a "$2" --arg b "$3" \
		'[.concurrent_runs[].run] | index($a) != null and index($b) != null' \
		"$1/manifest.json" >/dev/null
}
# valid_iops FILE: rows of samples.csv with a valid iops value.
valid_iops() { awk -F, '$6 == "iops" && $9 == 1' "$1" | wc -l; }
mount_tmpfs() {
	mkdir -p "$2"
	mount -t tmpfs -o "size=$1" twinbench-faults "$2" && mounts+=("$2")
}

matrix() {
	cat <<INI
[run]
samples = 2
ios = 4000
warmup_ios = 400
timeout = $1

[family null]
arms = null_blk rawnull

[workload randread-4k-qd1]
family = null
rw = randread
bs = 4k
iodepth = 1
INI
}
matrix 60 >"$work/small.ini"
matrix 20 >"$work/hang.ini"

# A results folder too small for the plan is refused before anything runs.
mount_tmpfs 1M "$work/tiny"
"$tb" run --matrix "$work/small.ini" --mode vm --results "$work/tiny" >"$work/tiny.out" 2>&1
rc=$?
check "a results folder with too little space is refused (exit $rc, 2)" [ "$rc" = 2 ]
check "the refusal says how much is free and how much the plan writes: $(head -n 1 "$work/tiny.out")" \
	grep -q -E "tiny: [0-9.]+ MiB free; the 4 samples to run write about [0-9.]+ MiB" "$work/tiny.out"
check "nothing was made in it" [ -z "$(ls "$work/tiny")" ]

# Start the three runs.
"$tb" run --matrix "$work/small.ini" --mode vm --results "$work/a" >"$work/a.out" 2>&1 &
pid_a=$!
wait_for 60 test -e "$work/a/latest"
run_a=$(readlink -f "$work/a/latest")
mount_tmpfs 40M "$work/full"
"$tb" run --matrix "$work/small.ini" --mode vm --results "$work/full" >"$work/b.out" 2>&1 &
pid_b=$!
# B: the disk fills up once the first sample is there.
(
	wait_for 60 test -e "$work/full/latest" &&
		wait_for 900 has_samples "$(readlink -f "$work/full/latest")" 1 &&
		dd if=/dev/zero of="$work/full/filler" bs=1M 2>/dev/null
	date +%s >"$work/filled-at"
) &
filler=$!
hang=$("$tb" check --matrix "$work/hang.ini" --seed 7 | awk '$1 ~ /^[0-9]+$/ { n++ } n == 2 { print $1 + 0; exit }')
TWINBENCH_TEST_HANG=$hang "$tb" run --matrix "$work/hang.ini" --mode vm --seed 7 \
	--results "$work/c" >"$work/c.out" 2>&1 &
pid_c=$!

# A: a wall-clock run is refused while an icount run uses the machine.
"$tb" run --matrix "$work/small.ini" --mode vm --clock wall --no-wait \
	--results "$work/wall" >"$work/wall.out" 2>&1
rc=$?
check "a wall-clock run beside a running one is refused with --no-wait (exit $rc, 2)" [ "$rc" = 2 ]
check "the refusal names the running run's pid: $(head -n 1 "$work/wall.out")" \
	grep -q "pid $pid_a, vm mode, clock icount: $run_a" "$work/wall.out"
check "the refused run made no run folder" [ ! -e "$work/wall" ]

# A: kill -9 in the middle of the run.
wait_for 900 has_samples "$run_a" 1
kill -9 "$pid_a"
killed=$SECONDS
wait "$pid_a" 2>/dev/null
wait_for 10 no_vm "$run_a"
gone=$?
check "kill -9 of the runner leaves no QEMU or vm-run.sh within $((SECONDS - killed)) s" [ "$gone" = 0 ]
kept_a=$(samples_in "$run_a")
check "the finished samples are kept ($kept_a)" [ "$kept_a" -ge 1 ]

# A: a locked run folder is refused with its holder's pid.
exec {held}<"$run_a/.lock"
flock -x "$held"
"$tb" run --resume "$run_a" >"$work/locked.out" 2>&1
rc=$?
exec {held}<&-
check "--resume of a locked run folder is refused (exit $rc, 2)" [ "$rc" = 2 ]
check "the refusal says the folder is in use and names a pid: $(head -n 1 "$work/locked.out")" \
	grep -q -E "$run_a is in use.* pid $pid_a" "$work/locked.out"
check "the refused resume booted nothing" [ "$(samples_in "$run_a")" = "$kept_a" ]

# A: resume takes over the stale lock and completes, each sample once.
"$tb" run --resume "$run_a" >"$work/resume-a.out" 2>&1
rc=$?
check "--resume after kill -9 completes (exit $rc)" [ "$rc" = 0 ]
check "it says it took over the stale lock of the killed runner" \
	grep -q "taking over the stale lock of pid $pid_a" "$work/resume-a.out"
check "all 4 samples are there and valid" \
	[ "$(samples_in "$run_a")" = 4 -a "$(valid_iops "$run_a/samples.csv")" = 4 ]
check "each sample appears once in samples.csv" \
	[ "$(awk -F, '$6 == "iops" { print $2, $3, $4 }' "$run_a/samples.csv" | sort -u | wc -l)" = 4 ]

# B: the full disk.
wait "$pid_b"
rc=$?
ended=$(date +%s)
wait "$filler"
run_b=$(readlink -f "$work/full/latest")
echo "# the run ended $((ended - $(cat "$work/filled-at"))) s after the disk filled"
kept_b=$(samples_in "$run_b")
check "a full results disk ends the run with exit 1 ($rc)" [ "$rc" = 1 ]
fp=$(first_problem "$work/b.out")
check "the first error line names ENOSPC: $fp" grep -q "No space left on device" <<<"$fp"
check "it says where and how to go on" \
	grep -q "No space left on device in $run_b: $kept_b of 4 samples finished and are kept" "$work/b.out"
rm -f "$work/full/filler"
"$tb" run --resume "$run_b" >"$work/resume-b.out" 2>&1
rc=$?
check "with space freed, --resume completes (exit $rc)" [ "$rc" = 0 ]
check "all 4 samples of the full-disk run are valid" [ "$(valid_iops "$run_b/samples.csv")" = 4 ]

# C: the hung sample.
wait "$pid_c"
rc=$?
run_c=$(readlink -f "$work/c/latest")
check "a run with a hung sample exits non-zero ($rc)" [ "$rc" = 1 ]
fp=$(first_problem "$work/c.out")
check "the first line after the progress is the watchdog's: $fp" grep -q "^twinbench run: WATCHDOG: " <<<"$fp"
check "it names the limit and the sample" \
	grep -q "WATCHDOG: no finished sample for 60 s (3 x the per-sample timeout of 20 s) during sample $(printf %04u "$hang")" "$work/c.out"
check "the hung sample is invalid, with the watchdog's reason" \
	grep -q -E "^null,[a-z_]+,randread-4k-qd1,[0-9]+,[0-9]+,iops,[^,]*,IO/s,0,watchdog: no finished sample" "$run_c/samples.csv"
check "its console tail is kept beside it" grep -q "TWINBENCH_TEST_HANG" "$run_c/samples/$(printf %04u "$hang").console.txt"
check "the rest of the plan ran in a fresh boot (3 valid samples, 2 boots)" \
	[ "$(valid_iops "$run_c/samples.csv")" = 3 -a -e "$run_c/console.1.log" ]
check "no VM is left behind" no_vm "$run_c"
check "its manifest lists the two runs that ran beside it" lists_runs "$run_c" "$run_a" "$run_b"
finish
