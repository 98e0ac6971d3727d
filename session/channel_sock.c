/*
 * channel_sock.c: what the channels that carry one stream socket share
 * (auth-agent@openssh.com, x11): the socket as the channel's fds, and
 * the close rule of a bidirectional stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
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
channel_attach_socket(struct channel *c, int sock)
{
	int fl, wfd;

	/* rfd and wfd are closed separately: two descriptors. */
	if ((fl = fcntl(sock, F_GETFL)) == -1 ||
	    fcntl(sock, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    (wfd = fcntl(sock, F_DUPFD_CLOEXEC, 3)) == -1) {
		error_f("socket: %s", strerror(errno));
		close(sock);
		channel_attach_fds(c, -1, -1, -1); /* closes once confirmed */
		return ERR_SYSTEM;
	}
	channel_attach_fds(c, sock, wfd, -1);
	return 0;
}
