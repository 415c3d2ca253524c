/* SPDX-License-Identifier: GPL-2.0 */
/*
 * blockq.h - what every block family does alike: the block queue settings of a device
 * under test, set as the workload asks before a sample and recorded as really in force
 * (so arms are compared like with like), and the sample's fio run itself.
 */
#ifndef TWINBENCH_BLOCKQ_H
#define TWINBENCH_BLOCKQ_H

#include "family.h"
#include "matrix.h"

/*
 * Apply @q to the queue of block device @dev (/dev/NAME) and append every
 * setting in force afterwards to @out; a value the kernel refused is recorded
 * as "ACTUAL (wanted X)". Returns -1 with a reason when the queue is missing.
 */
int blockq_apply(const char *dev, const struct queue_settings *q, struct run_output *out,
		 char *err, size_t len);

/*
 * One sample of @w on the loaded block arm of @ctx, the same for every block family: the
 * queue settings applied, then fio's warm-up and measured run on its first device.
 */
int block_run(struct family_ctx *ctx, const struct workload *w, struct run_output *out);

#endif /* TWINBENCH_BLOCKQ_H */
