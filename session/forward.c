/*
 * forward.c: remote forwarding in postern-session (ssh -R): the
 * tcpip-forward and streamlocal-forward@openssh.com global requests and
 * their cancels (RFC 4254 s7.1, OpenSSH's PROTOCOL 2.4), the listeners
 * they create, bound as the user (GatewayPorts decides the address,
 * StreamLocalBindMask and StreamLocalBindUnlink the socket file), and the
 * policy every kind of forwarding is checked against.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authopts.h"
#include "buf.h"
#include "err.h"
#include "fwdpolicy.h"
#include "log.h"
#include "transport.h"
#include "session.h"
#include "channel.h"
#include "forward.h"

#define FWD_LISTENERS_MAX 256 /* remote forwards open at once */
#define FWD_SOCKS_MAX 8       /* sockets of one TCP forward (addresses) */
#define FWD_ACCEPT_BURST 16   /* connections taken per listener per turn */
#define FWD_HOST_MAX 1025     /* NI_MAXHOST */

struct fwd_listener {
	int unix_socket;
	char *host; /* as the client asked (forwarded-tcpip echoes it) */
	int req_port;
	int port; /* as bound (port 0 asked: the one allocated) */
	char *path;
	dev_t dev; /* the socket file we made, removed only if unchanged */
	ino_t ino;
	int fds[FWD_SOCKS_MAX];
	int pis[FWD_SOCKS_MAX];
	int nfds;
};

struct fwd_state {
	struct fwd_listener *l[FWD_LISTENERS_MAX];
	size_t n;
	int wake_pi;
};

struct fwd_state *
fwd_state_get(struct conn *conn)
{
	if (conn->fwd == NULL &&
	    (conn->fwd = calloc(1, sizeof(*conn->fwd))) != NULL)
		conn->fwd->wake_pi = -1;
	return conn->fwd;
}

int
fwd_allowed(struct conn *conn, int unix_socket, int direction)
{
	const struct session_ctx *ctx = conn->ctx;
	const struct fwd_policy *p = ctx->fwd;

	if (p == NULL || ctx->opts == NULL || p->disable ||
	    !ctx->opts->permit_port_forwarding)
		return 0;
	return ((unix_socket ? p->allow_streamlocal : p->allow_tcp) &
	           direction) != 0;
}

int
fwd_send_debug(struct conn *conn, const char *msg)
{
	struct buf *m;
	int r;

	if ((r = transport_packet_begin(conn->t, SSH2_MSG_DEBUG, &m)) != 0 ||
	    (r = buf_put_bool(m, 0)) != 0 ||
	    (r = buf_put_cstring(m, msg)) != 0 ||
	    (r = buf_put_cstring(m, "")) != 0)
		return r;
	return transport_packet_send(conn->t);
}

static void
listener_free(struct fwd_listener *l)
{
	struct stat st;
	int i;

	for (i = 0; i < l->nfds; i++)
		close(l->fds[i]);
	/* Our socket file goes with the forward, if nobody replaced it. */
	if (l->path != NULL && lstat(l->path, &st) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_dev == l->dev && st.st_ino == l->ino)
		(void)unlink(l->path);
	free(l->host);
	free(l->path);
	free(l);
}

void
fwd_free(struct conn *conn)
{
	size_t i;

	if (conn->fwd == NULL)
		return;
	for (i = 0; i < conn->fwd->n; i++)
		listener_free(conn->fwd->l[i]);
	free(conn->fwd);
	conn->fwd = NULL;
}

static void
listener_remove(struct fwd_state *fs, size_t i)
{
	listener_free(fs->l[i]);
	fs->l[i] = fs->l[--fs->n];
	fs->l[fs->n] = NULL;
}

/*
 * What GatewayPorts makes of the address the client asked for: *addrp
 * the address to bind (NULL: the loopback addresses, or with *wildcardp
 * every address).
 */
