/* SPDX-License-Identifier: GPL-2.0 */
/*
 * family_nvme.h - the guards of the NVMe family, exported for their tests: what the runner
 * checks before it takes a PCI NVMe controller away from its driver (docs/bare-metal.md).
 */
#ifndef TWINBENCH_FAMILY_NVME_H
#define TWINBENCH_FAMILY_NVME_H

#include <stdbool.h>
#include <stddef.h>

/* Is @addr a PCI address of the form DDDD:BB:DD.F (hex)? */
bool nvme_addr_valid(const char *addr);

/* Is @addr one of the comma- or space-separated addresses in @list? */
bool nvme_addr_listed(const char *addr, const char *list);

#define NVME_HOLD_MAX	1024

/*
 * Exclusive opens (O_EXCL) of block devices, held from the guard's check until the unbind:
 * while they are held nothing can mount, swap on, or assemble (LVM, MD) those disks or
 * their partitions. Release with nvme_hold_release().
 */
struct nvme_hold {
	int fd[NVME_HOLD_MAX];
	unsigned long long dev[NVME_HOLD_MAX];
	size_t n;
};

void nvme_hold_init(struct nvme_hold *h);
void nvme_hold_release(struct nvme_hold *h);

/*
 * May block device @name (as in /sys/class/block: a disk or a partition) be taken away?
 * 0 when neither it nor any of its partitions holds the root filesystem, is mounted, is
 * active swap, has holders (device-mapper, LVM, MD RAID), is held exclusively, is open in
 * any other process (raw O_DIRECT users, QEMU), backs a loop device or is exported by
 * nvmet; otherwise -1 with the reason in @err. With @hold the disk stays opened
 * exclusively in it (a disk already in @hold is checked again, not reopened); without,
 * the exclusive open is only a probe.
 */
int nvme_guard_block(const char *name, struct nvme_hold *hold, char *err, size_t len);

/*
 * May controller @addr be rebound? 0 when @addr is valid, listed in @allowed, an NVMe
 * controller, bound to no driver or to nvme/rawnvme/safenvme, neither an SR-IOV function
 * nor a controller sharing its subsystem (dual port, multipath) with another one, its
 * character devices (/dev/nvmeN, /dev/ngNnM) open nowhere, at most NVME_HOLD_MAX
 * namespaces, and every namespace it serves passes nvme_guard_block() (held in @hold if
 * given); otherwise -1 with the reason in @err.
 */
int nvme_guard_controller(const char *addr, const char *allowed, struct nvme_hold *hold,
			  char *err, size_t len);

#endif /* TWINBENCH_FAMILY_NVME_H */
