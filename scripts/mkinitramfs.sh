#!/bin/sh
# mkinitramfs.sh: build the guest's initramfs for VM mode.
# Usage: scripts/mkinitramfs.sh -o FILE -k KVER [-r MODROOT] [-M KODIR] [-f HOSTFILE]...
#   -k KVER     the guest kernel's release: one of the cached kernels of scripts/kernels.sh
#   -r MODROOT  where lib/modules/KVER lives (default: that kernel's folder in the cache; the
#               host's own /lib/modules is never used)
#   -M KODIR    take our *.ko from KODIR (default: build/kernels/LINE/ko, built for it)
# It holds busybox, kmod, fio, iperf3, iproute2, ethtool, the runner and our tools with the
# libraries ldd names, every module this tree built (as /lib/modules/KVER/extra/*.ko), the stock
# modules the suite compares against with the dependencies modprobe names, depmod data, and the
# guest-side test scripts (/twinbench/tests). The guest's /init is scripts/guest-init.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=""
kver=""
extra=""
modroot=""
kodir=""
while getopts "o:k:f:r:M:" opt; do
	case "$opt" in
	o) out=$OPTARG ;;
	k) kver=$OPTARG ;;
	r) modroot=${OPTARG%/} ;;
	M) kodir=$OPTARG ;;
	f) extra="$extra $OPTARG" ;;
	*) echo "usage: $0 -o FILE [-k KVER] [-r MODROOT] [-M KODIR] [-f HOSTFILE]..." >&2; exit 2 ;;
	esac
done
[ -n "$out" ] || { echo "mkinitramfs: -o FILE is required" >&2; exit 2; }
[ -n "$kver" ] || { echo "mkinitramfs: -k KVER is required" >&2; exit 2; }
if [ -z "$modroot" ] || [ -z "$kodir" ]; then
	line=$("$top/scripts/kernels.sh" line-of "$kver") ||
		{ echo "mkinitramfs: $kver is not a cached kernel (make kernels; scripts/kernels.sh lines)" >&2; exit 2; }
	[ -n "$modroot" ] || modroot=$(sed -n 's/^modroot=//p' "$("$top/scripts/kernels.sh" env "$line")")
	[ -n "$kodir" ] || kodir=$top/build/kernels/$line/ko
fi
moddir=/lib/modules/$kver
[ -d "$modroot$moddir/kernel" ] || { echo "mkinitramfs: no modules for $kver in $modroot$moddir" >&2; exit 1; }
[ -z "$kodir" ] || [ -d "$kodir" ] || { echo "mkinitramfs: -M $kodir: no such folder" >&2; exit 2; }

# Stock modules: the upstream arms and what the guest needs to reach the host. rnull_mod (the
# Rust null block driver, the rust arm) comes with our modules (-M) on a Rust-enabled kernel;
# configfs is what it is set up through.
STOCK_MODULES="null_blk nvme veth 9p 9pnet_virtio virtio_pci virtio_net configfs"
# Host binaries every guest gets (found on PATH); missing optional ones are skipped.
# Busybox fills in the rest; its static build prefers its own applets inside its shell, so
# the shells are dash and bash.
TOOLS="busybox dash bash kmod fio iperf3 ip tc ethtool perf"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/bin "$root"/sbin "$root"/usr/bin "$root"/lib64 "$root"/etc \
	"$root"/proc "$root"/sys "$root"/dev "$root"/tmp "$root"/out "$root"/twinbench \
	"$root$moddir/extra"

copy_with_libs() {
	src=$1
	dst=$2
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
	ldd "$src" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}' |
	while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

for t in $TOOLS; do
	p=$(command -v "$t" 2>/dev/null) || continue
	case "$t" in
	busybox) copy_with_libs "$p" /bin/busybox ;;
	dash) copy_with_libs "$p" /bin/sh ;;
	bash) copy_with_libs "$p" /bin/bash ;;
	perf)
		# Debian's perf is a wrapper script around perf_<version>; take the real binary.
		real=$(ls /usr/bin/perf_[0-9]* 2>/dev/null | sort -V | tail -n 1)
		[ -n "$real" ] && copy_with_libs "$real" /usr/bin/perf
		;;
	*) copy_with_libs "$p" "/usr/bin/$t" ;;
	esac
done
[ -x "$root/bin/busybox" ] || { echo "mkinitramfs: busybox-static is missing" >&2; exit 1; }
for applet in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$applet" ] || [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
for kmodcmd in modprobe insmod rmmod lsmod modinfo depmod; do
	ln -sf /usr/bin/kmod "$root/sbin/$kmodcmd"
	rm -f "$root/bin/$kmodcmd"
done

# Our own binaries, wherever they are built.
for b in bench/twinbench bpf/twintrace tests/tools/udpcheck plugin/twinmark; do
	[ -x "$top/$b" ] && copy_with_libs "$top/$b" "/usr/bin/$(basename "$b")"
done
for f in $extra; do
	[ -e "$f" ] || { echo "mkinitramfs: -f $f: no such file" >&2; exit 2; }
	copy_with_libs "$f" "/usr/bin/$(basename "$f")"
done

# Stock modules with their dependencies, at their own paths.
for m in $STOCK_MODULES; do
	modprobe ${modroot:+-d "$modroot"} -S "$kver" --show-depends "$m" 2>/dev/null |
		awk '$1 == "insmod" {print $2}'
done | sort -u | while read -r ko; do
	ko=${ko#"$modroot"}
	mkdir -p "$root$(dirname "$ko")"
	cp "$modroot$ko" "$root$ko"
done
# Every module this tree built (or the ones built for another kernel, with -M).
find ${kodir:-"$top/drivers-raw" "$top/drivers-safe" "$top/tests"} -name '*.ko' 2>/dev/null |
while read -r ko; do
	cp "$ko" "$root$moddir/extra/"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -e "$modroot$moddir/$f" ] && cp "$modroot$moddir/$f" "$root$moddir/"
done
depmod -b "$root" "$kver"

cp -r "$top/tests/vm" "$root/twinbench/tests" 2>/dev/null || mkdir -p "$root/twinbench/tests"
cp -r "$top/tests/lib" "$root/twinbench/lib"
cp "$top/scripts/guest-init" "$root/init"
chmod +x "$root/init"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out ($(du -h "$out" | cut -f1), kernel $kver)"
