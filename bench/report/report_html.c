// SPDX-License-Identifier: GPL-2.0
/*
 * report_html.c - what the report page and the dashboard page share: escaping,
 * inlining images as base64, the page frame and its style sheet, and relative
 * links between output folders and run folders.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "report_html.h"

void html_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

int base64_file(FILE *f, const char *path)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char in[3];
	FILE *src = fopen(path, "rb");
	size_t n;

	if (!src)
		return -1;
	while ((n = fread(in, 1, sizeof(in), src)) > 0) {
		unsigned long v = (unsigned long)in[0] << 16;

		if (n > 1)
			v |= (unsigned long)in[1] << 8;
		if (n > 2)
			v |= in[2];
		fputc(digits[(v >> 18) & 63], f);
		fputc(digits[(v >> 12) & 63], f);
		fputc(n > 1 ? digits[(v >> 6) & 63] : '=', f);
		fputc(n > 2 ? digits[v & 63] : '=', f);
		if (n < sizeof(in))
			break;
	}
	n = ferror(src);
	fclose(src);
	return n ? -1 : 0;
}

void html_page_begin(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
	html_escape(f, title);
	fputs("</title>\n<style>\n"
	      "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:1.5em auto;max-width:1200px;"
	      "padding:0 1em;color:#222;line-height:1.4}\n"
	      "h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #ccc;margin-top:1.6em}"
	      "h3{font-size:1.05em}\n"
	      "table{border-collapse:collapse;margin:.6em 0;font-size:.88em}\n"
	      "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}\n"
	      "th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	      ".faster{background:#e3f4e3}.slower{background:#fbe3e3}.same{background:#fff}\n"
	      ".warn{color:#8a4b00}figure{margin:1em 0}figure img{max-width:100%;"
	      "border:1px solid #ddd}\nfigcaption{font-size:.9em;color:#555}\n"
	      "pre{background:#f6f6f6;padding:.6em;overflow-x:auto}\n"
	      ".note{color:#555;font-size:.9em}details summary{cursor:pointer}\n"
	      "</style>\n</head>\n<body>\n", f);
}

void html_page_end(FILE *f)
{
	fputs("</body>\n</html>\n", f);
}

/* Split an absolute path in place into its components; returns their count. */
static size_t split_path(char *path, char **parts, size_t max)
{
	size_t n = 0;

	for (char *tok = strtok(path, "/"); tok && n < max; tok = strtok(NULL, "/"))
		parts[n++] = tok;
	return n;
}

int relative_path(const char *from_dir, const char *to, char *out, size_t len)
{
	char from[PATH_MAX], dest[PATH_MAX], *fp[PATH_MAX / 2], *dp[PATH_MAX / 2];
	size_t nf, nd, common = 0, used = 0;
	int n;

	if (!realpath(from_dir, from) || !realpath(to, dest))
		return -1;
	nf = split_path(from, fp, PATH_MAX / 2);
	nd = split_path(dest, dp, PATH_MAX / 2);
	while (common < nf && common < nd && !strcmp(fp[common], dp[common]))
		common++;
	out[0] = '\0';
	for (size_t i = common; i < nf; i++) {
		n = snprintf(out + used, len - used, "../");
		if (n < 0 || (size_t)n >= len - used)
			return -1;
		used += n;
	}
	for (size_t i = common; i < nd; i++) {
		n = snprintf(out + used, len - used, "%s%s", dp[i], i + 1 < nd ? "/" : "");
		if (n < 0 || (size_t)n >= len - used)
			return -1;
		used += n;
	}
	used = strlen(out);
	if (used && out[used - 1] == '/')
		out[used - 1] = '\0';
	if (!out[0])
		snprintf(out, len, ".");
	return 0;
}
