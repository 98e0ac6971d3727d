/*
 * relay.h: inetd mode (-i) over a pipe pair (a ProxyCommand, xinetd or
 * socat handing two pipes): the process that stays as the connection's
 * listener copies bytes between standard input/output and one end of a
 * socketpair, and the other end is the connection for everything else.
 * It copies, never parses.
 */
#ifndef POSTERN_RELAY_H
#define POSTERN_RELAY_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define RELAY_BUF (64 * 1024)
#define RELAY_NPOLL 3

/* One direction: from fd 'from' through buf to fd 'to'. */
struct relay_dir {
	int from, to; /* -1 once closed */
	uint8_t buf[RELAY_BUF];
	size_t off, len; /* unwritten bytes are buf[off, off + len) */
	int eof;         /* 'from' is done: nothing more will come */
};

struct relay {
	int sock;            /* our end of the socketpair */
	int count_fd;        /* a sealed memfd holding *count, fd >= 10 */
	uint64_t *count;     /* bytes written either way, shared */
	struct relay_dir up; /* standard input to sock */
	struct relay_dir dn; /* sock to standard output */
};

/*
 * relay_start: the pair (in, out) becomes r's; *conn is set to the
 * other end of a new socketpair, the connection as the monitor sees it.
 * 0, or -1 with errno.
 */
int relay_start(struct relay *r, int in, int out, int *conn);

/*
 * relay_poll: fill up to RELAY_NPOLL pollfds for what r waits for;
 * returns how many (0 once done). relay_run: act on them after poll.
 */
size_t relay_poll(const struct relay *r, struct pollfd *p);
void relay_run(struct relay *r, const struct pollfd *p, size_t n);

/*
 * relay_count_map: in the monitor, the relay's byte count from the memfd
 * on fd (closed), which the host key signature budget refills by as a TCP
 * socket's counts (monitor/sign_budget.c); NULL when fd holds none.
 */
const uint64_t *relay_count_map(int fd);

/* relay_done: 1 once both directions have ended and r holds no fd. */
int relay_done(const struct relay *r);

/*
 * relay_stop_input: the server is gone (nothing holds the other end any
 * more): stop reading standard input; what the server sent is still
 * delivered.
 */
void relay_stop_input(struct relay *r);

/* relay_abort: close everything, dropping what was not delivered. */
void relay_abort(struct relay *r);

#endif
