// SPDX-License-Identifier: GPL-2.0
/*
 * lock.c - the run folder lock, the machine lock and the run entries (lock.h).
 * A holder's pid is written inside its lock file only for the messages; whether
 * a lock is held is always asked of flock(2), never guessed from the pid.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lock.h"
#include "util.h"

#define MACHINE_LOCK	"machine.lock"
#define ENTRY_PREFIX	"run-"

void run_locks_init(struct run_locks *l)
{
	memset(l, 0, sizeof(*l));
	l->dir_fd = l->machine_fd = l->entry_fd = -1;
	l->peers = json_array();
}

static const char *lock_dir(void)
{
	const char *d = getenv("TWINBENCH_LOCK_DIR");

	return d && *d ? d : LOCK_DIR_DEFAULT;
}

/* The text inside an open lock file (its holder's pid or entry), trimmed. */
static void read_holder(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	strtrim(buf);
}

static void write_holder(int fd, const char *text)
{
	if (ftruncate(fd, 0) || pwrite(fd, text, strlen(text), 0) < 0)
		fprintf(stderr, "twinbench run: cannot record the lock holder: %s\n",
			strerror(errno));
}

int lock_rundir(struct run_locks *l, const char *rundir)
{
	char path[4096], holder[64], me[32];
	long pid;

	path_printf(path, sizeof(path), "%s/.lock", rundir);
	l->dir_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (l->dir_fd < 0) {
		fprintf(stderr, "twinbench run: %s: %s\n", path, strerror(errno));
		return -1;
	}
	read_holder(l->dir_fd, holder, sizeof(holder));
	pid = strtol(holder, NULL, 10);
	if (flock(l->dir_fd, LOCK_EX | LOCK_NB)) {
		read_holder(l->dir_fd, holder, sizeof(holder));
		pid = strtol(holder, NULL, 10);
		if (pid > 0 && kill(pid, 0) && errno == ESRCH)
			fprintf(stderr, "twinbench run: %s is in use: %s is still held, though "
				"twinbench run pid %ld that took it is gone (its VM stops within "
				"seconds)\n", rundir, path, pid);
		else
			fprintf(stderr, "twinbench run: %s is in use by twinbench run pid %ld "
				"(it holds %s)\n", rundir, pid, path);
		close(l->dir_fd);
		l->dir_fd = -1;
		return -1;
	}
	if (pid > 0 && pid != getpid())
		fprintf(stderr, "twinbench run: %s: taking over the stale lock of pid %ld "
			"(no longer running)\n", rundir, pid);
	snprintf(me, sizeof(me), "%ld\n", (long)getpid());
	write_holder(l->dir_fd, me);
	return 0;
}

/* Each live run entry of the lock folder but ours, as JSON objects, to @cb. */
static void for_each_peer(const struct run_locks *l, void (*cb)(json_t *, void *), void *arg)
{
	DIR *d = opendir(lock_dir());
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[4096], text[4200];
		json_t *entry;
		int fd;

		if (strncmp(de->d_name, ENTRY_PREFIX, strlen(ENTRY_PREFIX)))
			continue;
		path_printf(path, sizeof(path), "%s/%s", lock_dir(), de->d_name);
		if (!strcmp(path, l->entry))
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* a lock we can take belongs to nobody: a run that is gone */
		if (!flock(fd, LOCK_SH | LOCK_NB)) {
			close(fd);
			continue;
		}
		read_holder(fd, text, sizeof(text));
		close(fd);
		entry = json_loads(text, 0, NULL);
		if (entry)
			cb(entry, arg);
	}
	closedir(d);
}

static void print_peer(json_t *entry, void *arg)
{
	fprintf(stderr, "twinbench run:   pid %lld, %s mode, clock %s: %s\n",
		(long long)json_integer_value(json_object_get(entry, "pid")),
		json_string_value(json_object_get(entry, "mode")),
		json_string_value(json_object_get(entry, "clock")),
		json_string_value(json_object_get(entry, "run")));
	(void)arg;
	json_decref(entry);
}

static void add_peer(json_t *entry, void *arg)
{
	struct run_locks *l = arg;
	size_t i;
	json_t *seen;

	json_array_foreach(l->peers, i, seen)
		if (json_equal(seen, entry)) {
			json_decref(entry);
			return;
		}
	json_array_append_new(l->peers, entry);
}

void lock_poll_peers(struct run_locks *l)
{
	for_each_peer(l, add_peer, l);
}

/* This run's entry, LOCK_DIR/run-<pid>.json, is held for as long as it runs. */
void lock_register(struct run_locks *l, const char *rundir, const char *mode,
			 const char *clock)
{
	json_t *me = json_pack("{s:I,s:s,s:s,s:s}", "pid", (json_int_t)getpid(),
			       "run", rundir, "mode", mode, "clock", clock);
	char *text = json_dumps(me, JSON_COMPACT);

	path_printf(l->entry, sizeof(l->entry), "%s/" ENTRY_PREFIX "%ld.json", lock_dir(),
		    (long)getpid());
	l->entry_fd = open(l->entry, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (l->entry_fd < 0 || flock(l->entry_fd, LOCK_EX)) {
		fprintf(stderr, "twinbench run: %s: %s\n", l->entry, strerror(errno));
	} else {
		write_holder(l->entry_fd, text);
		fchmod(l->entry_fd, 0644);
	}
	free(text);
	json_decref(me);
	lock_poll_peers(l);
}

int lock_machine(struct run_locks *l, bool exclusive, bool wait)
{
	char path[4096], err[512];
	int op = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
	bool said = false;

	if (mkdir_p(lock_dir(), err, sizeof(err))) {
		fprintf(stderr, "twinbench run: %s\n", err);
		return -1;
	}
	chmod(lock_dir(), 01777);
	path_printf(path, sizeof(path), "%s/" MACHINE_LOCK, lock_dir());
	l->machine_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (l->machine_fd < 0) {
		fprintf(stderr, "twinbench run: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fchmod(l->machine_fd, 0666);
	while (flock(l->machine_fd, op)) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			fprintf(stderr, "twinbench run: %s: %s\n", path, strerror(errno));
			return -1;
		}
		if (!said) {
			fprintf(stderr, "twinbench run: %s: another benchmark holds this machine "
				"(%s); %s:\n", path, exclusive ?
				"the wall clock and host mode need it alone" :
				"an icount run waits only for wall-clock and host-mode runs",
				wait ? "waiting for it (--no-wait refuses instead)" :
				"refused (--no-wait)");
			for_each_peer(l, print_peer, NULL);
			said = true;
		}
		if (!wait)
			return -1;
		if (stop_signal)
			return EXIT_INTERRUPTED;
		sleep(1);
	}
	if (said)
		fprintf(stderr, "twinbench run: the machine is free; starting\n");
	return 0;
}

void lock_inherit(const struct run_locks *l)
{
	const int fds[] = { l->dir_fd, l->machine_fd, l->entry_fd };

	for (size_t i = 0; i < ARRAY_LEN(fds); i++)
		if (fds[i] >= 0)
			fcntl(fds[i], F_SETFD, 0);
}

void lock_release(struct run_locks *l)
{
	if (l->entry_fd >= 0) {
		unlink(l->entry);
		close(l->entry_fd);
	}
	if (l->machine_fd >= 0)
		close(l->machine_fd);
	if (l->dir_fd >= 0) {
		write_holder(l->dir_fd, "");
		close(l->dir_fd);
	}
	json_decref(l->peers);
	l->peers = NULL;
	l->dir_fd = l->machine_fd = l->entry_fd = -1;
}
