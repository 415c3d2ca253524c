// SPDX-License-Identifier: GPL-2.0
/*
 * figure.c - the figure helpers: a figure's data file in RUN/plots/, the variables its
 * gnuplot script reads, and the gnuplot run that renders it (SVG and PNG). Anything
 * gnuplot prints on stderr counts as a failure, so a figure is either clean or reported.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "figure.h"
#include "report_html.h"
#include "vec.h"

void fig_init(struct figure *fig, const struct run_data *run, const char *scripts_dir,
	      const char *script, const char *base)
{
	char kernel[64];
	const char *release = manifest_get(run->manifest, "release", kernel, sizeof(kernel));
	char corner[256];

	snprintf(corner, sizeof(corner), "run %s · kernel %s", run->id,
		 release ? release : "unknown");
	fig_init_dir(fig, run->dir, corner, scripts_dir, script, base);
}

void fig_init_dir(struct figure *fig, const char *dir, const char *corner,
		  const char *scripts_dir, const char *script, const char *base)
{
	memset(fig, 0, sizeof(*fig));
	snprintf(fig->dir, sizeof(fig->dir), "%s", dir);
	snprintf(fig->corner, sizeof(fig->corner), "%s", corner);
	fig->scripts_dir = scripts_dir;
	fig->script = script;
	snprintf(fig->base, sizeof(fig->base), "%s", base);
	path_printf(fig->datafile, sizeof(fig->datafile), "%s/plots/%s.dat", dir, base);
}

int fig_find_scripts(const char *opt, char *out, size_t len)
{
	char exe[PATH_MAX], test[PATH_MAX];
	const char *env = getenv("TWINBENCH_PLOTS");
	ssize_t n;

	if (opt || env) {
		snprintf(out, len, "%s", opt ? opt : env);
		path_printf(test, sizeof(test), "%s/relative.gp", out);
		return access(test, R_OK) ? -1 : 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		path_printf(test, sizeof(test), "%s/../plots/relative.gp", exe);
		if (!access(test, R_OK)) {
			path_printf(out, len, "%s/../plots", exe);
			return 0;
		}
	}
	snprintf(out, len, "plots");
	return access("plots/relative.gp", R_OK) ? -1 : 0;
}

void fig_html(FILE *html, const char *dir, const struct plot_entry *p)
{
	char svg[PATH_MAX];

	path_printf(svg, sizeof(svg), "%s/plots/%s.svg", dir, p->base);
	fputs("<figure><img alt=\"", html);
	html_escape(html, p->base);
	fputs("\" src=\"data:image/svg+xml;base64,", html);
	if (base64_file(html, svg))
		fprintf(stderr, "report: %s: cannot read\n", svg);
	fputs("\"><figcaption>", html);
	html_escape(html, p->caption);
	fputs("</figcaption></figure>\n", html);
}

/* Append name='value' with the value quoted for gnuplot (a quote is doubled). */
void fig_str(struct figure *fig, const char *name, const char *value)
{
	char *p = fig->vars + fig->vars_len;
	size_t room = sizeof(fig->vars) - fig->vars_len;
	size_t n = snprintf(p, room, "%s='", name);

	for (const char *s = value; *s && n + 4 < room; s++) {
		if (*s == '\'')
			p[n++] = '\'';
		p[n++] = *s;
	}
	n += snprintf(p + n, room - n, "'; ");
	fig->vars_len += n < room ? n : room - 1;
}

void fig_num(struct figure *fig, const char *name, double value)
{
	size_t room = sizeof(fig->vars) - fig->vars_len;
	int n = snprintf(fig->vars + fig->vars_len, room, "%s=%.17g; ", name, value);

	if (n > 0)
		fig->vars_len += (size_t)n < room ? (size_t)n : room - 1;
}

FILE *fig_open_data(struct figure *fig)
{
	FILE *f = fopen(fig->datafile, "w");

	if (!f)
		fprintf(stderr, "report: %s: %s\n", fig->datafile, strerror(errno));
	return f;
}

/* Gnuplot data files are whitespace-separated: quote labels, drop quotes inside. */
void put_label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' ? '\'' : *s, f);
	fputs("\" ", f);
}

void put_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.9g ", v);
	else
		fputs("? ", f);
}

/* Read everything gnuplot wrote on @fd into a string. */
static char *slurp_fd(int fd)
{
	size_t n = 0, cap = 4096;
	char *buf = vec_realloc(NULL, cap);
	ssize_t r;

	while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += r;
		if (n + 1 == cap) {
			cap *= 2;
			buf = vec_realloc(buf, cap);
		}
	}
	buf[n] = '\0';
	return buf;
}

/* Run gnuplot on the figure; record it, or record why it failed. Returns 0 when clean. */
int fig_render(struct figure *fig, const char *caption, struct plot_list *out)
{
	char script[PATH_MAX], outbase[PATH_MAX];
	char *msg;
	int pipefd[2], status;
	pid_t pid;

	path_printf(script, sizeof(script), "%s/%s", fig->scripts_dir, fig->script);
	path_printf(outbase, sizeof(outbase), "%s/plots/%s", fig->dir, fig->base);
	fig_str(fig, "plotdir", fig->scripts_dir);
	fig_str(fig, "datafile", fig->datafile);
	fig_str(fig, "outbase", outbase);
	fig_str(fig, "corner", fig->corner);
	if (pipe(pipefd)) {
		text_list_addf(&out->failures, "%s: pipe: %s", fig->base, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		text_list_addf(&out->failures, "%s: fork: %s", fig->base, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execlp("gnuplot", "gnuplot", "-e", fig->vars, script, (char *)NULL);
		fprintf(stderr, "cannot run gnuplot: %s (install gnuplot-nox)\n", strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	msg = slurp_fd(pipefd[0]);
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0)
		status = -1;
	if (status != 0 || (msg && msg[strspn(msg, " \t\r\n")])) {
		char *nl;

		for (nl = msg; nl && (nl = strchr(nl, '\n')); )
			*nl = ' ';
		text_list_addf(&out->failures, "%s: gnuplot %s: %s", fig->base,
			       status ? "failed" : "warned", msg ? msg : "");
		free(msg);
		return -1;
	}
	free(msg);
	out->v = vec_grow(out->v, out->n, &out->cap, sizeof(*out->v));
	snprintf(out->v[out->n].base, sizeof(out->v[out->n].base), "%s", fig->base);
	snprintf(out->v[out->n].caption, sizeof(out->v[out->n].caption), "%s", caption);
	out->n++;
	return 0;
}

/* Width in pixels that gives each of @rows groups of @bars bars room for its label. */
double plot_width(size_t rows, size_t bars)
{
	double w = 160 + rows * (bars + 1) * 16.0;

	return w < 960 ? 960 : w > 2400 ? 2400 : w;
}

void plot_list_free(struct plot_list *l)
{
	free(l->v);
	text_list_free(&l->notes);
	text_list_free(&l->failures);
	memset(l, 0, sizeof(*l));
}
