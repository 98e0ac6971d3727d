/*
 * fdutil.h: small descriptor helpers every process uses.
 */
#ifndef POSTERN_FDUTIL_H
#define POSTERN_FDUTIL_H

#include <signal.h>

/* fd_set_nonblock: add O_NONBLOCK to fd's status flags; 0, or -1 with
 * errno. */
int fd_set_nonblock(int fd);

struct pollfd;
struct timespec;

/*
 * fd_ppoll: ppoll(pfds, n, tsp, waitmask) for a loop that keeps the
 * signals in block blocked except while it waits. Linux's ppoll() that
 * finds a descriptor ready returns without delivering a signal that is
 * pending, so a flood that keeps a socket readable would hold SIGTERM or
 * SIGCHLD back for ever: when one of block is pending, it is let in (its
 * handler runs) and the call returns -1 with errno EINTR, as if the wait
 * had been interrupted. Otherwise what ppoll() returns.
 */
int fd_ppoll(struct pollfd *pfds, unsigned long n, const struct timespec *tsp,
    const sigset_t *waitmask, const sigset_t *block);

#endif
