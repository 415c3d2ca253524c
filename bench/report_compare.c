// SPDX-License-Identifier: GPL-2.0
/* report_compare.c - twinbench compare BASE CAND: regression verdict between two runs. */
#include <stdio.h>
#include "report.h"

int compare_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "twinbench compare: not implemented yet\n");
	return 1;
}
