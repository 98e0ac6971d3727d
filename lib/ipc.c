/* ipc.c: length-framed typed messages over a socketpair, with fd passing. */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "ipc.h"

/* Linux 6.16's; the value of asm-generic/socket.h (the arches that have
 * their own numbering must take it from their headers). */
#if !defined(SO_PASSRIGHTS) && !defined(__alpha__) && !defined(__mips__) &&    \
    !defined(__hppa__) && !defined(__sparc__)
#define SO_PASSRIGHTS 83
#endif

int
ipc_refuse_fds(int fd)
{
#ifdef SO_PASSRIGHTS
	int off = 0;

	return setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof(off));
#else
	(void)fd;
	errno = ENOPROTOOPT;
	return -1;
#endif
}

/*
 * A descriptor nobody asked for, closed without waiting on it: a socket
 * (the sender's, its copy closed) with SO_LINGER and unsent data would
 * hold the close until its peer reads, with the receiver's signals
 * blocked, for ever. An abortive close instead; other types ignore it.
 */
static void
close_stray(int fd)
{
	struct linger lg = {1, 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

int
ipc_send(int fd, uint8_t type, const struct buf *payload, int pass_fd)
{
	uint8_t hdr[5];
	size_t plen = payload ? buf_len(payload) : 0, total, off = 0;
	struct iovec iov[2];
	struct msghdr msg;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr *c;
	ssize_t n;
	int first = 1;

	if (plen + 1 > IPC_MAX_MESSAGE)
		return ERR_TOO_BIG;
	hdr[0] = (uint8_t)((plen + 1) >> 24);
	hdr[1] = (uint8_t)((plen + 1) >> 16);
	hdr[2] = (uint8_t)((plen + 1) >> 8);
	hdr[3] = (uint8_t)(plen + 1);
	hdr[4] = type;
	total = sizeof(hdr) + plen;
	while (off < total) {
		memset(&msg, 0, sizeof(msg));
		if (off < sizeof(hdr)) {
			iov[0].iov_base = hdr + off;
			iov[0].iov_len = sizeof(hdr) - off;
			iov[1].iov_base =
			    (void *)(payload ? buf_ptr(payload) : NULL);
			iov[1].iov_len = plen;
			msg.msg_iovlen = plen > 0 ? 2 : 1;
		} else {
			iov[0].iov_base =
			    (void *)(buf_ptr(payload) + (off - sizeof(hdr)));
			iov[0].iov_len = total - off;
			msg.msg_iovlen = 1;
		}
		msg.msg_iov = iov;
		if (first && pass_fd >= 0) {
			memset(&cm, 0, sizeof(cm));
			msg.msg_control = cm.buf;
			msg.msg_controllen = sizeof(cm.buf);
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
		}
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* Only a send deadline (SO_SNDTIMEO) gives EAGAIN. */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return ERR_TIMEOUT;
			return errno == EPIPE ? ERR_EOF : ERR_SYSTEM;
		}
		first = 0;
		off += (size_t)n;
	}
	return 0;
}

int64_t
ipc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is readable or the deadline (ms, -1 = none) passes. */
static int
wait_readable(int fd, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int n;

	if (deadline < 0)
		return 0;
	for (;;) {
		left = deadline - ipc_now_ms();
		if (left <= 0)
			return ERR_TIMEOUT;
		pfd.fd = fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return ERR_SYSTEM;
	}
}

/*
 * Read exactly len bytes; collect at most one descriptor, into *fdp (NULL:
 * none expected). Any other descriptor is closed and is an error.
 */
static int
read_full(
    int fd, uint8_t *p, size_t len, int *fdp, int *got_any, int64_t deadline)
{
	struct msghdr msg;
	struct iovec iov;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct cmsghdr *c;
	size_t off = 0, i, nfd;
	ssize_t n;
	int rfd, stray = 0;

	while (off < len) {
		int r;

		if ((r = wait_readable(fd, deadline)) != 0)
			return r;
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = p + off;
		iov.iov_len = len - off;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ERR_SYSTEM;
		}
		for (c = CMSG_FIRSTHDR(&msg); c != NULL;
		     c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < nfd; i++) {
				memcpy(&rfd, CMSG_DATA(c) + i * sizeof(int),
				    sizeof(int));
				if (fdp != NULL && *fdp == -1)
					*fdp = rfd;
				else {
					close_stray(rfd); /* unexpected */
					stray = 1;
				}
			}
		}
		if ((msg.msg_flags & MSG_CTRUNC) || stray)
			return ERR_PROTOCOL;
		if (n == 0)
			return (off == 0 && !*got_any) ? ERR_EOF : ERR_SHORT;
		*got_any = 1;
		off += (size_t)n;
	}
	return 0;
}

