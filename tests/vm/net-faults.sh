#!/bin/bash
# net-faults.sh: the net twins' failed pair creation. With nr_pairs=2 and the name of pair
# 1's b end already taken (a veth device holds it), registering that end fails after its
# a end is registered: the twin must unregister that end, free both, take pair 0 down too
# and fail its load, leaving no device behind; once the name is free it loads both pairs
# and unloads. On 7-debug, KASAN, lockdep and debugobjects (the ends' coalescing timers)
# watch the unwinding; the kernel log must stay clean.
# vm-kernels: 7-debug
# vm-timeout: 1800
set -u
. "$(dirname "$0")/../lib/check.sh"
. "$(dirname "$0")/../lib/guest.sh"

arms="rawnet safenet"
# Checks: 3 per arm, the log 1.
plan $((3 * 2 + 1))

# none_of ARM NAME...: no network device ARM<NAME> exists.
none_of() {
	local arm=$1 n
	shift
	for n in "$@"; do
		ip link show "$arm$n" >/dev/null 2>&1 && return 1
	done
	return 0
}

# fails_at_pair1 ARM MARK: loading ARM with two pairs fails, logging pair 1's failure.
fails_at_pair1() {
	! modprobe "$1" nr_pairs=2 2>/dev/null && klog_has "$2" 'cannot create pair 1'
}

# both_pairs_cycle ARM: ARM loads with two pairs and unloads, taking all four ends along.
both_pairs_cycle() {
	modprobe "$1" nr_pairs=2 && ip link show "${1}1b" >/dev/null && modprobe -r "$1" &&
		none_of "$1" 0a 0b 1a 1b
}

modprobe veth
for arm in $arms; do
	modprobe -r "$arm" 2>/dev/null
	ip link add "${arm}1b" type veth peer name tbpeer1b
	mark=$(klog_mark)
	check "$arm nr_pairs=2 with ${arm}1b taken: the load fails at pair 1" \
		fails_at_pair1 "$arm" "$mark"
	ip link del "${arm}1b"
	check "$arm: ... and leaves none of its devices" none_of "$arm" 0a 0b 1a
	check "$arm: with the name free, both pairs come up and go with the module" \
		both_pairs_cycle "$arm"
done

bad=$(kernel_problems)
[ -z "$bad" ] || printf '# %s\n' "$bad" | head -n 20
check "kernel log is clean" test -z "$bad"
finish
