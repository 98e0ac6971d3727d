/*
 * x11.c: X11 forwarding (RFC 4254 s6.3): an x11-req makes the session a
 * display, localhost:N.S with N from X11DisplayOffset, listening on TCP
 * port 6000+N (loopback only with X11UseLocalhost); xauth(1) learns the
 * client's protocol and cookie (the client's own fake cookie, which it
 * swaps for the real one); each connection to the display becomes an
 * "x11" channel to the client. A single-connection request stops
 * listening after the first.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <ctype.h>
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
#include "forward.h"
#include "log.h"
#include "transport.h"
#include "session.h"
#include "channel.h"
#include "session_login.h"

#define X11_BASE_PORT 6000
#define X11_MAX_DISPLAYS 1000 /* display numbers tried above the offset */
#define X11_MAX_LISTEN 4      /* addresses per display (IPv4, IPv6) */
#define X11_STR_MAX 512       /* auth protocol and cookie */

struct x11_fwd {
	struct x11_fwd *next;
	int lfd[X11_MAX_LISTEN];
	int pi[X11_MAX_LISTEN];
	int nlisten;
	int single; /* single connection: stop listening after one */
	int display;
	uint32_t screen;
	char *proto;
	char *cookie;
	char env[300];    /* DISPLAY */
	char xauth[1100]; /* the display's name for xauth */
};

static const struct channel_type channel_type_x11 = {
    .name = "x11",
    .timeout_name = "x11-connection",
    .close_ready = channel_sock_close_ready,
};

/* What xauth may be given (sshd's rule): no blanks, no newlines. */
static int
xauth_valid(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != ':' &&
		    *s != '/' && *s != '-' && *s != '_')
			return 0;
	}
	return 1;
}

static void
x11_close_listeners(struct x11_fwd *x)
{
	int i;

	for (i = 0; i < x->nlisten; i++) {
		close(x->lfd[i]);
		x->lfd[i] = x->pi[i] = -1;
	}
	x->nlisten = 0;
}

static void
x11_destroy(struct x11_fwd *x)
{
	x11_close_listeners(x);
	if (x->cookie != NULL)
		explicit_bzero(x->cookie, strlen(x->cookie));
	free(x->proto);
	free(x->cookie);
	free(x);
}

/*
 * Bind every address of the display's port: 1 done, 0 the port is taken
 * (try the next display), -1 failure.
 */
