/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report_ablation.h - the "Overhead breakdown" section of the report and its chart
 * (report_ablation.c).
 */
#ifndef TWINBENCH_REPORT_ABLATION_H
#define TWINBENCH_REPORT_ABLATION_H

#include "doc.h"

/* The "Overhead breakdown" section and its waterfall chart (report_ablation.c). */
void section_ablation(struct doc *d, const struct run_data *run, const struct plot_list *pl);
void plot_ablation(const struct run_data *run, const char *scripts_dir, const char *family,
		   struct plot_list *out);

#endif /* TWINBENCH_REPORT_ABLATION_H */
