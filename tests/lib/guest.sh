# guest.sh: what every check of a kernel log and every guest test share: the one pattern of
# kernel problems (read by scripts/vm-run.sh on the host and by tests/vm/*.sh in the guest,
# where it is /twinbench/lib/guest.sh), a kernel-log mark so each test step reads the lines
# it caused without clearing the log for anyone else, and small helpers the scripts repeat.
# shellcheck shell=bash

# A kernel log line showing one of these marks the log broken: warnings, BUGs, oopses,
# panics (Rust ones too; a WARN prints "WARNING: CPU: ..." up to 6.x, "WARNING: FILE:LINE at
# FUNC, CPU#N: ..." from 7.x), lockups, RCU stalls, hung tasks, refcount saturation, and the safe layer's reports
# of a failed check or a misused handle (every one starts "safe: "). The debug kernel line
# adds its checkers' reports: KASAN's start "BUG: KASAN:", lockdep's "WARNING: possible ...",
# "WARNING: inconsistent lock state" and the like (never "WARNING: CPU"), debugobjects'
# "ODEBUG:", DEBUG_LIST's "list_add corruption", and UBSAN's "UBSAN:".
KERNEL_PROBLEM_RE='WARNING: CPU|WARNING: ([^ ]+:[0-9]+ )?at [^ ]+, CPU#|BUG:|kernel BUG at|Oops:|Kernel panic|general protection fault|soft lockup|hard LOCKUP|detected stall|blocked for more than [0-9]+ seconds|refcount_t:|nobody cared|panicked at|(^| )safe: '
KERNEL_PROBLEM_RE+='|WARNING: (possible (circular|recursive|irq)|inconsistent lock|suspicious RCU|bad unlock|held lock freed|lock held when|Nested lock|bad contention|chain_key collision|[A-Za-z-]+-safe -> |[^ ]+/[0-9]+ still has locks held)'
KERNEL_PROBLEM_RE+='|INFO: trying to register non-static key|ODEBUG: |list_[a-z_]+ corruption|UBSAN: '
# The self-test modules provoke the layer's reports on purpose and check them themselves
# (tests/vm/null.sh, net.sh): their own lines are not problems.
KERNEL_PROBLEM_EXPECTED_RE='(^| )(safe_selftest|safenet_selftest): safe: '

# problem_lines: the kernel-problem lines of standard input.
problem_lines() { grep -E "$KERNEL_PROBLEM_RE" | grep -v -E "$KERNEL_PROBLEM_EXPECTED_RE"; }

# kernel_problems [FILE]...: the problem lines of FILEs (default: the running kernel's log).
kernel_problems() {
	if [ $# -eq 0 ]; then dmesg; else cat "$@" 2>/dev/null; fi | problem_lines
}

# klog_mark: writes a unique marker into the kernel log and prints it; klog_since MARK
# prints the log lines after it (the whole log when the marker has scrolled out of the
# ring buffer, so nothing is missed). Nothing is ever cleared (dmesg -c), so later steps,
# the final kernel-log checks and the host (vm-run.sh) still see everything.
klog_mark() {
	local m
	m="twinbench-mark-$(cat /proc/sys/kernel/random/uuid)"
	echo "$m" >/dev/kmsg
	echo "$m"
}
klog_since() {
	dmesg | awk -v m="$1" '{ line[NR] = $0 } index($0, m) { from = NR }
		END { for (i = from + 1; i <= NR; i++) print line[i] }'
}

# klog_clean MARK: no kernel problem since MARK; the problem lines are shown otherwise.
klog_clean() {
	local bad
	bad=$(klog_since "$1" | problem_lines)
	[ -z "$bad" ] && return 0
	printf '#   %s\n' "$bad" | head -n 20
	return 1
}

# klog_has MARK PATTERN: a log line since MARK matches the extended regular expression.
klog_has() { klog_since "$1" | grep -q -E -- "$2"; }

# wait_for_dev DEV [TENTHS]: the block device node appears within TENTHS/10 s (default 5 s).
wait_for_dev() {
	local i
	for i in $(seq "${2:-50}"); do
		[ -b "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# holds FILTER JSON: the jq FILTER is true for JSON.
holds() { jq -e "$1" "$2" >/dev/null; }

# integrity_only: this boot runs the integrity subset (tests/run.sh exports
# TWINBENCH_SUBSET=integrity on every kernel but the default one): load, write+verify,
# cross-reads, payload checks, refused parameters, clean unload, a clean kernel log.
integrity_only() { [ "${TWINBENCH_SUBSET:-}" = integrity ]; }

# subset_skip N WHAT: in the integrity subset, the N checks of WHAT count as skipped (the
# plan stays whole) and the status is 0, so "subset_skip N WHAT || section" runs the
# section only in a full run; otherwise nothing is printed and the status is 1.
subset_skip() {
	local i
	integrity_only || return 1
	for i in $(seq "$1"); do
		skip "$2 ($i/$1)" "integrity subset on $(uname -r); it runs in full on one kernel (the default, or the one its vm-full-on line names)"
	done
}
