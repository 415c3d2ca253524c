/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report_plots.h - the figures of one run folder (report_plots.c).
 */
#ifndef TWINBENCH_REPORT_PLOTS_H
#define TWINBENCH_REPORT_PLOTS_H

#include "figure.h"

/*
 * Write the gnuplot data files of @run into RUN/plots/ and render every plot
 * with the scripts in @scripts_dir. Fills @out; returns the number of plots
 * gnuplot failed on or warned about (0 is success), or -1 with @err.
 */
int report_plots(const struct run_data *run, const char *scripts_dir, struct plot_list *out,
		 char *err, size_t len);

#endif /* TWINBENCH_REPORT_PLOTS_H */
