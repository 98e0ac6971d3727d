/*
 * relay.c: inetd mode over a pipe pair. Bytes go from standard input to
 * the socketpair and from the socketpair to standard output through one
 * fixed buffer each way; an end on one side is passed on as the same end
 * on the other (EOF as a half-close), so the connection winds down as a
 * TCP one would.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fdutil.h"
#include "monitor/relay.h"

#define RELAY_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

int
relay_start(struct relay *r, int in, int out, int *conn)
{
	int sp[2], mfd;

	memset(r, 0, sizeof(*r));
	r->sock = r->up.from = r->up.to = r->dn.from = r->dn.to = -1;
	/* Moved above 10 (the first memfd closed: one descriptor of it). */
	if ((mfd = memfd_create(
	         "postern-relay-count", MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0)
		return -1;
	r->count_fd = fcntl(mfd, F_DUPFD_CLOEXEC, 10);
	close(mfd);
	/* Sealed at its size: a mapping of it never faults. */
	if (r->count_fd < 0 || ftruncate(r->count_fd, sizeof(*r->count)) != 0 ||
	    fcntl(r->count_fd, F_ADD_SEALS, RELAY_SEALS) != 0 ||
	    (r->count = mmap(NULL, sizeof(*r->count), PROT_READ | PROT_WRITE,
	         MAP_SHARED, r->count_fd, 0)) == MAP_FAILED)
		return -1;
	/* As sshd sets its own descriptors of the connection. */
	if (fd_set_nonblock(in) != 0 || fd_set_nonblock(out) != 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		return -1;
	if (fd_set_nonblock(sp[0]) != 0) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	r->sock = sp[0];
	r->up.from = in;
	r->up.to = r->sock;
	r->dn.from = r->sock;
	r->dn.to = out;
	*conn = sp[1];
	return 0;
}

/*
 * Direction d has ended: its source is done and all it read was written
 * (broken 0), or its destination takes no more (broken 1). Up (stdin to
 * the socket): the server reads EOF, or the client's writes fail. Down
 * (the socket to stdout): the client reads EOF, or the server's writes
 * fail.
 */
static void
dir_end(struct relay *r, struct relay_dir *d, int broken)
{
	if (d == &r->up) {
		if (!broken)
			(void)shutdown(r->sock, SHUT_WR);
		close(d->from);
	} else {
		if (broken)
			(void)shutdown(r->sock, SHUT_RD);
		close(d->to);
	}
	d->from = d->to = -1;
	d->off = d->len = 0;
	if (r->up.from == -1 && r->dn.from == -1 && r->sock != -1) {
		close(r->sock);
		r->sock = -1;
	}
}

/* Read when the buffer is empty, write what it holds; never block. */
static void
dir_step(struct relay *r, struct relay_dir *d)
{
	ssize_t n;

	if (d->from == -1)
		return;
	if (!d->eof && d->len == 0) {
		n = read(d->from, d->buf, sizeof(d->buf));
		if (n > 0) {
			d->off = 0;
			d->len = (size_t)n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			d->eof = 1;
	}
	while (d->len > 0) {
		n = write(d->to, d->buf + d->off, d->len);
		if (n > 0) {
			d->off += (size_t)n;
			d->len -= (size_t)n;
			__atomic_add_fetch(
			    r->count, (uint64_t)n, __ATOMIC_RELAXED);
		} else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno == EAGAIN)
			return;
		else {
			dir_end(r, d, 1);
			return;
		}
	}
	if (d->eof)
		dir_end(r, d, 0);
}

size_t
relay_poll(const struct relay *r, struct pollfd *p)
{
	size_t n = 0;
	short ev = 0;

	if (r->up.from != -1 && r->up.len == 0) {
		p[n].fd = r->up.from;
		p[n++].events = POLLIN;
	}
	if (r->up.from != -1 && r->up.len > 0)
		ev |= POLLOUT;
	if (r->dn.from != -1 && r->dn.len == 0)
		ev |= POLLIN;
	if (ev != 0) {
		p[n].fd = r->sock;
		p[n++].events = ev;
	}
	if (r->dn.from != -1 && r->dn.len > 0) {
		p[n].fd = r->dn.to;
		p[n++].events = POLLOUT;
	}
	return n;
}

void
relay_run(struct relay *r, const struct pollfd *p, size_t n)
{
	size_t i;

	/* Anything ready: one non-blocking step each way is enough. */
	for (i = 0; i < n; i++) {
		if (p[i].revents != 0) {
			dir_step(r, &r->up);
			dir_step(r, &r->dn);
			return;
		}
	}
}

const uint64_t *
relay_count_map(int fd)
{
	struct stat st;
	void *p;

	/*
	 * Without a relay, fd is free at exec and may since hold another
	 * file (-E's log): only a memfd sealed as relay_start seals it is
	 * taken.
	 */
	if (fcntl(fd, F_GET_SEALS) != RELAY_SEALS || fstat(fd, &st) != 0 ||
	    st.st_size != sizeof(uint64_t))
		return NULL;
	p = mmap(NULL, sizeof(uint64_t), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

int
relay_done(const struct relay *r)
{
	return r->sock == -1 && r->up.from == -1 && r->dn.from == -1;
}

void
relay_stop_input(struct relay *r)
{
	if (r->up.from != -1)
		dir_end(r, &r->up, 1);
}

void
relay_abort(struct relay *r)
{
	if (r->up.from != -1)
		dir_end(r, &r->up, 1);
	if (r->dn.from != -1)
		dir_end(r, &r->dn, 1);
}
