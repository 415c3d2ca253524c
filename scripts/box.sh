#!/bin/bash
# box.sh: a "machine in a box" for host mode: a whole Debian system of the newest kernel
# line's suite on a virtio disk, with that line's kernel and headers installed with apt and
# the suite's dependencies installed by scripts/install-deps.sh, booted under QEMU with two
# emulated NVMe controllers, so the README's host-mode commands run as on bare metal.
# The system is built natively in a chroot (never under TCG) and cached in
# $TWINBENCH_CACHE/box/KEY/, KEY hashing the recipe (build_image and what it installs), the
# init, the installer, its list and the kernel's facts; a second `image` does nothing.
#
# Usage: scripts/box.sh image          build the system if missing; prints its folder
#        scripts/box.sh tree SHARE     a clean clone of this tree's HEAD in SHARE/twinbench,
#                                      built natively in a throwaway overlay of the system
#                                      (make all MODE=host against its kernel's headers)
#        scripts/box.sh boot SHARE [--append ARGS] [--timeout S] [--smp N]
#                                      boot it; the box copies SHARE/twinbench to
#                                      /root/twinbench and runs SHARE/job.sh as root
# In the box (tests/box/init.sh): SHARE is /out; /run/box.env names the controllers:
# BUSY_PCI (ext4 partition mounted on /srv/data, an LVM volume boxvg/data on the other,
# SHARE/busy.img), FREE_PCI (null-backed, no host storage), ROOT_PCI (the virtio root disk).
# The box writes only SHARE (its root disk is booted in snapshot mode: the cache is not written).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${TWINBENCH_CACHE:-/var/cache/twinbench}
LINE=$("$top/scripts/kernels.sh" default)
# What the box adds to the kernel line's build environment: an init to boot, udev and LVM
# for the busy controller, partitioning, and git for the clone.
BOX_PACKAGES="initramfs-tools udev lvm2 fdisk e2fsprogs iproute2 procps kmod git"
BUSY_SIZE=512M

stage_start=0
stage() {
	stage_start=$(date +%s)
	printf 'box: %s ... ' "$*"
}
stage_done() { echo "done in $(( $(date +%s) - stage_start )) s${1:+ ($1)}"; }
die() {
	echo
	echo "box: $*" >&2
	exit 1
}
kv() { sed -n "s/^$1=//p" "$2" | head -n 1; }

facts=$("$top/scripts/kernels.sh" env "$LINE") ||
	die "kernel line $LINE is not fetched (make kernels)"
rel=$(kv release "$facts")

# in_chroot ROOT COMMAND: COMMAND in ROOT with /proc, /sys and /dev, in a private mount
# namespace that takes the mounts with it.
in_chroot() {
	unshare -m --propagation private bash -c '
		set -e
		mount -t proc proc "$1/proc"
		mount --rbind /sys "$1/sys"
		mount --rbind /dev "$1/dev"
		exec chroot "$1" /usr/bin/env -i HOME=/root LC_ALL=C.UTF-8 \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive bash -c "$2"' in_chroot "$1" "$2"
}

# clone DIR: a clean clone of HEAD (committed files only) at DIR.
clone() {
	rm -rf "$1"
	git init -q "$1" && git -C "$1" fetch -q --depth 1 "file://$top" HEAD &&
		git -C "$1" checkout -q FETCH_HEAD
}

