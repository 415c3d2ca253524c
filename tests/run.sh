#!/bin/bash
# run.sh: every twinbench test: unit tests (cmocka, tests/unit/bin/*), host tests
# (tests/host/*.sh) and guest tests (tests/vm/*.sh, each in its own boot of the VM).
# Every check prints one line, "ok - ..." or "not ok - ..."; the last line counts them:
# "N passed, N failed, N skipped". A line carrying "# SKIP" counts as skipped, whatever its
# verdict. Comment lines give wall times: after each host and guest test ("# host/NAME:
# 143 s"; a guest test's includes its boot, a shared boot's tests say their share), the unit
# tests together and the whole run; at the end, a table of them, longest first. Exit status
# 0 only when nothing failed.
# Usage: tests/run.sh [unit|host|vm]... [--only NAME]... [--kernel LINE] [--on LINE]...
#   The guest tests run on every kernel of scripts/kernels.sh (--on: only these), each
#   booted from the cache with our modules built for it (make modules-all): in full on LINE
#   (default: the default kernel), on the others the integrity subset: only the tests with
#   a "# vm-kernels: all" line (or naming the line: "# vm-kernels: LINE...", e.g. 7-debug),
#   each told so (TWINBENCH_SUBSET=integrity; it skips its other checks, tests/lib/guest.sh:
#   subset_skip). A test with a "# vm-needs: MODULE" line runs only on kernels where
#   MODULE.ko was built (rnull_mod: a Rust-enabled kernel); elsewhere it counts as skipped.
#   "# vm-timeout: SECONDS" gives a test's boot longer than 900 s; "# vm-append: ARGS" adds
#   kernel arguments to its boot; "# vm-full-on: LINE" runs a test in full on LINE instead
#   of the default kernel (the subset there). On each kernel the tests share one boot
#   (tests/lib/batch.sh), each with its own log, verdict and kernel-log check; a test with
#   "# vm-append:", "# vm-alone: WHY", a tests/vm/NAME.after or a second set of NVMe
#   controllers boots alone.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
. tests/lib/guest.sh	# problem_lines: the kernel problems of a shared boot's tests
kinds=() only=() on=() kernel=$(scripts/kernels.sh default)
# known_line OPTION LINE: LINE is a kernel of scripts/kernels.sh, else one line and exit 2.
known_line() {
	case " $(scripts/kernels.sh lines) " in
	*" $2 "*) ;;
	*) echo "run.sh: $1 '$2': expected one of $(scripts/kernels.sh lines)" >&2; exit 2 ;;
	esac
}
while [ $# -gt 0 ]; do
	case "$1" in
	unit|host|vm) kinds+=("$1") ;;
	--only) only+=("${2:?--only needs a test name}"); shift ;;
	--kernel) known_line "$1" "${2:-}"; kernel=$2; shift ;;
	--on) known_line "$1" "${2:-}"; on+=("$2"); shift ;;
	*) echo "run.sh: unknown argument '$1' (expected unit, host, vm, --only NAME, --kernel LINE or --on LINE)" >&2; exit 2 ;;
	esac
	shift
