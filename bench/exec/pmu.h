/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmu.h - hardware counters around a sample in host mode: cycles, instructions, branch
 * and cache misses of all online CPUs, counted with perf_event_open, for the per-I/O
 * columns and IPC (bare-metal numbers need them; the icount clock has only instructions).
 * Where the PMU is absent (a TCG guest, the box) nothing is counted and one line says so.
 */
#ifndef TWINBENCH_PMU_H
#define TWINBENCH_PMU_H

#include <stdbool.h>
#include <stddef.h>

enum pmu_event { PMU_CYCLES, PMU_INSTRUCTIONS, PMU_BRANCH_MISSES, PMU_CACHE_MISSES, PMU_EVENTS };

/* The counts of one window; @have false when the PMU could not count. */
struct pmu_counts {
	bool have;
	double value[PMU_EVENTS];
};

/*
 * Open and start the counters on every online CPU (host mode only), or return -1: in a
 * guest, or where they cannot be opened (the first time, one line on stderr says why
 * and which columns are left out). pmu_stop() reads and closes them.
 */
int pmu_start(void);
void pmu_stop(struct pmu_counts *c);

/* The column (metric) name of each event per unit, "cycles_per_io" and so on. */
extern const char *const pmu_metric[PMU_EVENTS];

#endif /* TWINBENCH_PMU_H */
