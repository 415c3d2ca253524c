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

/*
 * May block device @name (as in /sys/class/block: a disk or a partition) be taken away?
 * 0 when neither it nor any of its partitions holds the root filesystem, is mounted, is
 * active swap, has holders (device-mapper, LVM, MD RAID) or is held exclusively;
 * otherwise -1 with the reason in @err.
 */
int nvme_guard_block(const char *name, char *err, size_t len);

/*
 * May controller @addr be rebound? 0 when @addr is valid, listed in @allowed, an NVMe
 * controller, bound to no driver or to nvme/rawnvme/safenvme, and every namespace it
 * serves passes nvme_guard_block(); otherwise -1 with the reason in @err.
 */
int nvme_guard_controller(const char *addr, const char *allowed, char *err, size_t len);

#endif /* TWINBENCH_FAMILY_NVME_H */
