/* SPDX-License-Identifier: GPL-2.0 */
/*
 * verdict.h - the three answers a comparison of two arms can give (and the one
 * before them: no evidence). The statistics decide it (stats/stats.h); the run
 * folder's summary rows and the history store it by name, so it lives here.
 */
#ifndef TWINBENCH_VERDICT_H
#define TWINBENCH_VERDICT_H

/*
 * slower/faster: the interval lies beyond the margin, the adjusted p is below
 * STATS_ALPHA and so is the rank test's; equivalent: the interval lies within
 * 1 +- margin; inconclusive: neither, or too few units for the rank test to reach
 * STATS_ALPHA at all (low-n).
 */
enum verdict { VERDICT_INCONCLUSIVE, VERDICT_EQUIVALENT, VERDICT_FASTER, VERDICT_SLOWER };

/* The verdict's name as summary.csv and the history write it ("?" if out of range). */
const char *verdict_name(enum verdict v);
/* Parse a verdict name; returns 0 or -1. */
int verdict_parse(const char *s, enum verdict *v);

#endif /* TWINBENCH_VERDICT_H */