done
[ ${#kinds[@]} -gt 0 ] || kinds=(unit host vm)

passed=0 failed=0 skipped=0 failures=()
log_dir=$top/build/test-logs
mkdir -p "$log_dir"

# took NAME START: the comment line with NAME's wall time since START (a $SECONDS value),
# kept for the table of times the run ends with.
times=()
took() {
	echo "# $1: $((SECONDS - $2)) s"
	times+=("$((SECONDS - $2)) $1")
}

selected() {
	[ ${#only[@]} -eq 0 ] && return 0
	local n
	for n in "${only[@]}"; do [ "$n" = "$1" ] && return 0; done
	return 1
}

# Count the ok / not ok lines of one test's output; a test that failed without saying
# which check failed counts as one failure of its own. Every test prints its TAP plan
# "1..N" (tests/lib/check.sh: plan N; cmocka prints its own): a test without one, or whose
# count of checks differs from it (a section that vanished, or checks added without the
# plan), fails with one more line saying so.
tally() {
	local name=$1 rc=$2 out=$3 extra=${4:-} ok nok skip made want
	ok=$(grep -v '# SKIP' "$out" | grep -c -E '^ok( |$)')
	nok=$(grep -v '# SKIP' "$out" | grep -c -E '^not ok( |$)')
	skip=$(grep -E '^(not )?ok( |$)' "$out" | grep -c '# SKIP')
	made=$((ok + nok + skip))
	want=$(sed -n -E 's/^1\.\.([0-9]+)$/\1/p' "$out")
	skipped=$((skipped + skip))
	if [ -z "$want" ]; then
		echo "not ok - $name declares its number of checks (no TAP plan 1..N; tests/lib/check.sh: plan N)" | tee -a "$out"
		nok=$((nok + 1))
	elif [ "$(echo "$want" | wc -l)" != 1 ]; then
		echo "not ok - $name declares one TAP plan (found: $(echo $want))" | tee -a "$out"
		nok=$((nok + 1))
	elif [ "$made" != "$want" ]; then
		echo "not ok - $name made $made checks of the $want it planned" | tee -a "$out"
		nok=$((nok + 1))
	fi
	if [ -n "$extra" ]; then
		echo "not ok - $extra" | tee -a "$out"
		nok=$((nok + 1))
	elif [ "$rc" != 0 ] && [ "$nok" = 0 ]; then
		echo "not ok - $name exited with status $rc (log: $out)"
		nok=1
	fi
	passed=$((passed + ok))
	failed=$((failed + nok))
	if [ "$nok" != 0 ]; then
		failures+=("$name (log: $out)")
	fi
}

run_unit() {
	local t name out rc start=$SECONDS
	for t in tests/unit/bin/*; do
		[ -x "$t" ] || continue
		name=unit/$(basename "$t")
		selected "$(basename "$t")" || continue
		out=$log_dir/$(basename "$t").log
		echo "# $name"
		CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1 | sed -E 's/^(not ok|ok) [0-9]+( -)? /\1 - /' | tee "$out"
		rc=${PIPESTATUS[0]}
		tally "$name" "$rc" "$out"
	done
	took unit "$start"
}

run_host() {
	local t name out rc start
	for t in tests/host/*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		selected "$name" || continue
		out=$log_dir/host-$name.log
		echo "# host/$name"
		start=$SECONDS
		bash "$t" 2>&1 | tee "$out"
		rc=${PIPESTATUS[0]}
		tally "host/$name" "$rc" "$out"
		took "host/$name" "$start"
	done
}

# The ablation variants the safe drivers' Kbuild files build (safe_variants calls, see
# drivers-safe/kernel/ablation.mk, continued lines joined), one module name a line: what the
# guest tests must find.
ablation_variants() {
	cat drivers-safe/*/Kbuild | sed -e ':a' -e '/\\$/{N;s/\\\n[[:space:]]*/ /;ba' -e '}' |
		sed -n 's/^\$(call safe_variants,\([a-z]*\),[a-z_]*,\(.*\))$/\1 \2/p' |
		while read -r mod mechs; do
			for m in $mechs; do echo "${mod}_$m"; done
		done
}

kv() {
	sed -n "s/^$1=//p" "$2" | head -n 1
}

# vm_nvme_args TEST SHARE: add to nvme_args the NVMe controllers TEST's header asks for:
# "# vm-nvme-file: SIZE[,OPTION...]" a file-backed one (its image in SHARE, the options
# passed on to scripts/vm-run.sh --nvme), "# vm-nvme: SPEC" lines more, after it.
vm_nvme_args() {
	local size spec
	size=$(sed -n 's/^# vm-nvme-file: *//p' "$1" | head -n 1)
	if [ -n "$size" ]; then
		truncate -s "${size%%,*}" "$2/nvme0.img"
		nvme_args+=(--nvme "file=$2/nvme0.img${size#"${size%%,*}"}")
	fi
	while read -r spec; do
		nvme_args+=(--nvme "$spec")
	done < <(sed -n 's/^# vm-nvme: *//p' "$1")
}
has_nvme() { grep -q -E '^# vm-nvme(-file)?: ' "$1"; }

# vm_share DIR JOB: a fresh share for one boot whose guest runs the command JOB.
vm_share() {
	rm -rf "$1"
	mkdir -p "$1"
	echo "$2" >"$1/job.sh"
	ablation_variants >"$1/ablation-variants.txt"
}

# vm_boot SHARE TIMEOUT APPEND HOSTLOG: one boot of kernel $kver ($facts, $initrd) running
# SHARE's job.sh, with the controllers of nvme_args and the kernel arguments APPEND; the
# exit status is vm-run.sh's, its own output goes to HOSTLOG.
vm_boot() {
	scripts/vm-run.sh --share "$1" --initrd "$initrd" --kver "$kver" --clock wall \
		--accel tcg --smp 2 --timeout "$2" --quiet "${nvme_args[@]}" \
		${3:+--append "$3"} --kernel-image "$(kv image "$facts")" >"$4" 2>&1
}

# vm_job SHARE JOB NVME TIMEOUT APPEND HOSTLOG WHAT: a fresh share running JOB, the
# controllers of test file NVME (none if empty), one boot (vm_boot). A guest whose kernel
# died or hung before guest-init started the job (no .job-started in the share) never ran
# a line of ours: that is the emulator's or the kernel's own fault (the 7.x kernel under
# multi-threaded TCG now and then oopses on an int3 of a jump label being patched), so it
# boots once more, saying so and keeping the first console log beside HOSTLOG.
vm_job() {
	local share=$1 job=$2 nvme=$3 timeout=$4 append=$5 hostlog=$6 what=$7 try rc
	for try in 1 2; do
		vm_share "$share" "$job"
		nvme_args=()
		[ -z "$nvme" ] || vm_nvme_args "$nvme" "$share"
		vm_boot "$share" "$timeout" "$append" "$hostlog"
		rc=$?
		case $rc in 124|125|126) ;; *) return "$rc" ;; esac
		[ -e "$share/.job-started" ] && return "$rc"
		[ "$try" = 1 ] || return "$rc"
		cp "$share/console.log" "$hostlog.boot1-console.log" 2>/dev/null
		echo "# $what: the guest kernel died before the job began (vm-run exit $rc: $(grep -m1 -E "$KERNEL_PROBLEM_RE" "$share/console.log" | tr -d '\r' | sed 's/^\[ *[0-9.]*\] //')); no code of ours had run: booting once more (first console: $hostlog.boot1-console.log)"
	done
	return "$rc"
}

# vm_console SHARE: the guest's console log without the kernel's own lines.
vm_console() { grep -v -E '^\[ *[0-9]+\.[0-9]+\]' "$1/console.log" | tr -d '\r'; }

# The test T (named NAME) in a boot of its own on kernel $line; SUBSET is 1 for the
# integrity subset, APPEND and TIMEOUT from its header.
run_vm_one() {
	local t=$1 name=$2 subset=$3 timeout=$4 append=$5 share out rc extra start=$SECONDS
	share=$top/build/test-vm/$line/$name
	out=$log_dir/vm-$line-$name.log
	echo "# vm/$name on kernel $line ($kver$([ "$subset" = 1 ] && echo ", integrity subset"))"
	vm_job "$share" "$([ "$subset" = 1 ] && echo "export TWINBENCH_SUBSET=integrity; ")exec bash /twinbench/tests/$name.sh" \
		"$t" "$timeout" "$append" "$out.host" "vm/$name on $line"
	rc=$?
	vm_console "$share" >"$out"
	# tests/vm/NAME.after: host-side checks of what QEMU saw, run once the guest is off.
	[ -f "tests/vm/$name.after" ] && bash "tests/vm/$name.after" "$share" >>"$out" 2>&1
	cat "$out"
	extra=""
	if [ "$rc" = 126 ] || [ "$rc" = 124 ] || [ "$rc" = 125 ]; then
		sed 's/^/# /' "$out.host"
		extra="vm/$name on $line: guest ran to the end with a clean kernel log (vm-run exit $rc)"
	fi
	tally "vm/$name@$line" "$rc" "$out" "$extra"
	took "vm/$name@$line" "$start"
}

# The tests of batch (NAME:subset or NAME:full each) in one boot of kernel $line
# (tests/lib/batch.sh runs them in turn): each still has its own log, exit status and
# verdict, and the kernel log lines it caused are checked for problems as its own; a
# problem or timeout no test's lines account for fails the boot itself.
run_vm_batch() {
	local share=$top/build/test-vm/$line/batch blog=$log_dir/vm-$line-batch.log spec name out \
		rc trc extra bad charged=0 what="" start=$SECONDS
	for spec in "${batch[@]}"; do
		what+="${what:+, }${spec%%:*}$([ "${spec#*:}" = subset ] && echo " (integrity subset)")"
	done
	echo "# vm on kernel $line ($kver), one boot for: $what"
	vm_job "$share" "exec bash /twinbench/lib/batch.sh ${batch[*]}" "$batch_nvme" \
		"$batch_timeout" "" "$blog.host" "the shared boot on $line"
	rc=$?
	vm_console "$share" >"$blog"
	for spec in "${batch[@]}"; do
		name=${spec%%:*}
		out=$log_dir/vm-$line-$name.log
		echo "# vm/$name on kernel $line ($kver$([ "${spec#*:}" = subset ] && echo ", integrity subset"), shared boot: $blog)"
		cp "$share/$name.out" "$out" 2>/dev/null || : >"$out"
		extra=""
		if [ -s "$share/$name.rc" ]; then
			trc=$(cat "$share/$name.rc")
			bad=$(problem_lines <"$share/$name.dmesg")
			if [ -n "$bad" ]; then
				printf '#   %s\n' "$bad" | head -n 20 >>"$out"
				extra="vm/$name on $line: a clean kernel log while it ran (shared boot)"
				charged=1
			fi
		else
			trc=$rc
			extra="vm/$name on $line: ran to its end in the shared boot (vm-run exit $rc; $blog.host)"
			charged=1
		fi
		cat "$out"
		tally "vm/$name@$line" "$trc" "$out" "$extra"
		[ ! -s "$share/$name.secs" ] ||
			echo "# vm/$name@$line: $(cat "$share/$name.secs") s in the shared boot"
	done
	if [ "$charged" = 0 ] && [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
		sed 's/^/# /' "$blog.host"
		echo "not ok - the shared boot on $line ($what) ended cleanly (vm-run exit $rc; $blog)"
		failed=$((failed + 1))
		failures+=("shared boot on $line (log: $blog)")
	fi
	took "the shared boot on $line" "$start"
}

# The guest tests on kernel LINE: all of them when FULL is 1, else the integrity subset.
# They share one boot (run_vm_batch), except those that need kernel arguments, host-side
# checks of their own, a second set of NVMe controllers, or say "# vm-alone: WHY".
run_vm_kernel() {
	local line=$1 full=$2 t name initrd facts kver kodir need timeout append tfull full_on \
		batch=() batch_timeout=0 batch_nvme=""
	if ! facts=$(scripts/kernels.sh env "$line" 2>&1); then
		echo "not ok - kernel $line is ready for the guest tests: $facts"
		failed=$((failed + 1))
		return
	fi
	kver=$(kv release "$facts")
	kodir=$top/build/kernels/$line/ko
	if [ ! -e "$kodir/.sources" ]; then
		echo "not ok - our modules are built for kernel $line (make modules-all)"
		failed=$((failed + 1))
		return
	fi
	initrd=$top/build/initramfs-$kver.img
	scripts/mkinitramfs.sh -o "$initrd" -k "$kver" -r "$(kv modroot "$facts")" -M "$kodir" ||
		{ failed=$((failed + 1)); return; }
	for t in tests/vm/*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		selected "$name" || continue
		# "# vm-full-on: LINE": the test runs in full on LINE rather than on the default kernel.
		tfull=$full
		full_on=$(sed -n 's/^# vm-full-on: *//p' "$t" | head -n 1)
		if [ -n "$full_on" ]; then
			tfull=0
			[ "$line" = "$full_on" ] && tfull=1
		fi
		if [ "$tfull" = 0 ] &&
			! sed -n 's/^# vm-kernels: //p' "$t" | tr ' ' '\n' | grep -q -x -F -e all -e "$line"; then
			continue
		fi
		need=$(sed -n 's/^# vm-needs: *//p' "$t" | head -n 1)
		if [ -n "$need" ] && [ ! -e "$kodir/$need.ko" ]; then
			echo "ok - vm/$name on $line # SKIP needs $need.ko, which kernel $line ($kver) does not build"
			skipped=$((skipped + 1))
			continue
		fi
		# "# vm-timeout: SECONDS" gives a long test more than the 900 s of the others.
		timeout=$(sed -n 's/^# vm-timeout: *\([0-9]*\)$/\1/p' "$t" | head -n 1)
		timeout=${timeout:-900}
		append=$(sed -n 's/^# vm-append: *//p' "$t" | head -n 1)
		if [ -z "$append" ] && [ ! -f "tests/vm/$name.after" ] &&
			! grep -q '^# vm-alone: ' "$t" &&
			{ [ -z "$batch_nvme" ] || ! has_nvme "$t"; }; then
			batch+=("$name:$([ "$tfull" = 1 ] && echo full || echo subset)")
			batch_timeout=$((batch_timeout + timeout))
			! has_nvme "$t" || batch_nvme=$t
			continue
		fi
		run_vm_one "$t" "$name" "$((1 - tfull))" "$timeout" "$append"
	done
	[ ${#batch[@]} -eq 0 ] || run_vm_batch
}

# on_line LINE: the guest tests run on LINE (every line unless --on named some).
on_line() {
	[ ${#on[@]} -eq 0 ] && return 0
	local l
	for l in "${on[@]}"; do [ "$l" = "$1" ] && return 0; done
	return 1
}

run_vm() {
	local l
	on_line "$kernel" && run_vm_kernel "$kernel" 1
	for l in $(scripts/kernels.sh lines); do
		[ "$l" = "$kernel" ] || ! on_line "$l" || run_vm_kernel "$l" 0
	done
}

for k in "${kinds[@]}"; do
	"run_$k"
done

# The time per part, longest first, where the end of a long log is all one reads.
echo "# time per part (s):"
printf '%s\n' "${times[@]}" | sort -rn | awk '{ n = $1; $1 = ""; printf "#   %5d %s\n", n, substr($0, 2) }'
if [ ${#failures[@]} -gt 0 ]; then
	echo "# failed:"
	printf '#   %s\n' "${failures[@]}"
fi
took total 0
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
