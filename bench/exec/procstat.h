/* SPDX-License-Identifier: GPL-2.0 */
/*
 * procstat.h - system-wide CPU time and interrupt counts from /proc/stat, the
 * counters behind cpu_ns_per_io and irqs_per_io.
 */
#ifndef TWINBENCH_PROCSTAT_H
#define TWINBENCH_PROCSTAT_H

#include <stdbool.h>

/*
 * Busy time (all CPUs, everything but idle and iowait) and interrupts so far,
 * and, when /proc/timer_list was read along, CLOCK_MONOTONIC in nanoseconds.
 */
struct cpu_counters {
	unsigned long long busy_ticks, intr;
	unsigned long long now_ns;
	bool have_now;
};

/*
 * Parse the text of /proc/stat, possibly followed or preceded by that of
 * /proc/timer_list ("now at N nsecs"); 0, or -1 when the "cpu" or "intr" line
 * of /proc/stat is missing.
 */
int procstat_parse(const char *text, struct cpu_counters *c);

/* Busy nanoseconds between two readings (ticks are USER_HZ). */
double procstat_busy_ns(const struct cpu_counters *before, const struct cpu_counters *after);

#endif /* TWINBENCH_PROCSTAT_H */
