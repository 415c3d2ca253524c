#!/bin/bash
# debug-kernel.sh: the debug kernel line, built from the 7.x line's own prepared source with
# the kernel's own checkers on (lockdep with PROVE_LOCKING, KASAN, DEBUG_LIST,
# DEBUG_OBJECTS_TIMERS, DEBUG_ATOMIC_SLEEP), so that the guest tests catch locking, memory
# and timer bugs in the twins that a production kernel lets pass. The config is trimmed from
# x86_64 defconfig to what the block, NVMe and net guest tests use (no debug info, so no BTF:
# the BPF tools' tests do not run on this line), so the build takes tens of minutes, not hours.
# Everything lands in $TWINBENCH_CACHE/kernels/LINE (the source tree it starts from is only
# read): src/ (a copy of the source), build/ (the O= tree, also the kdir our modules build
# against), root/ (modules_install and the image) and kernel.env last, with the same keys as
# the other lines' (scripts/kernels.sh). Each stage prints one line with its time; a stage
# whose result is there is skipped, so a second call does nothing.
# Usage: scripts/debug-kernel.sh LINE BASE   (scripts/kernels.sh fetch calls it)
#   LINE  the debug line's name; BASE the line whose source and environment it takes
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${TWINBENCH_CACHE:-/var/cache/twinbench}
line=${1:?usage: debug-kernel.sh LINE BASE}
base=${2:?usage: debug-kernel.sh LINE BASE}
dir=$cache/kernels/$line
facts=$dir/kernel.env
LOCALVERSION=-twinbench-debug
# Kernel arguments every boot of the line gets (kernel.env boot_args; scripts/vm-run.sh adds
# them). no5lvl: under QEMU's -cpu max (LA57) the kernel runs with 5-level paging, and while
# identify_cpu refills boot_cpu_data's capabilities the LA57 bit is clear, so KASAN takes the
# 5-level direct map for wild addresses and reports any interrupt taken then (PID 0, 1 boot in
# 6). With 4-level paging an LA57 bit read in that window only widens KASAN's range, which
# never reports. It must be a boot argument: the decompressor, which picks the paging mode,
# reads only the boot loader's command line, not CONFIG_CMDLINE, and 7.x has no
# CONFIG_X86_5LEVEL to turn off.
BOOT_ARGS=no5lvl

# What the debug line sets on top of x86_64 defconfig; each is checked after olddefconfig, so a
# dependency that drops one is an error, never a silently weaker kernel. =n trims subsystems no
# guest test uses.
FRAGMENT="
CONFIG_LOCALVERSION=\"$LOCALVERSION\"
CONFIG_LOCALVERSION_AUTO=n
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
CONFIG_PCI=y
CONFIG_PCI_MSI=y
CONFIG_VIRTIO=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_NET=y
CONFIG_NET_9P=y
CONFIG_NET_9P_VIRTIO=y
CONFIG_9P_FS=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_DEVTMPFS=y
CONFIG_TMPFS=y
CONFIG_CONFIGFS_FS=m
CONFIG_BLK_DEV_NULL_BLK=m
CONFIG_BLK_DEV_NVME=m
CONFIG_NVME_MULTIPATH=y
CONFIG_BLK_DEBUG_FS=y
CONFIG_VETH=m
CONFIG_NET_NS=y
CONFIG_BPF_SYSCALL=y
CONFIG_BPF_JIT=y
CONFIG_BPF_EVENTS=y
CONFIG_DEBUG_INFO_NONE=y
CONFIG_DEBUG_KERNEL=y
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
CONFIG_KASAN_INLINE=y
CONFIG_PROVE_LOCKING=y
CONFIG_LOCKDEP=y
CONFIG_DEBUG_LIST=y
CONFIG_DEBUG_OBJECTS=y
CONFIG_DEBUG_OBJECTS_TIMERS=y
CONFIG_DEBUG_OBJECTS_WORK=y
CONFIG_DEBUG_ATOMIC_SLEEP=y
CONFIG_DRM=n
CONFIG_SOUND=n
CONFIG_USB_SUPPORT=n
CONFIG_WIRELESS=n
CONFIG_WLAN=n
CONFIG_NETFILTER=n
CONFIG_ETHERNET=n
CONFIG_ATA=n
CONFIG_SCSI=n
CONFIG_AGP=n
CONFIG_HID_SUPPORT=n
CONFIG_INPUT_JOYSTICK=n
CONFIG_INPUT_TABLET=n
CONFIG_INPUT_TOUCHSCREEN=n
CONFIG_HIBERNATION=n
CONFIG_EXT4_FS=n
CONFIG_NFS_FS=n
CONFIG_SECURITY=n
CONFIG_AUDIT=n
CONFIG_MD=n
CONFIG_ISO9660_FS=n
CONFIG_VFAT_FS=n
CONFIG_MSDOS_FS=n
CONFIG_QUOTA=n
CONFIG_AUTOFS_FS=n
CONFIG_RFKILL=n
CONFIG_FB=n
CONFIG_PCCARD=n
CONFIG_VIRTUALIZATION=n
CONFIG_INPUT_MOUSE=n
CONFIG_MACINTOSH_DRIVERS=n
CONFIG_FUSION=n
CONFIG_IPV6=n
CONFIG_HYPERVISOR_GUEST=n
CONFIG_X86_MCE=n
CONFIG_KEXEC=n
CONFIG_CRASH_DUMP=n
CONFIG_EFI=n
CONFIG_IA32_EMULATION=n
CONFIG_INTEL_IOMMU=n
CONFIG_AMD_IOMMU=n
CONFIG_WATCHDOG=n
CONFIG_DMADEVICES=n
CONFIG_EDAC=n
"

die() {
	echo "debug-kernel: $*" >&2
	exit 1
}

