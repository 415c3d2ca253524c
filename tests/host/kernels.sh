#!/bin/bash
# kernels.sh: the cached kernels and their build environments (scripts/kernels.sh), as a
# user checks them after make kernels and make modules-all: every line has its release,
# package (a debug line: the linux-source package it is built from) and compilers on record,
# an image and modules unpacked outside /boot and /lib/modules, our modules built for exactly
# that release (rnull too where the kernel has Rust, built with the whole tree against its
# prepared tree), module BTF exactly where the build tree has vmlinux; the default is the
# newest line; a second make kernels does nothing; bad input (an unknown KERNEL=, a line not in
# the cache, a missing environment, a broken cache entry, a kernel package that cannot be
# fetched) is refused with one line saying what is wrong and what to run, before anything
# boots. Host mode's Rust decision (scripts/kernels.sh host-rust) is checked on the cached
# headers: this host's own kernel has no Rust, so the prepare itself is not run here.
set -uo pipefail
. "$(dirname "$0")/../lib/check.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
kernels=$top/scripts/kernels.sh
cache=${TWINBENCH_CACHE:-/var/cache/twinbench}
work=$(mktemp -d)
# in_root makes the cache's mount point inside the environment: remove those we made.
envs=$(sed -n 's/^env=//p' "$cache"/kernels/*/kernel.env 2>/dev/null | sort -u)
cleanup() {
	local e
	rm -rf "$work"
	for e in $envs; do
		[ "$e" = / ] || rmdir "$e$work/c4" "$e$work" 2>/dev/null
	done
}
trap cleanup EXIT

kv() { sed -n "s/^$1=//p" "$2" | head -n 1; }
# says TEXT RE: TEXT is one line matching the extended regular expression RE.
says() { [ "$(echo "$1" | wc -l)" = 1 ] && echo "$1" | grep -q -E -- "$2"; }

# Checks: 6 per kernel line, then the default 1, the second fetch 1, the bad KERNEL= 2, the
# uncached line 2, the missing environment 2, the broken entry 1, the unfetchable package 1,
# host mode's Rust decisions 6.
plan $((6 * $("$kernels" lines | wc -w) + 1 + 1 + 2 + 2 + 2 + 1 + 1 + 6))
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
	tree=$(kv kdir "$facts")
	if grep -q '^CONFIG_RUST=y' "$(kv config "$facts")"; then
		tree=$(kv rust_kdir "$facts")
		check "kernel $line: it has Rust, so the tree built against its prepared tree and rnull_mod.ko is built ($(kv rustc_version "$facts"))" \
			eval "test -e '$ko/rnull_mod.ko' &&
				grep -q \"Entering directory '$tree'\" '$top/build/kernels/$line/build.log'"
	else
		check "kernel $line: no Rust, so no rnull_mod.ko" test ! -e "$ko/rnull_mod.ko"
	fi
	with=0
	for f in "$ko"/*.ko; do
		[ -e "$f" ] && readelf -S "$f" | grep ' \.BTF ' >/dev/null && with=$((with + 1))
	done
	if [ -e "$tree/vmlinux" ]; then
		check "kernel $line: its build tree has vmlinux, so all $n modules carry BTF ($with)" \
			test "$with" = "$n" -a "$n" -gt 0
	else
		check "kernel $line: its build tree has no vmlinux, so no module carries BTF ($with)" \
			test "$with" = 0
	fi
done

newest=$("$kernels" lines | awk '{ print $NF }')
check "the default kernel is the newest line ($("$kernels" default))" \
	test "$("$kernels" default)" = "$newest"

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

# A cache entry whose environment is gone, and one whose image is gone (copies of 6.12's).
real=$("$kernels" env 6.12 2>/dev/null)
mkdir -p "$work/noenv/kernels/6.12" "$work/broken/kernels/6.12"
sed "s|^env=.*|env=$work/noenv/env/trixie|" "$real" >"$work/noenv/kernels/6.12/kernel.env"
sed "s|^image=.*|image=$work/broken/vmlinuz|" "$real" >"$work/broken/kernels/6.12/kernel.env"
TWINBENCH_CACHE=$work/noenv "$top/bench/twinbench" run --kernel 6.12 --profile quick \
	>"$work/noenv.out" 2>&1
rc=$?
check "a missing build environment is refused before anything boots (exit $rc)" \
	test "$rc" = 2 -a "$(grep -c 'booting the VM\|initramfs' "$work/noenv.out")" = 0
check "  ... in one line naming the environment and what to run" \
	test "$(wc -l <"$work/noenv.out")" = 1 -a \
	"$(grep -c "environment $work/noenv/env/trixie is missing or broken (.*run 'make kernels')" "$work/noenv.out")" = 1
TWINBENCH_CACHE=$work/broken "$kernels" env 6.12 >"$work/broken.out" 2>&1
check "a cache entry without its image is refused in one line naming the file and what to run" \
	test "$(wc -l <"$work/broken.out")" = 1 -a \
	"$(grep -c "kernel 6.12 in $work/broken is broken: no $work/broken/vmlinuz (remove .* run 'make kernels')" "$work/broken.out")" = 1

# A kernel package that cannot be fetched: host-prepare for a Rust-enabled Debian kernel
# whose source version the archive does not have (headers made from 7's with that version),
# in the real trixie environment (linked; nothing is downloaded: apt finds no such version).
k7=$("$kernels" env 7 2>/dev/null)
fake=$work/fake/usr/src/linux-headers-7.0.0+deb13-amd64
mkdir -p "$fake/include/generated" "$work/fake/usr/share/doc/linux-headers-7.0.0+deb13-amd64" \
	"$work/c4/env"
cp "$(kv config "$k7")" "$fake/.config"
echo '#define UTS_RELEASE "7.0.0+deb13-amd64"' >"$fake/include/generated/utsrelease.h"
echo 'linux (7.0.0-1~bpo13+1) trixie-backports; urgency=medium' | gzip \
	>"$work/fake/usr/share/doc/linux-headers-7.0.0+deb13-amd64/changelog.Debian.gz"
ln -s "$(kv env "$k7")" "$work/c4/env/trixie"
TWINBENCH_CACHE=$work/c4 "$kernels" host-prepare "$fake" >"$work/nofetch.out" 2>&1
rc=$?
check "a kernel package that cannot be fetched fails in one line naming it and its log (exit $rc)" \
	test "$rc" = 1 -a "$(grep -c '^kernels: cannot download linux-source-7.0=7.0.0-1~bpo13+1 .*, see ' "$work/nofetch.out")" = 1
sed 's/^/# /' "$work/nofetch.out"

# Host mode's Rust decision, on the cached headers and trees.
d=$("$kernels" host-rust "$(kv kdir "$("$kernels" env 6.1)")")
check "host mode, a kernel without Rust: skipped, saying why and what would enable it" \
	says "$d" '^skip .*without Rust.*would enable them$' 
d=$(TWINBENCH_CACHE=$work/c5 "$kernels" host-rust "$(kv kdir "$k7")")
check "host mode, Debian's Rust-enabled 7.x headers: prepare its source version ($d)" \
	test "$d" = "prepare $(kv version "$k7") trixie-backports"
mkdir -p "$work/c6/host/$(kv release "$k7")"
ln -s "$(kv rust_kdir "$k7")" "$work/c6/host/$(kv release "$k7")/linux"
touch "$work/c6/host/$(kv release "$k7")/.twinbench-tree"
d=$(TWINBENCH_CACHE=$work/c6 "$kernels" host-rust "$(kv kdir "$k7")")
check "host mode, 7.x headers once prepared: its tree" \
	test "$d" = "tree $work/c6/host/$(kv release "$k7")/linux"
d=$(TWINBENCH_CACHE=$work/c5 "$kernels" host-rust "$(kv rust_kdir "$k7")")
check "host mode, a full build tree with Rust metadata: the tree itself" \
	test "$d" = "tree $(kv rust_kdir "$k7")"
mkdir -p "$work/own/include/generated"
cp "$fake/.config" "$fake/include/generated/utsrelease.h" "$work/own/" 2>/dev/null
cp "$fake/include/generated/utsrelease.h" "$work/own/include/generated/"
d=$("$kernels" host-rust "$work/own")
check "host mode, Rust-enabled headers of no Debian package: skipped, naming the fix" \
	says "$d" '^skip .*no Rust metadata.*point KDIR at' 
d=$("$kernels" host-rust "/lib/modules/$(uname -r)/build")
check "host mode on this host ($(uname -r)): one line with the decision" \
	says "$d" '^(skip|tree|prepare) [^ ]' 
echo "# this host: $d"
finish
