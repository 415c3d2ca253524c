#!/bin/bash
# rust-twins.sh: build our kernel modules (drivers-raw/, drivers-safe/, tests/modules/) for the
# Rust-enabled kernel of scripts/rust-kernel.sh, so the null twins run beside rnull there.
# The build runs inside the Debian 13 chroot with the clang the kernel was built with (LLVM=1),
# W=1 and warnings as errors, from a copy of the sources under the chroot (/build/twinbench),
# and collects the .ko files into build/rust/twins/. It rebuilds only when the sources changed
# (their hash is kept in build/rust/twins/.sources); otherwise it says so and does nothing.
# Output: build/rust/twins/*.ko, build/rust/twins/.done, the log in build/rust/twins-build.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/rust
chroot_dir=$out/chroot
twins=$out/twins
src_in_chroot=/build/twinbench
# What the rust arm needs: the root Kbuild, the null twins (with their ablation variants), the
# safe layer and its self-test, and the test modules. The nvme and net twins are left out:
# they are not part of the rust arm and not ported to 6.12 (the root Kbuild builds whatever
# module folders the copy holds).
SOURCES="Kbuild drivers-raw/nullblk drivers-safe/nullblk drivers-safe/kernel tests/modules"
# clang flags the self-test's deliberate shift by the full width, in the branch the checked
# shift never takes (gcc does not): a false positive in that one test file only.
SELFTEST_CFLAGS="CFLAGS_safe_selftest.o=-Wno-shift-count-overflow"
# Build outputs are not sources (the tree's own .gitignore patterns).
EXCLUDES=(--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c'
	--exclude='*.cmd' --exclude='.*.cmd' --exclude='*.a' --exclude=Module.symvers
	--exclude=modules.order --exclude='ablation_*.c' --exclude='.tmp_versions')

if [ ! -e "$out/.done" ]; then
	echo "rust-twins: no Rust kernel in $out (make rust-kernel first)" >&2
	exit 1
fi
[ "$(id -u)" = 0 ] || { echo "rust-twins: needs root (chroot)" >&2; exit 1; }
kver=$(cat "$out/kver")

cd "$top"
# shellcheck disable=SC2086
hash=$(tar -c --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner "${EXCLUDES[@]}" \
	$SOURCES | sha256sum | cut -d' ' -f1)
if [ -e "$twins/.done" ] && [ "$(cat "$twins/.sources" 2>/dev/null)" = "$hash" ]; then
	echo "rust-twins: up to date: $(ls "$twins"/*.ko | wc -l) modules for $kver in $twins"
	exit 0
fi

rm -rf "${chroot_dir:?}$src_in_chroot"
mkdir -p "$chroot_dir$src_in_chroot"
# shellcheck disable=SC2086
tar -c "${EXCLUDES[@]}" $SOURCES | tar -x -C "$chroot_dir$src_in_chroot"

if ! mountpoint -q "$chroot_dir/proc"; then
	mount -t proc proc "$chroot_dir/proc"
	trap 'umount "$chroot_dir/proc" 2>/dev/null || true' EXIT
fi
echo "rust-twins: building our modules for $kver (LLVM=1, W=1, -Werror) in the chroot"
if ! chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/root \
	make -C /build/linux M=$src_in_chroot LLVM=1 W=1 KCFLAGS=-Werror "$SELFTEST_CFLAGS" \
	-j"${JOBS:-2}" modules \
	>"$out/twins-build.log" 2>&1; then
	tail -n 30 "$out/twins-build.log" >&2
	echo "rust-twins: the build failed, see $out/twins-build.log" >&2
	exit 1
fi
# Warnings that -Werror does not turn into errors (Kbuild's own, modpost) still fail the build.
if grep -E -i 'warning' "$out/twins-build.log" >&2; then
	echo "rust-twins: the build warned (above), see $out/twins-build.log" >&2
	exit 1
fi

rm -rf "$twins"
mkdir -p "$twins"
find "$chroot_dir$src_in_chroot" -name '*.ko' -exec cp {} "$twins/" \;
for ko in "$twins"/*.ko; do
	v=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	[ "$v" = "$kver" ] || { echo "rust-twins: $ko is for '$v', not $kver" >&2; exit 1; }
done
echo "$hash" >"$twins/.sources"
touch "$twins/.done"
echo "rust-twins: built for $kver: $(cd "$twins" && ls -- *.ko | tr '\n' ' ')"
