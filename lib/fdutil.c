/* fdutil.c: small descriptor helpers every process uses. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>

#include "fdutil.h"

int
fd_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* 1 if one of the signals in set is pending (blocked, not delivered). */
static int
signals_pending(const sigset_t *set)
{
	sigset_t pend;

	if (sigpending(&pend) != 0)
		return 0;
	sigandset(&pend, &pend, set);
	return !sigisemptyset(&pend);
}

int
fd_ppoll(struct pollfd *pfds, unsigned long n, const struct timespec *tsp,
    const sigset_t *waitmask, const sigset_t *block)
{
	int r = ppoll(pfds, (nfds_t)n, tsp, waitmask);

	if (r > 0 && signals_pending(block)) {
		/* The handlers run here; they only set flags. */
		sigprocmask(SIG_SETMASK, waitmask, NULL);
		sigprocmask(SIG_BLOCK, block, NULL);
		errno = EINTR;
		return -1;
	}
	return r;
}