static int
x11_bind_display(struct x11_fwd *x, int display, int loopback, int family)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int fd, on = 1, gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family; /* AddressFamily */
	hints.ai_socktype = SOCK_STREAM;
	/* No host: the wildcard with AI_PASSIVE, else the loopback. */
	hints.ai_flags = AI_NUMERICSERV | (loopback ? 0 : AI_PASSIVE);
	snprintf(port, sizeof(port), "%d", X11_BASE_PORT + display);
	if ((gai = getaddrinfo(NULL, port, &hints, &res)) != 0) {
		error("X11 forwarding: getaddrinfo: %s", gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL && x->nlisten < X11_MAX_LISTEN;
	     ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (fd == -1) {
			if (errno == EAFNOSUPPORT)
				continue; /* no IPv6 here */
			/* Not half of the display: another user could take
			 * the other family's port (CVE-2008-1483). */
			error("X11 forwarding: socket: %s", strerror(errno));
			x11_close_listeners(x);
			freeaddrinfo(res);
			return -1;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(
			    fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			int e = errno;

			close(fd);
			if (e == EADDRNOTAVAIL && ai->ai_family == AF_INET6)
				continue; /* IPv6 without ::1 */
			x11_close_listeners(x);
			freeaddrinfo(res);
			return e == EADDRINUSE ? 0 : -1;
		}
		if (listen(fd, SOMAXCONN) == -1) {
			close(fd);
			x11_close_listeners(x);
			freeaddrinfo(res);
			return -1;
		}
		x->lfd[x->nlisten] = fd;
		x->pi[x->nlisten++] = -1;
	}
	freeaddrinfo(res);
	if (x->nlisten == 0)
		return -1;
	return 1;
}

/* The first free display at or above X11DisplayOffset. */
static int
x11_create_display(struct x11_fwd *x, const struct session_axl *f)
{
	char host[256];
	int d, r;

	for (d = f->x11_display_offset;
	     d < f->x11_display_offset + X11_MAX_DISPLAYS &&
	     X11_BASE_PORT + d <= 65535;
	     d++) {
		if ((r = x11_bind_display(
		         x, d, f->x11_use_localhost, f->address_family)) < 0)
			return -1;
		if (r == 1)
			break;
	}
	if (x->nlisten == 0) {
		error("Failed to allocate internet-domain X11 display socket.");
		return -1;
	}
	x->display = d;
	if (f->x11_use_localhost) {
		snprintf(
		    x->env, sizeof(x->env), "localhost:%d.%u", d, x->screen);
		snprintf(
		    x->xauth, sizeof(x->xauth), "unix:%d.%u", d, x->screen);
	} else {
		if (gethostname(host, sizeof(host)) == -1)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(
		    x->env, sizeof(x->env), "%s:%d.%u", host, d, x->screen);
		/* xauth resolves the name, as the X client will. */
		snprintf(x->xauth, sizeof(x->xauth), "%s", x->env);
	}
	return 0;
}

int
x11_request(struct conn *conn, struct buf *m, struct x11_fwd **xp, int *ok)
{
	struct session_ctx *ctx = conn->ctx;
	const struct session_axl *f = ctx->axl;
	struct x11_fwd *x = NULL;
	struct stat st;
	size_t plen, clen;
	int r;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return ERR_ALLOC;
	if ((r = buf_get_bool(m, &x->single)) != 0 ||
	    (r = buf_get_cstring(m, &x->proto, &plen)) != 0 ||
	    (r = buf_get_cstring(m, &x->cookie, &clen)) != 0 ||
	    (r = buf_get_u32(m, &x->screen)) != 0 || (r = buf_end(m)) != 0)
		goto out;
	if (*xp != NULL) {
		error("x11-req: X11 forwarding already active");
		goto out;
	}
	if (plen > X11_STR_MAX || clen > X11_STR_MAX ||
	    !xauth_valid(x->proto) || !xauth_valid(x->cookie) ||
	    x->screen > 1000) {
		error("Invalid X11 forwarding data");
		goto out;
	}
	/* As sshd, the client hears why (ssh -v: "Remote: ..."). */
	if (ctx->opts == NULL || !ctx->opts->permit_x11_forwarding) {
		debug("X11 forwarding disabled by key options.");
		r = fwd_send_debug(
		    conn, "X11 forwarding disabled by key options.");
		goto out;
	}
	if (f == NULL || !f->x11_forwarding || f->disable_forwarding) {
		debug("X11 forwarding disabled in server configuration file.");
		goto out;
	}
	if (f->xauth_location == NULL || f->xauth_location[0] == '\0' ||
	    stat(f->xauth_location, &st) == -1) {
		/* sshd tells only the client: no line for each ssh -X on a
		 * host without xauth. */
		debug("No xauth program; cannot forward X11.");
		r = fwd_send_debug(
		    conn, "No xauth program; cannot forward X11.");
		goto out;
	}
	if (x11_create_display(x, f) != 0)
		goto out;
	debug("X11 forwarding: display %s%s", x->env,
	    x->single ? ", single connection" : "");
	x->next = conn->x11s;
	conn->x11s = x;
	*xp = x;
	x = NULL;
	*ok = 1;
out:
	if (x != NULL)
		x11_destroy(x);
	return r;
}

void
x11_child(const struct x11_fwd *x, struct session_child *ch)
{
	if (x == NULL)
		return;
	ch->display = x->env;
	ch->x11_auth_display = x->xauth;
	ch->x11_proto = x->proto;
	ch->x11_cookie = x->cookie;
}

void
x11_free(struct conn *conn, struct x11_fwd *x)
{
	struct x11_fwd **pp;

	if (x == NULL)
		return;
	for (pp = &conn->x11s; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	}
	x11_destroy(x);
}

void
x11_cleanup_all(struct conn *conn)
{
	struct x11_fwd *x;

	while ((x = conn->x11s) != NULL) {
		conn->x11s = x->next;
		x11_destroy(x);
	}
}

int
x11_poll_prepare(struct conn *conn)
{
	struct x11_fwd *x;
	int i;

	for (x = conn->x11s; x != NULL; x = x->next) {
		for (i = 0; i < x->nlisten; i++) {
			x->pi[i] = -1;
			if (conn_accept_paused(conn))
				continue;
			if ((x->pi[i] = conn_pfd_add(conn, x->lfd[i], POLLIN)) <
			    0)
				return x->pi[i];
		}
	}
	return 0;
}

/* A client connected to the display: an "x11" channel (s6.3.2). */
static int
x11_accept(struct conn *conn, struct x11_fwd *x, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char addr[NI_MAXHOST], port[NI_MAXSERV];
	struct channel *c;
	struct buf *m;
	int fd, r;

	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC)) ==
	    -1) {
		conn_accept_failed(conn, errno);
		return 0;
	}
	if (getnameinfo((struct sockaddr *)&ss, sslen, addr, sizeof(addr), port,
	        sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(addr, sizeof(addr), "127.0.0.1");
		snprintf(port, sizeof(port), "0");
	}
	debug("X11 connection from %s port %s", addr, port);
	if (x->single) {
		debug("X11 forwarding: single connection, closing display");
		x11_close_listeners(x);
	}
	if ((r = channel_open_socket(conn, &channel_type_x11, fd, &c, &m)) != 0)
		return r == ERR_LIMIT ? 0 : r; /* only this one is dropped */
	if ((r = buf_put_cstring(m, addr)) != 0 ||
	    (r = buf_put_u32(m, (uint32_t)atoi(port))) != 0)
		return r;
	return transport_packet_send(conn->t);
}

int
x11_poll_handle(struct conn *conn)
{
	struct x11_fwd *x;
	int i, fd, r;

	for (x = conn->x11s; x != NULL; x = x->next) {
		for (i = 0; i < x->nlisten; i++) {
			fd = x->lfd[i];
			if (x->pi[i] < 0 || (size_t)x->pi[i] >= conn->npfds ||
			    conn->pfds[x->pi[i]].fd != fd ||
			    conn->pfds[x->pi[i]].revents == 0)
				continue;
			if ((r = x11_accept(conn, x, fd)) != 0)
				return r;
		}
	}
	return 0;
}
