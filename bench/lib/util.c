// SPDX-License-Identifier: GPL-2.0
/*
 * util.c - process, file and folder helpers shared by the runner.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <ctype.h>
#include "util.h"
#include "vec.h"

int seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void path_printf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "twinbench: path too long: %s...\n", buf);
		exit(2);
	}
}

struct grow_buf {
	char *p;
	size_t n, cap;
};

static int buf_fill(struct grow_buf *b, int fd)
{
	ssize_t got;

	if (b->cap - b->n < 4096) {
		b->cap = b->cap ? 2 * b->cap : 16384;
		b->p = vec_realloc(b->p, b->cap);
	}
	if (fd < 0) {
		b->p[b->n] = '\0';
		return 0;
	}
	got = read(fd, b->p + b->n, b->cap - b->n - 1);
	if (got > 0)
		b->n += got;
	b->p[b->n] = '\0';
	return got > 0 ? 1 : (got == 0 ? 0 : (errno == EINTR ? 1 : 0));
}

int proc_run(char *const argv[], const char *cwd, struct proc_result *res, char *err,
	     size_t len)
{
	int out[2], errp[2], status;
	struct grow_buf bo = { 0 }, be = { 0 };
	struct pollfd pfd[2];
	bool open_out = true, open_err = true;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe2(out, O_CLOEXEC))
		return seterr(err, len, "pipe: %s", strerror(errno));
	if (pipe2(errp, O_CLOEXEC)) {
		close(out[0]);
		close(out[1]);
		return seterr(err, len, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		close(out[0]);
		close(out[1]);
		close(errp[0]);
		close(errp[1]);
		return seterr(err, len, "fork: %s", strerror(errno));
	}
	if (!pid) {
		dup2(out[1], STDOUT_FILENO);
		dup2(errp[1], STDERR_FILENO);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (cwd && chdir(cwd)) {
			fprintf(stderr, "cannot enter %s: %s\n", cwd, strerror(errno));
			_exit(127);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(errp[1]);
	buf_fill(&bo, -1);	/* allocate, so the buffers are never NULL */
	buf_fill(&be, -1);
	while (open_out || open_err) {
		pfd[0] = (struct pollfd){ .fd = open_out ? out[0] : -1, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = open_err ? errp[0] : -1, .events = POLLIN };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (open_out && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			open_out = buf_fill(&bo, out[0]) > 0;
		if (open_err && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			open_err = buf_fill(&be, errp[0]) > 0;
	}
	close(out[0]);
	close(errp[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	res->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	res->out = bo.p;
	res->out_len = bo.n;
	res->errout = be.p;
	return 0;
}

void proc_result_free(struct proc_result *res)
{
	free(res->out);
	free(res->errout);
	memset(res, 0, sizeof(*res));
}

char *file_read(const char *path, size_t *size, char *err, size_t len)
{
	struct grow_buf b = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		seterr(err, len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_fill(&b, -1);
	while (buf_fill(&b, fd) > 0)
		;
	close(fd);
	if (size)
		*size = b.n;
	return b.p;
}

int file_read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	char *nl;

	if (!f)
		return -1;
	if (!fgets(buf, size, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

int file_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t n = strlen(s);
	ssize_t done;

	if (fd < 0)
		return -1;
	done = write(fd, s, n);
	if (done != (ssize_t)n) {
		int saved = done < 0 ? errno : EIO;

		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

int file_write_atomic(const char *path, const char *data, size_t size, char *err, size_t len)
{
	char tmp[4096];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return seterr(err, len, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return seterr(err, len, "%s: %s", tmp, strerror(errno));
	if (write(fd, data, size) != (ssize_t)size || fsync(fd)) {
		seterr(err, len, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) || rename(tmp, path)) {
		seterr(err, len, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int mkdir_p(const char *path, char *err, size_t len)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return seterr(err, len, "%s: path too long", path);
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, 0755) && errno != EEXIST)
				return seterr(err, len, "mkdir %s: %s", buf, strerror(errno));
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

char *strtrim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int kv_file_get(const char *path, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	char line[4096];
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == '=') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, size, "%s", line + klen + 1);
			break;
		}
	}
	fclose(f);
	return 0;
}

volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

void install_stop_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
