/*
 * grace.c: LoginGraceTime as a hard deadline. A POSIX timer raises SIGALRM
 * with no handler installed, so the kernel ends the monitor wherever it is
 * busy (an authorized_keys read, a PAM module, AuthorizedKeysCommand); the
 * listener, reaping it, logs "Timeout before authentication". A verdict is
 * acted upon only after grace_claim() stopped the timer, so a login is
 * either accepted or timed out, never both.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "ipc.h"
#include "log.h"
#include "monitor/grace.h"

static timer_t grace_timer;
static int grace_armed;        /* the timer runs */
static int grace_deadline_set; /* LoginGraceTime applies (until claimed) */
static int64_t grace_deadline; /* ipc_now_ms() */

int
grace_arm(int seconds)
{
	struct sigevent sev;
	struct itimerspec its;
	sigset_t set;

	if (seconds <= 0 || grace_deadline_set)
		return 0;
	grace_deadline = ipc_now_ms() + (int64_t)seconds * 1000;
	grace_deadline_set = 1;
	/* Inherited as ignored or blocked, the deadline would not hold. */
	signal(SIGALRM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGALRM;
	/* Its own timer: a module's alarm() does not move it. */
	if (timer_create(CLOCK_MONOTONIC, &sev, &grace_timer) != 0) {
		error("%s: timer_create: %s", __func__, strerror(errno));
		return -1;
	}
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = seconds;
	if (timer_settime(grace_timer, 0, &its, NULL) != 0) {
		error("%s: timer_settime: %s", __func__, strerror(errno));
		timer_delete(grace_timer);
		return -1;
	}
	grace_armed = 1;
	return 0;
}

void
grace_claim(void)
{
	sigset_t set, old, pend;
	int late;

	if (!grace_deadline_set)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, &old);
	if (grace_armed)
		timer_delete(grace_timer);
	/* The clock decides too: the timer may not exist (grace_arm). */
	late = ipc_now_ms() >= grace_deadline ||
	    (sigpending(&pend) == 0 && sigismember(&pend, SIGALRM));
	grace_armed = 0;
	grace_deadline_set = 0;
	if (late) {
		/* Too late: die of the deadline, as if it had come first. */
		signal(SIGALRM, SIG_DFL);
		raise(SIGALRM);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		fatal("%s: SIGALRM did not end the monitor", __func__);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int64_t
grace_left_ms(void)
{
	int64_t left;

	if (!grace_deadline_set)
		return -1;
	left = grace_deadline - ipc_now_ms();
	return left < 0 ? 0 : left;
}
