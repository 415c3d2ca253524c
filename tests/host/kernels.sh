#!/bin/bash
# kernels.sh: the cached kernels and their build environments (scripts/kernels.sh), as a
# user checks them after make kernels and make modules-all: every line has its release,
# package (a debug line: the linux-source package it is built from) and compilers on record,
# an image and modules unpacked outside /boot and /lib/modules, our modules built for exactly
# that release (rnull too where the kernel has Rust); a second make kernels does nothing;
# bad input (an unknown KERNEL=, a line that is not in the cache) is refused with one line
# saying what to run, before anything boots.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
kernels=$top/scripts/kernels.sh
cache=${TWINBENCH_CACHE:-/var/cache/twinbench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

kv() { sed -n "s/^$1=//p" "$2" | head -n 1; }

# Checks: 5 per kernel line, then the second fetch 1, the bad KERNEL= 2, the uncached line 2.
plan $((5 * $("$kernels" lines | wc -w) + 1 + 2 + 2))
for line in $("$kernels" lines); do
	if ! facts=$("$kernels" env "$line" 2>"$work/err"); then
		not_ok "kernel $line is cached: $(cat "$work/err")"
		continue
	fi
	rel=$(kv release "$facts")
	check "kernel $line: release, package and version recorded ($rel, $(kv package "$facts") $(kv version "$facts"))" \
		sh -c "[ -n '$rel' ] && [ -n '$(kv version "$facts")' ] &&
			case '$(kv package "$facts")' in linux-image-$rel|linux-source-[0-9]*) ;; *) false ;; esac"
	image=$(kv image "$facts") modroot=$(kv modroot "$facts")
	check "kernel $line: image and modules are unpacked in $cache, not the host's /boot" \
		test -r "$image" -a -d "$modroot/lib/modules/$rel/kernel" -a \
		"${image#"$cache"/}" != "$image" -a "${modroot#"$cache"/}" != "$modroot"
	check "kernel $line: the compiler it was built with is recorded ($(kv cc_version "$facts"))" \
		[ -n "$(kv cc_version "$facts")" ]
	ko=$top/build/kernels/$line/ko
	n=0 bad=0
	for f in "$ko"/*.ko; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		[ "$(modinfo -F vermagic "$f" | cut -d' ' -f1)" = "$rel" ] || bad=$((bad + 1))
	done
	check "kernel $line: our modules are built for $rel ($n, $bad for another release)" \
		test "$n" -ge 26 -a "$bad" = 0
	if grep -q '^CONFIG_RUST=y' "$(kv config "$facts")"; then
		check "kernel $line: it has Rust, so rnull_mod.ko is built ($(kv rustc_version "$facts"))" \
			test -e "$ko/rnull_mod.ko"
	else
		check "kernel $line: no Rust, so no rnull_mod.ko" test ! -e "$ko/rnull_mod.ko"
	fi
done

"$kernels" fetch >"$work/fetch.out" 2>&1
rc=$?
check "a second scripts/kernels.sh fetch does nothing (exit $rc, $(wc -l <"$work/fetch.out") lines)" \
	test "$rc" = 0 -a ! -s "$work/fetch.out"

make -s -C "$top" modules KERNEL=5.10 >"$work/bad.out" 2>&1
check "make KERNEL=5.10 is refused in one line naming the supported kernels" \
	test $? != 0 -a "$(wc -l <"$work/bad.out")" = 1
check "  ... that line names 5.10 and the lines" grep -q "KERNEL=5.10 .*6.1 6.12 7" "$work/bad.out"
TWINBENCH_CACHE=$work/empty "$top/bench/twinbench" run --kernel 6.12 --profile quick \
	>"$work/missing.out" 2>&1
rc=$?
check "a line not in the cache is refused before anything boots (exit $rc)" \
	test "$rc" = 2 -a "$(grep -c 'booting the VM\|initramfs' "$work/missing.out")" = 0
check "  ... in one line saying what to run" \
	grep -q "kernel 6.12 is not in $work/empty (run 'make kernels'" "$work/missing.out"
finish
