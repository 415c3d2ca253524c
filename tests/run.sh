#!/bin/bash
# run.sh: every twinbench test: unit tests (cmocka, tests/unit/bin/*), host tests
# (tests/host/*.sh) and guest tests (tests/vm/*.sh, each in its own boot of the VM).
# Every check prints one line, "ok - ..." or "not ok - ..."; the last line counts them:
# "N passed, N failed, N skipped". A line carrying "# SKIP" counts as skipped, whatever its
# verdict. Exit status 0 only when nothing failed.
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
#   of the default kernel (the subset there).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
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
	local t name out rc
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
}

run_host() {
	local t name out rc
	for t in tests/host/*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		selected "$name" || continue
		out=$log_dir/host-$name.log
		echo "# host/$name"
		bash "$t" 2>&1 | tee "$out"
		rc=${PIPESTATUS[0]}
		tally "host/$name" "$rc" "$out"
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

# The guest tests on kernel LINE: all of them when FULL is 1, else the integrity subset.
run_vm_kernel() {
	local line=$1 full=$2 t name out rc share initrd facts kver kodir need extra subset timeout append \
		tfull full_on
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
		share=$top/build/test-vm/$line/$name
		out=$log_dir/vm-$line-$name.log
		rm -rf "$share"
		mkdir -p "$share"
		subset=""
		[ "$tfull" = 1 ] || subset="export TWINBENCH_SUBSET=integrity; "
		echo "${subset}exec bash /twinbench/tests/$name.sh" >"$share/job.sh"
		ablation_variants >"$share/ablation-variants.txt"
		echo "# vm/$name on kernel $line ($kver${subset:+, integrity subset})"
		# A "# vm-nvme-file: SIZE" line asks for a file-backed NVMe controller.
		nvme_args=()
		nvme_size=$(sed -n 's/^# vm-nvme-file: *//p' "$t" | head -n 1)
		# "# vm-nvme-file: SIZE,OPTION..." passes the options on (scripts/vm-run.sh --nvme).
		if [ -n "$nvme_size" ]; then
			nvme_opts=${nvme_size#"${nvme_size%%,*}"}
			truncate -s "${nvme_size%%,*}" "$share/nvme0.img"
			nvme_args=(--nvme "file=$share/nvme0.img$nvme_opts")
		fi
		# "# vm-nvme: SPEC" lines add controllers (scripts/vm-run.sh --nvme SPEC, after it).
		while read -r spec; do
			nvme_args+=(--nvme "$spec")
		done < <(sed -n 's/^# vm-nvme: *//p' "$t")
		# "# vm-timeout: SECONDS" gives a long test more than the 900 s of the others.
		timeout=$(sed -n 's/^# vm-timeout: *\([0-9]*\)$/\1/p' "$t" | head -n 1)
		append=$(sed -n 's/^# vm-append: *//p' "$t" | head -n 1)
		scripts/vm-run.sh --share "$share" --initrd "$initrd" --kver "$kver" --clock wall \
			--accel tcg --smp 2 --timeout "${timeout:-900}" --quiet "${nvme_args[@]}" \
			${append:+--append "$append"} \
			--kernel-image "$(kv image "$facts")" >"$out.host" 2>&1
		rc=$?
		grep -v -E '^\[ *[0-9]+\.[0-9]+\]' "$share/console.log" | tr -d '\r' >"$out"
		# tests/vm/NAME.after: host-side checks of what QEMU saw, run once the guest is off.
		[ -f "tests/vm/$name.after" ] && bash "tests/vm/$name.after" "$share" >>"$out" 2>&1
		cat "$out"
		extra=""
		if [ "$rc" = 126 ] || [ "$rc" = 124 ] || [ "$rc" = 125 ]; then
			sed 's/^/# /' "$out.host"
			extra="vm/$name on $line: guest ran to the end with a clean kernel log (vm-run exit $rc)"
		fi
		tally "vm/$name@$line" "$rc" "$out" "$extra"
	done
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

if [ ${#failures[@]} -gt 0 ]; then
	echo "# failed:"
	printf '#   %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
