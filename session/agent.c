/*
 * agent.c: agent forwarding (OpenSSH PROTOCOL s2.1, auth-agent-req and
 * auth-agent@openssh.com): a listening Unix socket in a fresh private
 * directory (/tmp/ssh-XXXXXXXXXX/agent.PID, the directory 0700), named
 * by SSH_AUTH_SOCK in the sessions; each connection to it becomes an
 * auth-agent@openssh.com channel to the client. Removed at the end.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authopts.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "randname.h"
#include "transport.h"
#include "session.h"
#include "channel.h"
#include "forward.h"

/* Random characters in the directory name: sshd's ten. */
#define AGENT_DIR_RANDOM 10

struct agent_fwd {
	int lfd; /* the listening socket */
	int pi;  /* its index in the poll set, or -1 */
	char dir[32];
	char path[64]; /* dir/agent.PID */
};

static const struct channel_type channel_type_agent = {
    .name = "auth-agent@openssh.com",
    .timeout_name = "agent-connection",
    .close_ready = channel_sock_close_ready,
};

static void
agent_free(struct agent_fwd *a)
{
	if (a->lfd >= 0)
		close(a->lfd);
	if (a->path[0] != '\0' && unlink(a->path) == -1 && errno != ENOENT)
		error_f("unlink %s: %s", a->path, strerror(errno));
	if (a->dir[0] != '\0' && rmdir(a->dir) == -1 && errno != ENOENT)
		error_f("rmdir %s: %s", a->dir, strerror(errno));
	free(a);
}

/*
 * A new directory /tmp/ssh-XXXXXXXXXX, mode 0700, its ten characters all
 * random as in sshd's name (glibc's mkdtemp(3) draws only the last six).
 */
static int
agent_mkdir(char *dir, size_t len)
{
	char name[AGENT_DIR_RANDOM + 1];
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (randname_fill(name, AGENT_DIR_RANDOM) != 0)
			return -1;
		snprintf(dir, len, "/tmp/ssh-%s", name);
		if (mkdir(dir, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/*
 * The socket, in a directory only the user can enter; *mkdir_errno why no
 * directory could be made (else 0).
 */
static int
agent_listen(struct agent_fwd *a, int *mkdir_errno)
{
	struct sockaddr_un sun;

	*mkdir_errno = 0;
	if (agent_mkdir(a->dir, sizeof(a->dir)) != 0) {
		*mkdir_errno = errno;
		error(
		    "agent forwarding: mkdir %s: %s", a->dir, strerror(errno));
		a->dir[0] = '\0';
		return ERR_SYSTEM;
	}
	snprintf(
	    a->path, sizeof(a->path), "%s/agent.%ld", a->dir, (long)getpid());
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", a->path);
	if ((a->lfd = socket(AF_UNIX,
	         SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(a->lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(a->lfd, SOMAXCONN) == -1) {
		error("agent forwarding: socket %s: %s", a->path,
		    strerror(errno));
		return ERR_SYSTEM;
	}
	return 0;
}

int
agent_request(struct conn *conn, int *ok)
{
	struct session_ctx *ctx = conn->ctx;
	const struct session_axl *f = ctx->axl;
	struct agent_fwd *a;
	int e;

	if (ctx->opts == NULL || !ctx->opts->permit_agent_forwarding ||
	    f == NULL || !f->allow_agent_forwarding || f->disable_forwarding) {
		debug("agent forwarding disabled");
		return 0;
	}
	if (conn->agent != NULL) {
		debug("agent forwarding already requested");
		return 0;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ERR_ALLOC;
	a->lfd = a->pi = -1;
	/* A request that fails may be made again (sshd takes one only;
	 * another try harms nothing). No directory: the client is told, as
	 * by sshd (ssh -v shows it), e.g. in a jail without /tmp. */
	if (agent_listen(a, &e) != 0) {
		char msg[160];

		agent_free(a);
		if (e == 0)
			return 0;
		snprintf(msg, sizeof(msg),
		    "Agent forwarding disabled: mkdtemp() failed: %.100s",
		    strerror(e));
		return fwd_send_debug(conn, msg);
	}
	debug("agent forwarding: listening on %s", a->path);
	conn->agent = a;
	*ok = 1;
	return 0;
}

const char *
agent_socket_path(const struct conn *conn)
{
	return conn->agent != NULL ? conn->agent->path : NULL;
}

int
agent_poll_prepare(struct conn *conn)
{
	struct agent_fwd *a = conn->agent;

	if (a == NULL)
		return 0;
	a->pi = -1;
	if (conn_accept_paused(conn))
		return 0;
	a->pi = conn_pfd_add(conn, a->lfd, POLLIN);
	return a->pi < 0 ? a->pi : 0;
}

/* A program connected to SSH_AUTH_SOCK: a channel to the client's agent. */
static int
agent_accept(struct conn *conn, struct agent_fwd *a)
{
	struct channel *c;
	struct buf *m;
	int fd, r;

	if ((fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		conn_accept_failed(conn, errno);
		return 0;
	}
	if ((r = channel_open_socket(conn, &channel_type_agent, fd, &c, &m)) !=
	    0)
		return r == ERR_LIMIT ? 0 : r; /* only this one is dropped */
	return transport_packet_send(conn->t);
}

int
agent_poll_handle(struct conn *conn)
{
	struct agent_fwd *a = conn->agent;

	if (a == NULL || a->pi < 0 || (size_t)a->pi >= conn->npfds ||
	    conn->pfds[a->pi].fd != a->lfd || conn->pfds[a->pi].revents == 0)
		return 0;
	return agent_accept(conn, a);
}

void
agent_cleanup(struct conn *conn)
{
	if (conn->agent == NULL)
		return;
	agent_free(conn->agent);
	conn->agent = NULL;
}