static void
bind_address(
    struct conn *conn, const char *req, const char **addrp, int *wildcardp)
{
	int gp = conn->ctx->fwd->gateway_ports;
	char msg[FWD_HOST_MAX + 64];

	*addrp = NULL;
	*wildcardp = 0;
	if (gp == FWD_GATEWAY_NO) {
		/* Loopback only; the client may pick IPv4 or IPv6. */
		if (strcmp(req, "127.0.0.1") == 0 || strcmp(req, "::1") == 0)
			*addrp = req;
		return;
	}
	if (*req == '\0' || strcmp(req, "*") == 0 || gp == FWD_GATEWAY_YES) {
		*wildcardp = 1;
		if (*req != '\0' && strcmp(req, "0.0.0.0") != 0 &&
		    strcmp(req, "*") != 0) {
			snprintf(msg, sizeof(msg),
			    "Forwarding listen address \"%.1024s\" overridden "
			    "by server GatewayPorts",
			    req);
			(void)fwd_send_debug(conn, msg);
		}
		return;
	}
	/* clientspecified: "localhost" means every loopback address. */
	if (strcmp(req, "localhost") != 0)
		*addrp = req;
}

int
fwd_address_family(const struct conn *conn)
{
	return conn->ctx->axl != NULL ? conn->ctx->axl->address_family
	                              : AF_UNSPEC;
}

/* Bind and listen on every address of host:port; port 0 picks one. */
static int
listen_tcp(struct conn *conn, struct fwd_listener *l)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sslen;
	const char *addr;
	char sport[8], ntop[NI_MAXHOST];
	int wildcard, gai, s, on = 1, port = l->req_port;

	bind_address(conn, l->host, &addr, &wildcard);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = fwd_address_family(conn);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (wildcard ? AI_PASSIVE : 0);
	snprintf(sport, sizeof(sport), "%d", port);
	if ((gai = getaddrinfo(addr, sport, &hints, &res)) != 0) {
		/* sshd's line (its function's name included). */
		error("channel_setup_fwd_listener_tcpip: getaddrinfo(%.64s): "
		      "%s",
		    addr != NULL ? addr : "", gai_strerror(gai));
		return ERR_NOT_FOUND;
	}
	for (ai = res; ai != NULL && l->nfds < FWD_SOCKS_MAX;
	     ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		/* Every address gets the port the first one was given. */
		if (port != 0 && ai->ai_family == AF_INET)
			((struct sockaddr_in *)(void *)ai->ai_addr)->sin_port =
			    htons((uint16_t)port);
		else if (port != 0)
			((struct sockaddr_in6 *)(void *)ai->ai_addr)
			    ->sin6_port = htons((uint16_t)port);
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, ntop, sizeof(ntop),
		        NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(ntop, sizeof(ntop), "?");
		s = socket(ai->ai_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s == -1) {
			verbose("socket [%s]:%d: %.100s", ntop, port,
			    strerror(errno));
			continue;
		}
		(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(
			    s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		if (bind(s, ai->ai_addr, ai->ai_addrlen) == -1 ||
		    listen(s, SOMAXCONN) == -1) {
			if (ai->ai_next == NULL)
				error("bind [%s]:%d: %.100s", ntop, port,
				    strerror(errno));
			else
				verbose("bind [%s]:%d: %.100s", ntop, port,
				    strerror(errno));
			close(s);
			continue;
		}
		if (port == 0) {
			sslen = sizeof(ss);
			if (getsockname(s, (struct sockaddr *)&ss, &sslen) ==
			        -1 ||
			    getnameinfo((struct sockaddr *)&ss, sslen, NULL, 0,
			        sport, sizeof(sport), NI_NUMERICSERV) != 0) {
				close(s);
				continue;
			}
			port = atoi(sport);
			debug("Allocated listen port %d", port);
		}
		debug("Local forwarding listening on %s port %d.", ntop, port);
		l->fds[l->nfds++] = s;
	}
	freeaddrinfo(res);
	if (l->nfds == 0) {
		error("channel_setup_fwd_listener_tcpip: cannot listen to "
		      "port: %d",
		    l->req_port);
		return ERR_SYSTEM;
	}
	l->port = port;
	return 0;
}

/* A Unix socket at path, made with StreamLocalBindMask as the umask. */
static int
listen_unix(struct conn *conn, struct fwd_listener *l)
{
	const struct fwd_policy *p = conn->ctx->fwd;
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int s, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* sshd's two lines: channel_setup_fwd_listener_streamlocal's check
	 * (longer than sun_path), then unix_listener's (no room for the
	 * NUL); the first writes the path whole, up to the log line's
	 * bound. */
	if (strlen(l->path) > sizeof(sun.sun_path)) {
		error("Local listening path too long: %s", l->path);
		return ERR_TOO_BIG;
	}
	if (strlen(l->path) == sizeof(sun.sun_path)) {
		error("unix_listener: path \"%.255s\" too long for Unix domain "
		      "socket",
		    l->path);
		return ERR_TOO_BIG;
	}
	memcpy(sun.sun_path, l->path, strlen(l->path) + 1);
	if (p->bind_unlink && lstat(l->path, &st) == 0 &&
	    S_ISSOCK(st.st_mode) && unlink(l->path) == -1)
		error("unlink(%.255s): %.100s", l->path, strerror(errno));
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	         0)) == -1) {
		error("socket: %.100s", strerror(errno));
		return ERR_SYSTEM;
	}
	old = umask((mode_t)p->bind_mask);
	r = bind(s, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r == -1) {
		error("unix_listener: cannot bind to path %.255s: %s", l->path,
		    strerror(errno));
		close(s);
		return ERR_SYSTEM;
	}
	if (listen(s, SOMAXCONN) == -1) {
		error("listen on path %.255s: %s", l->path, strerror(errno));
		close(s);
		/* The socket file is ours: bind made it. */
		(void)unlink(l->path);
		return ERR_SYSTEM;
	}
	if (lstat(l->path, &st) == 0) {
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	debug("Local forwarding listening on path %.255s.", l->path);
	l->fds[l->nfds++] = s;
	return 0;
}

