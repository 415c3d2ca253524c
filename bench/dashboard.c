// SPDX-License-Identifier: GPL-2.0
/* dashboard.c - twinbench dashboard: static HTML trend page from the history. */
#include <stdio.h>
#include "report.h"

int dashboard_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "twinbench dashboard: not implemented yet\n");
	return 1;
}
