// SPDX-License-Identifier: GPL-2.0
/*
 * test_lock.c - the run locks (bench/lock.h) on real flock(2) locks in a temporary folder:
 * a held run folder is refused and a stale one taken over, the machine lock is exclusive
 * for one kind of run and shared for the other, and a run sees another run's entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "lock.h"
#include "util.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_lock.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	setenv("TWINBENCH_LOCK_DIR", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_rundir_held_then_stale(void **state)
{
	struct run_locks a, b;
	char path[128], text[32];
	pid_t gone = fork();

	(void)state;
	if (!gone)
		_exit(0);
	waitpid(gone, NULL, 0);
	run_locks_init(&a);
	run_locks_init(&b);
	assert_int_equal(lock_rundir(&a, dir), 0);
	assert_int_equal(lock_rundir(&b, dir), -1);
	lock_release(&a);
	assert_int_equal(lock_rundir(&b, dir), 0);
	lock_release(&b);

	/* a holder that died without releasing left its pid: the lock is taken over */
	snprintf(path, sizeof(path), "%s/.lock", dir);
	snprintf(text, sizeof(text), "%ld\n", (long)gone);
	assert_int_equal(file_write_str(path, text), 0);
	run_locks_init(&a);
	assert_int_equal(lock_rundir(&a, dir), 0);
	assert_int_equal(file_read_line(path, text, sizeof(text)), 0);
	assert_int_equal(strtol(text, NULL, 10), getpid());
	lock_release(&a);
}

static void test_machine_exclusive_and_shared(void **state)
{
	struct run_locks a, b;

	(void)state;
	run_locks_init(&a);
	run_locks_init(&b);
	assert_int_equal(lock_machine(&a, false, false), 0);
	assert_int_equal(lock_machine(&b, false, false), 0);	/* icount beside icount */
	lock_release(&b);
	run_locks_init(&b);
	assert_int_equal(lock_machine(&b, true, false), -1);	/* wall beside icount */
	lock_release(&b);
	lock_release(&a);
	run_locks_init(&a);
	run_locks_init(&b);
	assert_int_equal(lock_machine(&a, true, false), 0);
	assert_int_equal(lock_machine(&b, false, false), -1);	/* icount beside wall */
	lock_release(&b);
	lock_release(&a);
}

static void test_peers_seen_while_alive(void **state)
{
	int ready[2], done[2];
	struct run_locks me;
	char c;
	pid_t peer;

	(void)state;
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(done), 0);
	peer = fork();
	if (!peer) {
		struct run_locks l;

		run_locks_init(&l);
		lock_register(&l, "/results/peer", "vm", "icount");
		if (write(ready[1], "r", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	run_locks_init(&me);
	lock_register(&me, "/results/me", "vm", "icount");
	assert_int_equal(json_array_size(me.peers), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(me.peers, 0), "run")),
			    "/results/peer");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(me.peers, 0), "pid")),
			 peer);
	assert_int_equal(write(done[1], "d", 1), 1);
	waitpid(peer, NULL, 0);
	/* the peer is gone (its entry file may stay): seen once, not again as new */
	lock_poll_peers(&me);
	assert_int_equal(json_array_size(me.peers), 1);
	lock_release(&me);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rundir_held_then_stale),
		cmocka_unit_test(test_machine_exclusive_and_shared),
		cmocka_unit_test(test_peers_seen_while_alive),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