kv() {
	sed -n "s/^$1=//p" "$2" | head -n 1
}

stage_start=0
stage() {
	stage_start=$(date +%s)
	printf 'kernels: %s ... ' "$*"
}
stage_done() {
	echo "done in $(( $(date +%s) - stage_start )) s${1:+ ($1)}"
}

[ -e "$facts" ] && exit 0
basefacts=$("$top/scripts/kernels.sh" env "$base")
srcroot=$(kv rust_kdir "$basefacts")
[ -n "$srcroot" ] && [ -e "$srcroot/Makefile" ] ||
	die "kernel $base has no prepared source tree (rust_kdir in $basefacts) to build $line from"
inenv() { "$top/scripts/kernels.sh" run "$base" "$*"; }
mk="nice -n 5 make -C '$dir/src' O='$dir/build' -j${JOBS:-2}"
mkdir -p "$dir"

if [ ! -e "$dir/src/.twinbench-src" ]; then
	stage "kernel $line: copy the kernel $base source into $dir/src"
	rm -rf "$dir/src"
	cp -a "$srcroot" "$dir/src.tmp"
	inenv "make -C '$dir/src.tmp' -s mrproper" >"$dir/mrproper.log" 2>&1 ||
		die "make mrproper in the copy failed, see $dir/mrproper.log"
	touch "$dir/src.tmp/.twinbench-src"
	mv "$dir/src.tmp" "$dir/src"
	stage_done "$(du -sh "$dir/src" | cut -f1)"
fi

# A changed fragment configures (and so builds) again; the build itself is incremental.
if ! echo "$FRAGMENT" | sed '/^$/d' | cmp -s - "$dir/build/.twinbench-config"; then
	stage "kernel $line: configure (x86_64 defconfig and the debug fragment)"
	mkdir -p "$dir/build"
	rm -f "$dir/build/.config" "$dir/build/.twinbench-built"
	echo "$FRAGMENT" | sed '/^$/d' >"$dir/fragment.config"
	inenv "$mk defconfig" >"$dir/config.log" 2>&1 ||
		die "make defconfig failed, see $dir/config.log"
	sed -e 's/^\(CONFIG_[A-Z0-9_]*\)=n$/# \1 is not set/' "$dir/fragment.config" \
		>>"$dir/build/.config"
	inenv "$mk olddefconfig" >>"$dir/config.log" 2>&1 ||
		die "make olddefconfig failed, see $dir/config.log"
	bad=""
	while IFS= read -r opt; do
		name=${opt%%=*}
		case "$opt" in
		*=n) ! grep -q "^$name=" "$dir/build/.config" ;;
		*) grep -qxF "$opt" "$dir/build/.config" ;;
		esac || bad+=" $opt (.config: $(grep -E "^(# )?$name[= ]" "$dir/build/.config" || echo nothing));"
	done <"$dir/fragment.config"
	[ -z "$bad" ] || die "$dir/fragment.config: these did not hold after olddefconfig:$bad"
	cp "$dir/fragment.config" "$dir/build/.twinbench-config"
	stage_done "$(grep -c '=[ym]$' "$dir/build/.config") options on"
fi

if [ ! -e "$dir/build/.twinbench-built" ]; then
	stage "kernel $line: build (make -j${JOBS:-2} all, nice 5)"
	inenv "$mk all" >"$dir/build.log" 2>&1 ||
		die "the $line kernel build failed, see $dir/build.log (tail: $(tail -n 3 "$dir/build.log" | tr '\n' ' '))"
	touch "$dir/build/.twinbench-built"
	stage_done "bzImage $(du -h "$dir/build/arch/x86/boot/bzImage" | cut -f1)"
fi
rel=$(cat "$dir/build/include/config/kernel.release")
case "$rel" in
*"$LOCALVERSION") ;;
*) die "the $line kernel's release is '$rel': CONFIG_LOCALVERSION $LOCALVERSION did not hold" ;;
esac

stage "kernel $line: modules_install into $dir/root"
rm -rf "$dir/root.tmp"
inenv "$mk -s INSTALL_MOD_PATH='$dir/root.tmp' INSTALL_MOD_STRIP=1 modules_install" \
	>"$dir/install.log" 2>&1 || die "modules_install failed, see $dir/install.log"
# Where kmod says modules live (usr/lib/modules on a merged /usr): lib/ must lead there.
[ -e "$dir/root.tmp/lib" ] || ln -s usr/lib "$dir/root.tmp/lib"
rm -f "$dir/root.tmp/lib/modules/$rel/build" "$dir/root.tmp/lib/modules/$rel/source"
mkdir -p "$dir/root.tmp/boot"
cp "$dir/build/arch/x86/boot/bzImage" "$dir/root.tmp/boot/vmlinuz-$rel"
rm -rf "$dir/root"
mv "$dir/root.tmp" "$dir/root"
stage_done "$(find "$dir/root" -name '*.ko' | wc -l) modules, $(du -sh "$dir/root" | cut -f1)"

cat >"$facts.tmp" <<EOF
line=$line
suite=$(kv suite "$basefacts")
release=$rel
package=linux-source-$(kv release "$basefacts" | grep -o -E '^[0-9]+\.[0-9]+')
version=$(kv version "$basefacts")
image=$dir/root/boot/vmlinuz-$rel
modroot=$dir/root
config=$dir/build/.config
kdir=$dir/build
env=$(kv env "$basefacts")
cc=gcc
cc_version=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$dir/build/.config")
rustc_version=
bindgen_version=
rust_kdir=
boot_args=$BOOT_ARGS
EOF
mv "$facts.tmp" "$facts"
echo "kernels: kernel $line ready: $rel, $(du -sh "$dir" | cut -f1)"