int
ipc_recv(int fd, uint8_t *type, struct buf *payload, int *fdp, size_t max)
{
	return ipc_recv_timeout(fd, type, payload, fdp, max, -1);
}

int
ipc_recv_timeout(int fd, uint8_t *type, struct buf *payload, int *fdp,
    size_t max, int timeout_ms)
{
	uint8_t hdr[5], *p;
	uint32_t len;
	int r, got = 0, rfd = -1;
	int64_t deadline = timeout_ms < 0 ? -1 : ipc_now_ms() + timeout_ms;

	if (fdp != NULL)
		*fdp = -1;
	buf_reset(payload);
	if ((r = read_full(fd, hdr, sizeof(hdr), &rfd, &got, deadline)) != 0)
		goto fail;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len < 1 || len > max || len > IPC_MAX_MESSAGE) {
		r = ERR_TOO_BIG;
		goto fail;
	}
	*type = hdr[4];
	if (len > 1) {
		if ((r = buf_reserve(payload, len - 1, &p)) != 0)
			goto fail;
		if ((r = read_full(fd, p, len - 1, NULL, &got, deadline)) != 0)
			goto fail;
	}
	if (fdp != NULL)
		*fdp = rfd;
	else if (rfd != -1) {
		close_stray(rfd);
		return ERR_PROTOCOL;
	}
	return 0;
fail:
	if (rfd != -1) {
		if (fdp == NULL)
			close_stray(rfd);
		else
			close(rfd);
	}
	return r;
}

int
ipc_sign_request(int fd, uint8_t req_type, uint8_t reply_type, const char *alg,
    const uint8_t *hash, size_t hashlen, struct buf *sig)
{
	struct buf *b;
	uint8_t type;
	int r;

	if ((b = buf_new(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_cstring(b, alg)) != 0 ||
	    (r = buf_put_string(b, hash, hashlen)) != 0 ||
	    (r = ipc_send(fd, req_type, b, -1)) != 0 ||
	    (r = ipc_recv(fd, &type, b, NULL, IPC_MAX_MESSAGE)) != 0)
		goto out;
	if (type != reply_type) {
		r = ERR_PROTOCOL;
		goto out;
	}
	if ((r = buf_get_stringb(b, sig)) != 0 || (r = buf_end(b)) != 0)
		goto out;
out:
	buf_free(b);
	return r;
}

int
ipc_gex_request(int fd, uint32_t min, uint32_t n, uint32_t max, struct buf *p,
    struct buf *g)
{
	struct buf *b;
	const uint8_t *v;
	size_t len;
	uint8_t type;
	int r;

	if ((b = buf_new(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_u32(b, min)) != 0 || (r = buf_put_u32(b, n)) != 0 ||
	    (r = buf_put_u32(b, max)) != 0 ||
	    (r = ipc_send(fd, IPC_GEX_REQ, b, -1)) != 0 ||
	    (r = ipc_recv(fd, &type, b, NULL, IPC_MAX_MESSAGE)) != 0)
		goto out;
	if (type != IPC_GEX_REPLY) {
		r = ERR_PROTOCOL;
		goto out;
	}
	buf_reset(p);
	buf_reset(g);
	if ((r = buf_get_mpint_direct(b, &v, &len)) != 0 ||
	    (r = buf_put(p, v, len)) != 0 ||
	    (r = buf_get_mpint_direct(b, &v, &len)) != 0 ||
	    (r = buf_put(g, v, len)) != 0 || (r = buf_end(b)) != 0)
		goto out;
out:
	buf_free(b);
	return r;
}