static int
send_reply(struct conn *conn, int ok, int with_port, int port)
{
	struct buf *m;
	int r;

	if ((r = transport_packet_begin(conn->t,
	         ok ? SSH2_MSG_REQUEST_SUCCESS : SSH2_MSG_REQUEST_FAILURE,
	         &m)) != 0)
		return r;
	if (ok && with_port && (r = buf_put_u32(m, (uint32_t)port)) != 0)
		return r;
	return transport_packet_send(conn->t);
}

/* Is the forward allowed by PermitListen and permitlisten=? */
static int
listen_permitted(struct conn *conn, const char *host, int port)
{
	const struct session_ctx *ctx = conn->ctx;

	return authopts_permitlisten_ok(ctx->opts, host, port) &&
	    authopts_permits_listen_ok(&ctx->fwd->permitlisten, host, port);
}

static int
greq_tcpip_forward(struct conn *conn, struct buf *m, int want_reply)
{
	struct session_ctx *ctx = conn->ctx;
	struct fwd_state *fs;
	struct fwd_listener *l = NULL;
	char *host = NULL;
	uint32_t port;
	int r, ok = 0, bound = 0;

	if ((r = buf_get_cstring(m, &host, NULL)) != 0 ||
	    (r = buf_get_u32(m, &port)) != 0 || (r = buf_end(m)) != 0)
		goto out;
	debug("server_input_global_request: tcpip-forward listen %s port %u",
	    host, port);
	/*
	 * A privileged port is the kernel's to refuse: the session runs as
	 * the user (as sshd 9.2, whose bind fails with its log lines).
	 */
	if (!fwd_allowed(conn, 0, FWD_REMOTE) || (!want_reply && port == 0)) {
		r = fwd_send_debug(
		    conn, "Server has disabled port forwarding.");
		goto reply;
	}
	/* No such port: refused as one PermitListen does not list (sshd
	 * 9.2 takes it modulo 65536 where nothing restricts it). */
	if (port > 65535 || strlen(host) >= FWD_HOST_MAX ||
	    !listen_permitted(conn, host, (int)port)) {
		if ((r = fwd_send_debug(conn, "port forwarding refused")) != 0)
			goto out;
		logit("Received request from %.100s port %d to remote forward "
		      "to host %.100s port %u, but the request was denied.",
		    ctx->client_addr, ctx->client_port, host, port);
		goto reply;
	}
	if ((fs = fwd_state_get(conn)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (fs->n >= FWD_LISTENERS_MAX) {
		error(
		    "tcpip-forward: too many forwards (%d)", FWD_LISTENERS_MAX);
		goto reply;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	l->host = host;
	host = NULL;
	l->req_port = (int)port;
	if (listen_tcp(conn, l) != 0)
		goto reply;
	bound = l->port;
	fs->l[fs->n++] = l;
	l = NULL;
	ok = 1;
reply:
	if (want_reply && r == 0)
		r = send_reply(conn, ok, port == 0, bound);
out:
	if (l != NULL)
		listener_free(l);
	free(host);
	return r;
}

static int
greq_streamlocal_forward(struct conn *conn, struct buf *m, int want_reply)
{
	struct fwd_state *fs;
	struct fwd_listener *l = NULL;
	char *path = NULL;
	int r, ok = 0;

	if ((r = buf_get_cstring(m, &path, NULL)) != 0 || (r = buf_end(m)) != 0)
		goto out;
	debug("server_input_global_request: streamlocal-forward listen path "
	      "%.255s",
	    path);
	if (!fwd_allowed(conn, 1, FWD_REMOTE)) {
		r = fwd_send_debug(
		    conn, "Server has disabled streamlocal forwarding.");
		goto reply;
	}
	/* As sshd: AllowTcpForwarding without "remote" refuses a socket's
	 * remote forward too (its remote forwards are then all denied). */
	if (!(conn->ctx->fwd->allow_tcp & FWD_REMOTE)) {
		if ((r = fwd_send_debug(conn, "port forwarding refused")) != 0)
			goto out;
		logit("Received request from %.100s port %d to remote forward "
		      "to path \"%.100s\", but the request was denied.",
		    conn->ctx->client_addr, conn->ctx->client_port, path);
		goto reply;
	}
	if ((fs = fwd_state_get(conn)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (fs->n >= FWD_LISTENERS_MAX) {
		error("streamlocal-forward: too many forwards (%d)",
		    FWD_LISTENERS_MAX);
		goto reply;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	l->unix_socket = 1;
	l->path = path;
	path = NULL;
	if (listen_unix(conn, l) != 0)
		goto reply;
	fs->l[fs->n++] = l;
	l = NULL;
	ok = 1;
reply:
	if (want_reply && r == 0)
		r = send_reply(conn, ok, 0, 0);
out:
	if (l != NULL) {
		free(l->path);
		l->path = NULL; /* not ours to unlink: bind failed */
		listener_free(l);
	}
	free(path);
	return r;
}

/* cancel-tcpip-forward (host, port) or cancel-streamlocal-forward (path). */
static int
greq_cancel(struct conn *conn, struct buf *m, int want_reply, int unix_socket)
{
	struct fwd_state *fs = conn->fwd;
	struct fwd_listener *l;
	char *host = NULL;
	uint32_t port = 0;
	size_t i;
	int r, ok = 0;

	if ((r = buf_get_cstring(m, &host, NULL)) != 0 ||
	    (!unix_socket && (r = buf_get_u32(m, &port)) != 0) ||
	    (r = buf_end(m)) != 0)
		goto out;
	if (unix_socket)
		debug("server_input_global_request: cancel-streamlocal-forward "
		      "path %s",
		    host);
	else
		debug("server_input_global_request: cancel-tcpip-forward addr "
		      "%s port %u",
		    host, port);
	for (i = 0; fs != NULL && i < fs->n; i++) {
		l = fs->l[i];
		if (l->unix_socket != unix_socket)
			continue;
		if (unix_socket ? strcmp(l->path, host) == 0
		                : (strcmp(l->host, host) == 0 &&
		                      (uint32_t)l->port == port)) {
			listener_remove(fs, i);
			ok = 1;
			break;
		}
	}
	if (want_reply)
		r = send_reply(conn, ok, 0, 0);
out:
	free(host);
	return r;
}

int
fwd_global_request(struct conn *conn, const char *name, struct buf *m,
    int want_reply, int *handled)
{
	*handled = 1;
	if (strcmp(name, "tcpip-forward") == 0)
		return greq_tcpip_forward(conn, m, want_reply);
	if (strcmp(name, "cancel-tcpip-forward") == 0)
		return greq_cancel(conn, m, want_reply, 0);
	if (strcmp(name, "streamlocal-forward@openssh.com") == 0)
		return greq_streamlocal_forward(conn, m, want_reply);
	if (strcmp(name, "cancel-streamlocal-forward@openssh.com") == 0)
		return greq_cancel(conn, m, want_reply, 1);
	*handled = 0;
	return 0;
}

int
fwd_poll_prepare(struct conn *conn)
{
	struct fwd_state *fs = conn->fwd;
	struct fwd_listener *l;
	size_t i;
	int j, pi;

	if (channel_tcp_wake_fd() >= 0) {
		if ((pi = conn_pfd_add(conn, channel_tcp_wake_fd(), POLLIN)) <
		    0)
			return pi;
		if (fwd_state_get(conn) != NULL)
			conn->fwd->wake_pi = pi;
		fs = conn->fwd;
	}
	for (i = 0; fs != NULL && i < fs->n; i++) {
		l = fs->l[i];
		for (j = 0; j < l->nfds; j++) {
			/* No new connections while the channel table is full. */
			l->pis[j] = -1;
			if (conn->nopen >= CHAN_MAX || conn_accept_paused(conn))
				continue;
			if ((pi = conn_pfd_add(conn, l->fds[j], POLLIN)) < 0)
				return pi;
			l->pis[j] = pi;
		}
	}
	return channel_tcp_poll_prepare(conn);
}

static int
fwd_accept(struct conn *conn, struct fwd_listener *l, int fd)
{
	int n, s, r;

	for (n = 0; n < FWD_ACCEPT_BURST && conn->nopen < CHAN_MAX; n++) {
		if ((s = accept4(
		         fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			conn_accept_failed(conn, errno);
			return 0;
		}
		if ((r = channel_tcp_open_forwarded(conn, s, l->host, l->port,
		         l->unix_socket ? l->path : NULL)) != 0)
			return r;
	}
	return 0;
}

int
fwd_poll_handle(struct conn *conn)
{
	struct fwd_state *fs = conn->fwd;
	struct fwd_listener *l;
	char drain[64];
	size_t i;
	int j, pi, r;

	if (fs != NULL && (pi = fs->wake_pi) >= 0 && (size_t)pi < conn->npfds &&
	    conn->pfds[pi].revents != 0)
		while (read(channel_tcp_wake_fd(), drain, sizeof(drain)) > 0)
			;
	for (i = 0; fs != NULL && i < fs->n; i++) {
		l = fs->l[i];
		for (j = 0; j < l->nfds; j++) {
			pi = l->pis[j];
			if (pi < 0 || (size_t)pi >= conn->npfds ||
			    conn->pfds[pi].fd != l->fds[j] ||
			    conn->pfds[pi].revents == 0)
				continue;
			if ((r = fwd_accept(conn, l, l->fds[j])) != 0)
				return r;
		}
	}
	return channel_tcp_poll_handle(conn);
}
