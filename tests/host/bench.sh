#!/bin/bash
# bench.sh: the main job end to end in VM mode. `make bench PROFILE=quick FAMILIES=null`
# produces a complete run folder with all three arms; a malformed matrix is refused with
# file:line before anything runs; an interrupted run keeps its finished samples, leaves no
# VM behind, and --resume completes it, the samples spread over the matrix's three boots.
# The interrupted run goes beside the quick run (two one-vCPU icount guests on 2 cores).
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
# Checks: quick run 23 (10 of them one per run-folder file, 3 one per arm, the estimate
# before the boot and the report's paths at the end), bad matrix 3, interrupted run 7 (stop,
# kept, no QEMU, resume, all there, a round per boot, boot logs).
plan 33
. "$(dirname "$0")/../lib/need.sh"
need make jq pgrep fio qemu-system-x86_64 || exit 1
top=$(cd "$(dirname "$0")/../.." && pwd)
tb=$top/bench/twinbench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$top/tests/lib/guest.sh"	# holds
# csv_count FILE AWK-CONDITION: rows of a CSV with a header matching the condition.
csv_count() { awk -F, -v OFS=, "NR > 1 && ($2) { n++ } END { print n + 0 }" "$1"; }

# The interrupted run, in the background beside the quick run: both are icount guests
# of one vCPU each, so on 2 cores they run side by side. Its check lines go to
# int.tap and are counted once the quick run is done (replay, tests/lib/check.sh).
interrupted() {
	cat >"$work/small.ini" <<-'INI'
	[run]
	samples = 3
	boots = 3
	ios = 4000
	warmup_ios = 400

	[family null]
	arms = null_blk rawnull safenull

	[workload randread-4k-qd1]
	family = null
	rw = randread
	bs = 4k
	iodepth = 1
	INI
	"$tb" run --matrix "$work/small.ini" --mode vm --results "$work/int-res" >"$work/int.out" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		n=$(ls "$work"/int-res/2*/samples/[0-9]*.csv 2>/dev/null | wc -l)
		[ "$n" -ge 3 ] && break
		sleep 0.5
	done
	kill -INT "$pid"
	wait "$pid"
	rc=$?
	run=$(readlink -f "$work/int-res/latest")
	kept=$(ls "$run"/samples/[0-9]*.csv 2>/dev/null | wc -l)
	check "SIGINT stops the run with exit 130" [ "$rc" = 130 ]
	check "the finished samples are kept ($kept)" [ "$kept" -ge 3 ]
	sleep 1
	left=$(pgrep -f "qemu-system.*path=$run," | wc -l)
	check "no QEMU is left behind ($left)" [ "$left" = 0 ]
	"$tb" run --resume "$run" >"$work/resume.out" 2>&1
	rc=$?
	check "--resume completes the run" [ "$rc" = 0 ]
	check "after resuming, all 9 samples are there" \
		[ "$(ls "$run"/samples/[0-9]*.csv | wc -l)" = 9 ]
	boots=$(awk -F, 'NR > 1 && $6 == "iops" { seen[$5 " " $2]++ } END {
		for (k in seen) { split(k, a, " "); b[a[1]]++; if (seen[k] != 1) bad++ }
		print length(b) " " bad + 0 }' "$run/samples.csv")
	check "each of the 3 boots ran one sample of every arm ($boots)" [ "$boots" = "3 0" ]
	check "every boot left its guest log" \
		[ "$(ls "$run"/console*.log | wc -l)" -ge 3 ]
}
interrupted >"$work/int.tap" 2>&1 &
int_pid=$!

before=$(readlink -f "$top/results/latest" 2>/dev/null)
touch "$work/start"
make -s -C "$top" bench PROFILE=quick FAMILIES=null >"$work/quick.out" 2>&1
rc=$?
check "make bench PROFILE=quick FAMILIES=null exits 0" [ "$rc" = 0 ]
run=$(readlink -f "$top/results/latest")
check "results/latest points at the new run (${run##*/}, before ${before##*/})" \
	eval '[ -d "$run" ] && [ "$run" != "$before" ] && [ "$run/manifest.json" -nt "$work/start" ]' 
for f in manifest.json samples.csv settings.csv summary.csv console.log plan.tsv facts.tsv \
	report.md report.html summary.txt; do
	check "the run folder holds $f" test -s "$run/$f"
done
check "the runner prints the plan's estimated duration before it boots" \
	awk '/estimated [0-9]+ min/ { e = NR } /booting the VM/ { b = NR } END { exit !(e && b && e < b) }' \
	"$work/quick.out"
check "make bench ends with the report's paths and the summary" \
	bash -c "grep -q '^report: .*/report.md, .*/report.html' '$work/quick.out' && grep -q '^summary: .*/summary.txt' '$work/quick.out' && grep -q ' -> ' '$work/quick.out'"
check "the terminal says which mode it picked and why" \
	grep -q -E "twinbench run: (vm|host) mode \(.+\)" "$work/quick.out"
check "manifest records mode, clock, kernel, seed and module srcversions" \
	holds '(.mode == "vm" or .mode == "host") and .clock == "icount" and (.seed != null) and
		(.kernel.release | length > 0) and (.modules | length >= 3)' "$run/manifest.json"
for arm in null_blk rawnull safenull; do
	n=$(csv_count "$run/samples.csv" "\$2 == \"$arm\" && \$6 == \"iops\" && \$9 == 1")
	check "$arm: every quick sample is valid ($n)" [ "$n" -ge 8 ]
done
check "samples.csv has the required columns" \
	grep -q '^family,arm,workload,sample,boot,metric,value,unit' "$run/samples.csv"
check "summary.csv compares safe with raw and raw with upstream, with a verdict" \
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["metric"] == "iops" && $col["baseline"] == "rawnull" &&
			$col["candidate"] == "safenull" && $col["verdict"] != "" { s++ }
		$col["metric"] == "iops" && $col["baseline"] == "null_blk" &&
			$col["candidate"] == "rawnull" && $col["verdict"] != "" { r++ }
		END { exit !(s >= 2 && r >= 2) }' "$run/summary.csv"
# every (family, arm, workload, sample) of samples.csv has a "scheduler none" row
check "every sample recorded its queue settings (scheduler none)" \
	awk -F, 'FNR == 1 { next } NR == FNR { if ($5 == "scheduler" && $6 == "none") s[$1","$2","$3","$4] = 1; next }
		{ n++; if (!s[$1","$2","$3","$4]) bad++ } END { exit !(n > 0 && !bad) }' \
	"$run/settings.csv" "$run/samples.csv"
check "the instruction counts per I/O are in samples.csv" \
	grep -q ',driver_insn_per_io,' "$run/samples.csv"

cat >"$work/bad.ini" <<'INI'
[run]
samples = 2
ios = 1000

[family null]
arms = null_blk rawnull

[workload tiny]
family = null
rw = randread
bs = 1000
iodepth = 1
INI
"$tb" run --matrix "$work/bad.ini" --mode vm --results "$work/res" >"$work/bad.out" 2>&1
rc=$?
check "a block size that is not a multiple of 512 is refused (exit 2)" [ "$rc" = 2 ]
check "the refusal names file and line" grep -q "bad.ini:11: .*bs 1000" "$work/bad.out"
check "nothing ran: no run folder was made" test ! -e "$work/res/latest"

wait "$int_pid"
replay "$work/int.tap"
finish
