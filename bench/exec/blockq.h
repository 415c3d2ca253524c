/* SPDX-License-Identifier: GPL-2.0 */
/*
 * blockq.h - the block queue settings of a device under test: set them as the
 * workload asks before a sample, and record what is really in force, so arms
 * are compared like with like (scheduler, iostats, merges, request sizes...).
 */
#ifndef TWINBENCH_BLOCKQ_H
#define TWINBENCH_BLOCKQ_H

#include "family.h"

/*
 * Apply @q to the queue of block device @dev (/dev/NAME) and append every
 * setting in force afterwards to @out; a value the kernel refused is recorded
 * as "ACTUAL (wanted X)". Returns -1 with a reason when the queue is missing.
 */
int blockq_apply(const char *dev, const struct queue_settings *q, struct run_output *out,
		 char *err, size_t len);

/* Size in bytes of block device @dev, from sysfs; 0 when unknown. */
unsigned long long blockq_device_bytes(const char *dev);

#endif /* TWINBENCH_BLOCKQ_H */
