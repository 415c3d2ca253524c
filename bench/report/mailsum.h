/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mailsum.h - the plain-text summary of a run (mailsum.c): RUN/summary.txt, at most 80
 * columns, to paste into a mailing-list reply: per compared pair the family's primary
 * metric for both arms (mean and spread), the change with its interval, the verdict, the
 * kernel, and the command that reproduces the run.
 */
#ifndef TWINBENCH_MAILSUM_H
#define TWINBENCH_MAILSUM_H

#include <stddef.h>
#include "report_run.h"

#define MAILSUM_FILE	"summary.txt"
#define MAILSUM_COLUMNS	80

/* Write RUN/summary.txt of @run; 0, or -1 with @err. */
int mailsum_write(const struct run_data *run, char *err, size_t len);

#endif /* TWINBENCH_MAILSUM_H */
