/* SPDX-License-Identifier: GPL-2.0 */
/*
 * report_html.h - what the report page and the dashboard page share (report_html.c).
 */
#ifndef TWINBENCH_REPORT_HTML_H
#define TWINBENCH_REPORT_HTML_H

#include <stdio.h>
#include <stddef.h>

/* Write @s with HTML special characters escaped. */
void html_escape(FILE *f, const char *s);
/* Write the base64 encoding of the file @path; 0, or -1 when it cannot be read. */
int base64_file(FILE *f, const char *path);
/* The shared <head> and style of the report and the dashboard, up to and including <body>. */
void html_page_begin(FILE *f, const char *title);
void html_page_end(FILE *f);

/* @to as a path relative to the directory @from_dir (both made absolute first). */
int relative_path(const char *from_dir, const char *to, char *out, size_t len);

#endif /* TWINBENCH_REPORT_HTML_H */
