/*
 * channel_sock.c: what the channels that carry one stream socket share
 * (auth-agent@openssh.com, x11): the socket as the channel's fds, and
 * the close rule of a bidirectional stream.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fdutil.h"
#include "log.h"
#include "channel.h"

/*
 * EOF goes out as soon as the socket's reader side ends; CLOSE waits until
 * the other direction is done too (the peer's EOF written out, or the
 * socket no longer taking data), so a half-closed stream is not cut.
 */
int
channel_sock_close_ready(struct conn *conn, struct channel *c)
{
	if (!(c->flags & CHAN_SENT_EOF))
		return 1;
	return c->wfd < 0;
}

int
channel_socket_fds(int sock, const char *what, int *wfd)
{
	/* One descriptor as rfd and wfd: the channel closes it once both
	 * directions let go of it (chan_close_fd). */
	if (fd_set_nonblock(sock) == -1) {
		error("%s connection dropped: %s", what, strerror(errno));
		close(sock);
		*wfd = -1;
		return ERR_SYSTEM;
	}
	*wfd = sock;
	return 0;
}

int
channel_attach_socket(struct channel *c, int sock)
{
	int wfd;

	if (channel_socket_fds(sock, c->type->name, &wfd) != 0) {
		channel_attach_fds(c, -1, -1, -1); /* closes once confirmed */
		return ERR_SYSTEM;
	}
	channel_attach_fds(c, sock, wfd, -1);
	return 0;
}

int
channel_open_socket(struct conn *conn, const struct channel_type *type,
    int sock, struct channel **cp, struct buf **mp)
{
	int wfd, r;

	if (channel_socket_fds(sock, type->name, &wfd) != 0)
		return ERR_LIMIT;
	if ((r = channel_open_begin(conn, type, cp, mp)) != 0) {
		close(sock); /* wfd is sock */
		return r;
	}
	channel_attach_fds(*cp, sock, wfd, -1);
	return 0;
}
