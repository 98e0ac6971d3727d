/*
 * fdutil.h: small descriptor helpers every process uses.
 */
#ifndef POSTERN_FDUTIL_H
#define POSTERN_FDUTIL_H

/* fd_set_nonblock: add O_NONBLOCK to fd's status flags; 0, or -1 with
 * errno. */
int fd_set_nonblock(int fd);

#endif
