#!/bin/bash
# rust-kernel.sh: build a Linux 6.12 kernel with CONFIG_RUST=y, the Rust null block driver
# (rnull) and null_blk as modules, BTF, and what the twinbench guest needs, from Debian 13's
# linux-source-6.12 and Rust toolchain, inside a Debian 13 chroot made with debootstrap so the
# Debian 12 host stays untouched. The result is cached in build/rust/ and reused: a second call
# with the result in place does nothing.
# Output: build/rust/vmlinuz, build/rust/kver, build/rust/root/lib/modules/<kver>/ (modules),
#         build/rust/chroot/build/linux (the built tree, for out-of-tree modules).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/rust
chroot_dir=$out/chroot
tree=/build/linux
stamp=$out/.done
jobs=${JOBS:-$(nproc)}

if [ -e "$stamp" ]; then
	echo "rust-kernel: cached: $(cat "$out/kver") in $out"
	exit 0
fi
[ "$(id -u)" = 0 ] || { echo "rust-kernel: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "rust-kernel: debootstrap is missing (scripts/install-deps.sh)" >&2; exit 1; }

mirror=$("$top/scripts/mirror.sh")

mkdir -p "$out"
start=$(date +%s)
if [ ! -e "$chroot_dir/.debootstrap-done" ]; then
	rm -rf "$chroot_dir"
	echo "rust-kernel: debootstrap trixie into $chroot_dir (mirror $mirror)"
	debootstrap --variant=minbase \
		--include=build-essential,bc,bison,flex,libelf-dev,libssl-dev,rustc,rust-src,bindgen,libclang-dev,clang,lld,llvm,python3,cpio,kmod,xz-utils,pahole,linux-source-6.12 \
		trixie "$chroot_dir" "$mirror" >"$out/debootstrap.log" 2>&1 ||
		{ echo "rust-kernel: debootstrap failed, see $out/debootstrap.log" >&2; exit 1; }
	touch "$chroot_dir/.debootstrap-done"
fi

in_chroot() {
	chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/root \
		/bin/bash -c "$1"
}
mountpoint -q "$chroot_dir/proc" || mount -t proc proc "$chroot_dir/proc"
trap 'umount "$chroot_dir/proc" 2>/dev/null || true' EXIT

if [ ! -e "$chroot_dir$tree/.config" ]; then
	in_chroot "set -e; mkdir -p $tree; tar -xaf /usr/src/linux-source-6.12.tar.* -C $tree --strip-components=1"
	in_chroot "set -e; cd $tree; make LLVM=1 rustavailable; make LLVM=1 defconfig
	scripts/config -d MODVERSIONS -e RUST -m BLK_DEV_NULL_BLK -m BLK_DEV_RUST_NULL \
		-e DEBUG_INFO -e DEBUG_INFO_DWARF5 -e DEBUG_INFO_BTF -e DEBUG_INFO_BTF_MODULES \
		-e BPF_SYSCALL -e BPF_EVENTS -e KPROBES -e KPROBE_EVENTS -e FTRACE -e FUNCTION_TRACER \
		-e VIRTIO_PCI -e NET_9P -e NET_9P_VIRTIO -e 9P_FS -e CONFIGFS_FS \
		-m BLK_DEV_NVME -m VETH -e IO_URING -e DEVTMPFS -e BLK_DEV_INITRD \
		-e NET_NS -e NAMESPACES -e HIGH_RES_TIMERS -e CRYPTO_CRC32C
	make LLVM=1 olddefconfig
	grep -q '^CONFIG_RUST=y' .config && grep -q '^CONFIG_BLK_DEV_RUST_NULL=m' .config"
fi
echo "rust-kernel: building bzImage and modules with $jobs jobs (about 20 minutes on 2 cores)"
in_chroot "set -e; cd $tree; make LLVM=1 -j$jobs bzImage modules >/build/make.log 2>&1" ||
	{ echo "rust-kernel: the kernel build failed, see $chroot_dir/build/make.log" >&2; exit 1; }
in_chroot "set -e; cd $tree; rm -rf /build/root; make LLVM=1 INSTALL_MOD_PATH=/build/root modules_install >/dev/null"
kver=$(in_chroot "cd $tree; make -s kernelrelease")
cp "$chroot_dir$tree/arch/x86/boot/bzImage" "$out/vmlinuz"
rm -rf "$out/root"
cp -a "$chroot_dir/build/root" "$out/root"
echo "$kver" >"$out/kver"
echo "$(( $(date +%s) - start ))" >"$out/build-seconds"
touch "$stamp"
echo "rust-kernel: built $kver in $(cat "$out/build-seconds") s: $out/vmlinuz"
