/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dashboard.h - the trend dashboard of the history (dashboard.c).
 */
#ifndef TWINBENCH_DASHBOARD_H
#define TWINBENCH_DASHBOARD_H

/* twinbench dashboard [--db FILE] [-o DIR]: static HTML trend page from the history */
int dashboard_main(int argc, char **argv);

#endif /* TWINBENCH_DASHBOARD_H */
