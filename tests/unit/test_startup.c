/*
 * test_startup.c: the startup pipe's records (monitor/startup.h) through a
 * real pipe: what a monitor writes is what the listener reads, whole or a
 * byte at a time; a long account is cut, not overflowed; bytes that are
 * no record are refused; a pipe nobody reads any more costs no SIGPIPE.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "monitor/startup.h"
#include "tests/unit/t.h"

/* Everything the monitor side wrote, read back into buf. */
static size_t
drain(int fd, uint8_t *buf, size_t max)
{
	size_t got = 0;
	ssize_t n;

	while (got < max && (n = read(fd, buf + got, max - got)) > 0)
		got += (size_t)n;
	return got;
}

int
main(void)
{
	struct startup_view v;
	struct worktimes times;
	uint8_t buf[4096];
	size_t n, i;
	int p[2];

	T_CHECK("pipe", pipe(p) == 0);
	startup_open(p[1]);
	startup_note_authfail();
	startup_note_keys(123456);
	startup_note_worktime(7654321);
	startup_note_worktime(42);
	startup_authenticated(); /* closes p[1] */
	n = drain(p[0], buf, sizeof(buf));
	close(p[0]);

	memset(&v, 0, sizeof(v));
	memset(&times, 0, sizeof(times));
	v.times = &times;
	T_CHECK("whole: fed", startup_feed(&v, buf, n) == 0);
	T_CHECK("whole: attempt times",
	    times.n == 2 && times.us[0] == 7654321 && times.us[1] == 42);
	T_CHECK("whole: attempt failed", v.authfail == 1);
	T_CHECK("whole: keys pid", v.keys_spid == 123456);
	T_CHECK("whole: authenticated", v.authenticated == 1);
	T_CHECK("whole: nothing left over", v.inlen == 0);

	memset(&v, 0, sizeof(v));
	memset(&times, 0, sizeof(times));
	v.times = &times;
	for (i = 0; i < n - 1; i++)
		T_CHECK("bytewise: fed", startup_feed(&v, buf + i, 1) == 0);
	T_CHECK("bytewise: not yet authenticated", v.authenticated == 0);
	T_CHECK("bytewise: attempt failed", v.authfail == 1);
	T_CHECK("bytewise: keys", v.keys_spid == 123456);
	T_CHECK("bytewise: attempt times",
	    times.n == 2 && times.us[0] == 7654321 && times.us[1] == 42);
	T_CHECK("bytewise: last byte", startup_feed(&v, buf + n - 1, 1) == 0);
	T_CHECK("bytewise: authenticated", v.authenticated == 1);

	/* An earlier posternd's monitor (across an upgrade's SIGHUP) wrote
	 * 'w' with a method byte: read whole, the byte not a record. */
	memset(&v, 0, sizeof(v));
	memset(&times, 0, sizeof(times));
	v.times = &times;
	T_CHECK("old w: fed",
	    startup_feed(&v,
	        (const uint8_t *)"w\0\0\0\x3e\x61"
	                         "f",
	        7) == 0);
	T_CHECK("old w: its time, nothing else",
	    times.n == 1 && times.us[0] == 0x3e61 && v.authenticated == 0 &&
	        v.authfail == 1 && v.inlen == 0);

	/* No monitor writes these: refused, what came before kept. */
	memset(&v, 0, sizeof(v));
	T_CHECK("good then bad",
	    startup_feed(&v, (const uint8_t *)"k\0\0\0\7", 5) == 0 &&
	        startup_feed(&v, (const uint8_t *)"zz", 2) == -1);
	T_CHECK("bad: earlier record kept", v.keys_spid == 7);
	T_CHECK("bad: nothing buffered", v.inlen == 0);
	T_CHECK("bad: not authenticated", v.authenticated == 0);

	/* A restarted listener no longer reads: the write fails, and the
	 * SIGPIPE (default: death) is taken back. */
	{
		sigset_t pend;

		T_CHECK("pipe 3", pipe(p) == 0);
		close(p[0]);
		signal(SIGPIPE, SIG_DFL);
		startup_open(p[1]);
		startup_note_keys(8);
		startup_note_keys(9); /* the pipe is closed by now */
		T_CHECK("no reader: still alive, no SIGPIPE pending",
		    sigpending(&pend) == 0 && !sigismember(&pend, SIGPIPE));
		T_CHECK("no reader: the write end was closed",
		    fcntl(p[1], F_GETFD) == -1);
	}

	/* Without a pipe the monitor side does nothing (and does not fail). */
	startup_open(-1);
	startup_note_keys(1);
	startup_authenticated();
	return T_DONE();
}
