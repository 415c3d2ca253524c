#!/bin/bash
# init.sh: the box's init (/sbin/box-init, scripts/box.sh): what a booted Debian system
# has before a user logs in as root (the kernel file systems, udev, the volume group
# activated, the data partition mounted), then the job of the share /out, then power-off.
# The busy controller (serial twinbench0) gets an ext4 partition mounted on /srv/data and
# an LVM volume boxvg/data on a second one; its PCI address, the free controller's
# (twinbench1) and the root disk's go to /run/box.env. The job's exit status goes to
# /out/.guest-rc and the kernel log to /out/dmesg.txt (scripts/vm-run.sh reads both).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
export LC_ALL=C.UTF-8

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
mkdir -p /run/lock
mount -o remount,rw /
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
hostname box
ip link set lo up

/usr/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add
udevadm settle --timeout=120
modprobe 9pnet_virtio
mkdir -p /out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=1048576 out /out

# The PCI address of the device behind sysfs path $1.
pci_of() {
	readlink -f "$1" | tr / '\n' | grep -E '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$' | tail -n 1
}
busy="" free="" busy_ns=""
for c in /sys/class/nvme/nvme*; do
	case "$(cat "$c/serial" | tr -d ' ')" in
	twinbench0) busy=$(pci_of "$c/device"); busy_ns=$(ls "$c" | grep -E '^nvme[0-9]+n1$' | head -n 1) ;;
	twinbench1) free=$(pci_of "$c/device") ;;
	esac
done
root_pci=$(pci_of /sys/block/vda/device)

if [ -n "$busy_ns" ]; then
	dev=/dev/$busy_ns
	printf 'label: gpt\nsize=256M, name=data\nname=lvm\n' | sfdisk -q "$dev" >/dev/null
	udevadm settle --timeout=60
	mkfs.ext4 -q -L data "${dev}p1"
	pvcreate -q "${dev}p2" >/dev/null && vgcreate -q boxvg "${dev}p2" >/dev/null &&
		lvcreate -q -y -L 64M -n data boxvg >/dev/null
	vgchange -q -ay boxvg >/dev/null
	mkdir -p /srv/data
	mount "${dev}p1" /srv/data
fi
printf 'BUSY_PCI=%s\nBUSY_DEV=%s\nFREE_PCI=%s\nROOT_PCI=%s\n' "$busy" "$busy_ns" "$free" \
	"$root_pci" >/run/box.env

if [ -d /out/twinbench ]; then
	rm -rf /root/twinbench
	cp -a /out/twinbench /root/twinbench
fi
cd /root || true
bash /out/job.sh >/out/job.log 2>&1
echo $? >/out/.guest-rc
dmesg >/out/dmesg.txt
sync
umount /out 2>/dev/null
# The power-off runs while the disks go away: wait in the shell itself, never exec again
# (an init that exits panics the kernel).
echo o >/proc/sysrq-trigger
while :; do :; done
