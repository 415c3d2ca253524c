#!/bin/bash
# nightly.sh: one night of twinbench: build, run the nightly profile, write the run's report,
# add the run to the history, render the dashboard, and judge the run against the previous
# night and against the baseline of earlier nights (with drift over the history, from the
# dashboard). Exit status: 0 no regression, 1 regression or drift beyond the threshold,
# 2 error (build, run, report or history failed). docs/nightly.md shows how to schedule it.
#
# Usage: scripts/nightly.sh [--profile P] [--db FILE] [--dashboard DIR] [--threshold PCT]
#                           [--families LIST] [--run DIR]
#   --run DIR  skip the build and the benchmark and take an existing run folder instead
#              (to re-add a night, or to test this script).
# Environment: MODE and CLOCK are passed to `make bench` when set.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

profile=nightly db=results/history.db dashboard=results/dashboard threshold=5
families='' run=''
while [ $# -gt 0 ]; do
	case "$1" in
	--profile) profile=${2:?--profile needs a name} ;;
	--db) db=${2:?--db needs a file} ;;
	--dashboard) dashboard=${2:?--dashboard needs a folder} ;;
	--threshold) threshold=${2:?--threshold needs a percentage} ;;
	--families) families=${2:?--families needs a list} ;;
	--run) run=${2:?--run needs a run folder} ;;
	*) echo "nightly.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift 2
done

say() { echo "nightly: $*"; }
die() { echo "nightly: $*" >&2; exit 2; }

tb=$top/bench/twinbench
if [ -z "$run" ]; then
	say "building"
	make all || die "build failed"
fi
[ -x "$tb" ] || make -C bench || die "cannot build bench/twinbench"

# The previous night is the newest run of the same profile already in the history.
previous=''
if [ -s "$db" ]; then
	list=$("$tb" history list --db "$db") || die "cannot read the history $db"
	previous=$(awk -F '\t' -v p="$profile" '$4 == p { id = $1 } END { print id }' <<<"$list")
fi

bench_status=0
if [ -z "$run" ]; then
	say "running profile $profile"
	make bench PROFILE="$profile" ${families:+FAMILIES="$families"} \
		${MODE:+MODE="$MODE"} ${CLOCK:+CLOCK="$CLOCK"} || bench_status=$?
	run=$(readlink -f results/latest) || die "no results/latest after the run"
fi
[ -f "$run/samples.csv" ] || die "$run: no samples.csv (the run failed before any sample)"
[ "$bench_status" = 0 ] || say "the run exited with status $bench_status; keeping what it measured"

"$tb" report "$run" || die "report of $run failed"
"$tb" history add "$run" --db "$db" || die "cannot add $run to $db"
"$tb" dashboard --db "$db" -o "$dashboard" --threshold "$threshold" --judge-latest
drift=$?
[ "$drift" -le 1 ] || die "dashboard failed"
[ "$drift" = 0 ] || say "REGRESSION or DRIFT against the earlier nights (see $dashboard/index.html)"

run_id=$("$tb" history list --db "$db" | awk -F '\t' -v dir="$run" '$5 == dir { id = $1 } END { print id }')
if [ -z "$previous" ] || [ "$previous" = "$run_id" ]; then
	say "no previous night in $db: nothing to compare against"
	[ "$bench_status" = 0 ] || exit 2
	exit "$drift"
fi
say "comparing $previous (previous night) with $run_id"
"$tb" compare "$previous" "$run_id" --db "$db" --threshold "$threshold"
verdict=$?
case "$verdict" in
0) say "no regression beyond $threshold %" ;;
1) say "REGRESSION beyond $threshold % against $previous (see $dashboard/index.html)" ;;
*) die "compare failed (or a series without valid samples)" ;;
esac
[ "$drift" = 1 ] && verdict=1
[ "$verdict" = 0 ] && [ "$bench_status" != 0 ] && exit 2
exit "$verdict"