build_image() {
	local tmp=$box.tmp root env t0 rust_kdir hdr target
	[ "$(id -u)" = 0 ] || die "building the box needs root (chroot, mkfs)"
	env=$(kv env "$facts")
	rust_kdir=$(kv rust_kdir "$facts")
	t0=$(date +%s)
	rm -rf "$tmp"
	mkdir -p "$tmp"
	root=$tmp/root

	# The line's environment is a debootstrap --variant=minbase of its suite with apt set up
	# and the kernel's compilers installed: a copy is the same system a debootstrap and
	# apt would make, minutes sooner.
	stage "system: copy of the $(kv suite "$facts") environment $env"
	cp -a "$env" "$root"
	rm -f "$root/.twinbench-env"
	echo box >"$root/etc/hostname"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	stage_done "$(du -sh "$root" | cut -f1)"

	# A backports kernel (Debian's "~bpo" versions) takes what it needs from backports too.
	case "$(kv version "$facts")" in
	*~bpo*) target="-t $(kv suite "$facts")-backports" ;;
	*) target="" ;;
	esac
	stage "apt: kernel $rel (line $LINE, its cached .debs) with headers, $BOX_PACKAGES"
	mkdir -p "$root/tmp/debs"
	cp "$cache/kernels/$LINE"/debs/*.deb "$root/tmp/debs/"
	in_chroot "$root" "apt-get -q update && apt-get -q -y install --no-install-recommends \
		$BOX_PACKAGES && apt-get -q -y install --no-install-recommends $target /tmp/debs/*.deb" \
		>"$tmp/apt.log" 2>&1 || die "apt in the box failed, see $tmp/apt.log"
	rm -rf "$root/tmp/debs"
	[ -e "$root/boot/initrd.img-$rel" ] || die "no initrd for $rel in the box (see $tmp/apt.log)"
	stage_done
	cp "$root/boot/initrd.img-$rel" "$tmp/initrd.img"
	if [ -e "$root/boot/vmlinuz-$rel" ]; then
		cp "$root/boot/vmlinuz-$rel" "$tmp/vmlinuz"
	else
		cp "$root/usr/lib/modules/$rel/vmlinuz" "$tmp/vmlinuz"
	fi

	# The project's own installer, from a clone, as a user runs it (make deps). Packages
	# the suite does not have are said by the installer and left out (scripts/deps.list).
	stage "install-deps: scripts/install-deps.sh in the box"
	clone "$root/root/twinbench"
	in_chroot "$root" "cd /root/twinbench && scripts/install-deps.sh && apt-get clean" \
		>"$tmp/install-deps.log" 2>&1 ||
		die "scripts/install-deps.sh failed in the box, see $tmp/install-deps.log"
	rm -rf "$root/root/twinbench"
	stage_done "$(grep -c . "$tmp/install-deps.log") lines of log"

	# What `make host-prepare` leaves for this kernel: the Rust tree of the same
	# linux-source version with Debian's .config, Module.symvers and vmlinux, the recipe of
	# line 7, whose prepared tree it is. Checked equal to the installed headers.
	if [ -n "$rust_kdir" ]; then
		stage "host-prepare: the Rust tree of $rel"
		hdr=$root/usr/src/linux-headers-$rel
		for p in .config Module.symvers; do
			cmp -s "$rust_kdir/$p" "$hdr/$p" ||
				die "line $LINE's prepared tree's $p differs from the box's $hdr/$p"
		done
		mkdir -p "$root$cache/host/$rel"
		cp -a "$rust_kdir" "$root$cache/host/$rel/linux"
		printf 'env=/\ncc=%s\n' "$(kv cc "$facts")" >"$root$cache/host/$rel/.twinbench-tree"
		stage_done "$(du -sh "$root$cache/host/$rel" | cut -f1)"
	fi

	install -m 0755 "$top/tests/box/init.sh" "$root/sbin/box-init"
	# vda is the root, written as ext4 without a partition table.
	echo "/dev/vda / ext4 rw,relatime 0 1" >"$root/etc/fstab"

	stage "disk: ext4 root image"
	local size
	size=$(( $(du -s -B1M "$root" | cut -f1) * 5 / 4 + 2048 ))
	mkfs.ext4 -q -F -L boxroot -d "$root" "$tmp/disk.raw" "${size}M" >"$tmp/mkfs.log" 2>&1 ||
		die "mkfs.ext4 -d failed, see $tmp/mkfs.log"
	stage_done "${size} MiB"

	echo "built $(date -u +%FT%TZ) in $(( $(date +%s) - t0 )) s: kernel $rel" >"$tmp/built"
	rm -rf "$box"
	mv "$tmp" "$box"
	touch "$box/.done"
	echo "box: ready: $box ($(cat "$box/built"))"
}

cmd_image() {
	mkdir -p "$cache/box"
	exec 9>"$cache/box/.lock"
	flock 9
	[ -e "$box/.done" ] || build_image
	echo "$box"
}

# tree SHARE: a clean clone built natively against the box kernel's headers, in an overlay
# of the box's system (the clone is bound at its own path, /root/twinbench, so the box
# finds everything built where it looks).
cmd_tree() {
	local share=$1 run t0
	[ -e "$box/.done" ] || die "no box at $box (scripts/box.sh image)"
	mkdir -p "$share"
	clone "$share/twinbench" || die "cannot clone $top into $share/twinbench"
	run=$(mktemp -d "$cache/box/tree.XXXXXX")
	mkdir "$run/upper" "$run/work" "$run/root"
	t0=$(date +%s)
	stage "tree: make all MODE=host in the box's system (native)"
	unshare -m --propagation private bash -c '
		set -e
		mount -t overlay overlay -o "lowerdir=$1/root,upperdir=$2/upper,workdir=$2/work" "$2/root"
		mkdir -p "$2/root/root/twinbench"
		mount --bind "$3/twinbench" "$2/root/root/twinbench"
		mount -t proc proc "$2/root/proc"
		mount --rbind /sys "$2/root/sys"
		mount --rbind /dev "$2/root/dev"
		exec chroot "$2/root" /usr/bin/env -i HOME=/root LC_ALL=C.UTF-8 \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			bash -c "cd /root/twinbench && make -j2 all MODE=host KDIR=/lib/modules/$4/build"' \
		tree "$box" "$run" "$share" "$rel" >"$share/tree-build.log" 2>&1 ||
		{ rm -rf "$run"; die "the clone does not build in the box, see $share/tree-build.log"; }
	rm -rf "$run"
	stage_done
}

# boot SHARE [--append ARGS] [--timeout S] [--smp N]: the box on its disk in QEMU's snapshot
# mode (its writes go to a temporary file QEMU deletes), the busy controller's blank disk
# SHARE/busy.img, and the free null-backed one.
cmd_boot() {
	local share=$1 append="" tmo=3600 smp=2
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--append) append=${2:?}; shift ;;
		--timeout) tmo=${2:?}; shift ;;
		--smp) smp=${2:?}; shift ;;
		*) die "boot: unknown option '$1' (expected --append, --timeout or --smp)" ;;
		esac
		shift
	done
	[ -e "$box/.done" ] || die "no box at $box (scripts/box.sh image)"
	[ -r "$share/job.sh" ] || die "boot: $share/job.sh is missing"
	rm -f "$share/busy.img"
	truncate -s "$BUSY_SIZE" "$share/busy.img"
	"$top/scripts/vm-run.sh" --share "$share" --kernel-image "$box/vmlinuz" \
		--initrd "$box/initrd.img" --kver "$rel" --clock wall --accel tcg --smp "$smp" \
		--mem 3072 --timeout "$tmo" --quiet \
		--nvme "file=$share/busy.img" --nvme null=1G \
		--qemu-arg -drive --qemu-arg "file=$box/disk.raw,if=virtio,format=raw,snapshot=on" \
		--append "root=/dev/vda rw init=/sbin/box-init $append"
}

# The image's key: its recipe (the functions that build it, what they install), the init,
# the installer and its list, and the kernel's facts; booting and the tree are not in it.
key=$( (declare -f build_image in_chroot clone; echo "$BOX_PACKAGES"
	cat "$top/tests/box/init.sh" "$top/scripts/install-deps.sh" "$top/scripts/deps.list" \
		"$facts") | sha256sum | cut -c1-12)
box=$cache/box/$key

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
image) cmd_image ;;
tree) cmd_tree "${1:?box: tree needs a SHARE folder}" ;;
boot) cmd_boot "${1:?box: boot needs a SHARE folder}" "${@:2}" ;;
*) echo "usage: scripts/box.sh image | tree SHARE | boot SHARE [--append ARGS] [--timeout S] [--smp N]" >&2; exit 2 ;;
esac
