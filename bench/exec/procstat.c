// SPDX-License-Identifier: GPL-2.0
/*
 * procstat.c - reads the aggregate "cpu" and "intr" lines of /proc/stat, and
 * the "now at" line of /proc/timer_list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procstat.h"

int procstat_parse(const char *text, struct cpu_counters *c)
{
	unsigned long long v[8];
	bool cpu = false, intr = false;

	c->have_now = false;
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		if (!strncmp(line, "cpu ", 4) &&
		    sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
			/* user nice system idle iowait irq softirq steal: all but idle, iowait */
			c->busy_ticks = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
			cpu = true;
		} else if (!strncmp(line, "intr ", 5)) {
			c->intr = strtoull(line + 5, NULL, 10);
			intr = true;
		} else if (!c->have_now && sscanf(line, "now at %llu nsecs", &c->now_ns) == 1) {
			c->have_now = true;
		}
	}
	return cpu && intr ? 0 : -1;
}

double procstat_busy_ns(const struct cpu_counters *before, const struct cpu_counters *after)
{
	return (double)(after->busy_ticks - before->busy_ticks) * 1e9 / sysconf(_SC_CLK_TCK);
}
