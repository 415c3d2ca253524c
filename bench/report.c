// SPDX-License-Identifier: GPL-2.0
/* report.c - twinbench report RUN_DIR: plots and the maintainers' report. */
#include <stdio.h>
#include "report.h"

int report_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "twinbench report: not implemented yet\n");
	return 1;
}
