// SPDX-License-Identifier: GPL-2.0
/*
 * pmu.c - hardware counters of all online CPUs around a sample (pmu.h), one group per
 * CPU led by cycles, so the four counts of a CPU cover the same time; counts multiplexed
 * by the kernel are scaled by time enabled over time running.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include "pmu.h"
#include "util.h"

#define PMU_MAX_CPUS 1024

const char *const pmu_metric[PMU_EVENTS] = {
	"cycles_per_io", "instructions_per_io", "branch_misses_per_io", "cache_misses_per_io",
};

static const uint64_t pmu_config[PMU_EVENTS] = {
	PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_INSTRUCTIONS, PERF_COUNT_HW_BRANCH_MISSES,
	PERF_COUNT_HW_CACHE_MISSES,
};

/* The open counters: fd[cpu][event], -1 where none; n_cpus 0 when nothing is open. */
static struct {
	int fd[PMU_MAX_CPUS][PMU_EVENTS];
	int n_cpus;
} pmu;

static int open_counter(int cpu, enum pmu_event e, int group)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_HARDWARE,
		.size = sizeof(a),
		.config = pmu_config[e],
		.disabled = group < 0,
		.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING,
	};

	return syscall(SYS_perf_event_open, &a, -1, cpu, group, 0);
}

static void close_all(void)
{
	for (int c = 0; c < pmu.n_cpus; c++)
		for (int e = 0; e < PMU_EVENTS; e++)
			if (pmu.fd[c][e] >= 0)
				close(pmu.fd[c][e]);
	pmu.n_cpus = 0;
}

static int open_all(char *why, size_t len)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1 || n > PMU_MAX_CPUS)
		return seterr(why, len, "%ld online CPUs", n);
	for (int c = 0; c < n; c++) {
		for (int e = 0; e < PMU_EVENTS; e++) {
			pmu.fd[c][e] = open_counter(c, e, e ? pmu.fd[c][0] : -1);
			if (pmu.fd[c][e] < 0) {
				int saved = errno;

				pmu.n_cpus = c + 1;
				close_all();
				return seterr(why, len, "perf_event_open of hardware event %d on CPU "
					      "%d: %s", e, c, strerror(saved));
			}
		}
		pmu.n_cpus = c + 1;
	}
	return 0;
}

int pmu_start(void)
{
	static bool said;
	const char *guest = getenv("TWINBENCH_GUEST");
	char why[200];

	close_all();
	if (guest && !strcmp(guest, "1"))
		return -1;
	if (open_all(why, sizeof(why))) {
		if (!said)
			fprintf(stderr, "twinbench exec: no hardware counters here (%s): the %s, %s, "
				"%s and %s columns and IPC are left out\n", why, pmu_metric[0],
				pmu_metric[1], pmu_metric[2], pmu_metric[3]);
		said = true;
		return -1;
	}
	for (int c = 0; c < pmu.n_cpus; c++)
		ioctl(pmu.fd[c][0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
	return 0;
}

void pmu_stop(struct pmu_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (!pmu.n_cpus)
		return;
	for (int c = 0; c < pmu.n_cpus; c++)
		ioctl(pmu.fd[c][0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
	out->have = true;
	for (int c = 0; c < pmu.n_cpus; c++)
		for (int e = 0; e < PMU_EVENTS; e++) {
			uint64_t v[3];

			if (read(pmu.fd[c][e], v, sizeof(v)) != sizeof(v) || (v[1] && !v[2])) {
				out->have = false;
				continue;
			}
			if (v[2])
				out->value[e] += (double)v[0] * v[1] / v[2];
		}
	close_all();
}
