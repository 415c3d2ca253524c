#!/bin/bash
# nightly.sh: one night of twinbench: build, run the nightly profile, write the run's report,
# add the run to the history, render the dashboard, and judge the run against the previous
# night and against the baseline of earlier nights (with drift over the history, from the
# dashboard). Exit status: 0 no regression, 1 regression or drift beyond the threshold,
# 2 error (build, run, report or history failed). docs/nightly.md shows how to schedule it.
#
# Usage: scripts/nightly.sh [--profile P] [--db WHERE] [--local FILE] [--dashboard DIR]
#                           [--threshold PCT] [--families LIST] [--run DIR]
#   --db WHERE  the history: a SQLite file, or a postgresql:// URL of a history the fleet
#               shares (default $TWINBENCH_DB, else results/history.db). With a shared
#               history every night also goes into the local SQLite copy --local FILE
#               (default results/history.db), and the runs the server lacks are pushed
#               from it: a night the server cannot be reached stays in the local copy and
#               goes up with the next night's (exit 2 that night).
#   --run DIR   skip the build and the benchmark and take an existing run folder instead
#               (to re-add a night, or to test this script).
# Environment: MODE and CLOCK are passed to `make bench` when set.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

profile=nightly db=${TWINBENCH_DB:-results/history.db} local=results/history.db
dashboard=results/dashboard threshold=5 families='' run=''
while [ $# -gt 0 ]; do
	case "$1" in
	--profile) profile=${2:?--profile needs a name} ;;
	--db) db=${2:?--db needs a file or a postgresql:// URL} ;;
	--local) local=${2:?--local needs a file} ;;
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
# mask WHERE: a URL's password as ***, for every message that names the history.
mask() { sed -E 's#^(postgres(ql)?://[^:/@]*):[^@]*@#\1:***@#; s#([?&]password=)[^&]*#\1***#' <<<"$1"; }
shared=''
case "$db" in
postgresql://*|postgres://*) shared=$db ;;
*) local=$db ;;
esac
shown=$(mask "$db")

tb=$top/bench/twinbench
if [ -z "$run" ]; then
	say "building"
	make all || die "build failed"
fi
[ -x "$tb" ] || make -C bench || die "cannot build bench/twinbench"

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
"$tb" history add "$run" --db "$local" || die "cannot add $run to $local"
judge=$local push_failed=0
if [ -n "$shared" ]; then
	if "$tb" history push "$local" --db "$shared"; then
		judge=$shared
	else
		push_failed=1
		say "shared history $shown unreachable: the run stays in $local and is pushed with the next night"
	fi
fi
judge_shown=$(mask "$judge")
list=$("$tb" history list --db "$judge") || die "cannot read the history $judge_shown"
# This run's id (its folder's, on this machine: folders of other machines may share its path)
# and the previous night: the newest earlier run of the same profile on the same machine.
machine=$(jq -r '.host.machine_id // "unknown"' "$run/manifest.json") ||
	die "$run/manifest.json: cannot read the machine id"
run_id=$(awk -F '\t' -v dir="$run" -v m="$machine" '$5 == dir && $8 == m { id = $1 } END { print id }' <<<"$list")
[ -n "$run_id" ] || die "$run is not in $judge_shown after adding it"
previous=$(awk -F '\t' -v p="$profile" -v m="$machine" -v id="$run_id" \
	'$1 == id { exit } $4 == p && $8 == m { prev = $1 } END { print prev }' <<<"$list")
"$tb" dashboard --db "$judge" -o "$dashboard" --threshold "$threshold" --judge-latest \
	--machine "$machine"
drift=$?
[ "$drift" -le 1 ] || die "dashboard failed"
[ "$drift" = 0 ] || say "REGRESSION or DRIFT against the earlier nights (see $dashboard/index.html)"

if [ -z "$previous" ]; then
	say "no previous night of this machine in $judge_shown: nothing to compare against"
	[ "$bench_status" = 0 ] && [ "$push_failed" = 0 ] || exit $((drift == 1 ? 1 : 2))
	exit "$drift"
fi
say "comparing $previous (previous night) with $run_id"
"$tb" compare "$previous" "$run_id" --db "$judge" --threshold "$threshold"
verdict=$?
case "$verdict" in
0) say "no regression beyond $threshold %" ;;
1) say "REGRESSION beyond $threshold % against $previous (see $dashboard/index.html)" ;;
*) die "compare failed (or a series without valid samples)" ;;
esac
[ "$drift" = 1 ] && verdict=1
[ "$verdict" = 0 ] && { [ "$bench_status" != 0 ] || [ "$push_failed" != 0 ]; } && exit 2
exit "$verdict"
