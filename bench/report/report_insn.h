/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report_insn.h - the "Where the instructions go" section and its chart (report_insn.c).
 */
#ifndef TWINBENCH_REPORT_INSN_H
#define TWINBENCH_REPORT_INSN_H

#include "doc.h"

/* The "Where the instructions go" section and its chart (report_insn.c). */
void section_insn(struct doc *d, const struct run_data *run, const struct plot_list *pl);
void plot_insn(const struct run_data *run, const char *scripts_dir, const char *family,
	       struct plot_list *out);

#endif /* TWINBENCH_REPORT_INSN_H */
