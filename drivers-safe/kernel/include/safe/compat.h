/* SPDX-License-Identifier: GPL-2.0 */
/*
 * safe/compat.h - the kernel version differences the layer meets (6.1 to 7.x).
 *
 * They are exactly the ones the raw twins meet, so the layer takes them from the raw side's
 * one compat header instead of keeping a second copy: hrtimer_setup() and PCI_IRQ_INTX on
 * older kernels, compat_blk_mq_map_queues(), the tag set's merge flag, init_request's NUMA node type, NVMe status 0x183
 * and compat_alloc_disk() for the queue limits. Layer code includes this header, never
 * <linux/version.h>; drivers on the layer see version differences only through the layer.
 */
#ifndef SAFE_COMPAT_H
#define SAFE_COMPAT_H

#include "../../../../drivers-raw/compat.h"

#endif /* SAFE_COMPAT_H */
