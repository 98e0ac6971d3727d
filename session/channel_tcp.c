/*
 * channel_tcp.c: the channels of TCP and Unix-socket forwarding:
 * direct-tcpip and direct-streamlocal@openssh.com (ssh -L, -D, -W, -J),
 * which the session connects out for as the user, and forwarded-tcpip
 * and forwarded-streamlocal@openssh.com (ssh -R), which carry the
 * connections forward.c accepts. Data moves through channel.c's generic
 * path on the connected socket.
 *
 * A direct-* open is answered only once its connection is made: host
 * names are resolved with getaddrinfo_a() (glibc runs the lookup in a
 * thread of its own and wakes us through a pipe), each address is tried
 * with a non-blocking connect(), and OPEN_CONFIRMATION or OPEN_FAILURE
 * (connect failed: the error) goes out from the event loop. Numeric
 * addresses skip the resolver.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
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

#define TCP_HOST_MAX 1025 /* NI_MAXHOST */
/* The port a path is matched with in permit lists (never a real port). */
#define PORT_STREAMLOCAL (-2)

enum tcp_state {
	TCP_RESOLVING,  /* getaddrinfo_a() running */
	TCP_CONNECTING, /* sock connecting (or connected, poll says) */
	TCP_FAILED,     /* send OPEN_FAILURE from the loop */
	TCP_OPEN,       /* confirmed; channel.c moves the data */
};

/*
 * One asynchronous lookup. glibc owns it until gai_error() stops saying
 * EAI_INPROGRESS, so a lookup whose channel went away is kept (orphan)
 * until then.
 */
struct tcp_lookup {
	struct gaicb cb;
	struct addrinfo hints;
	char host[TCP_HOST_MAX];
	char port[8];
	struct tcp_lookup *next; /* on the orphan list */
};

struct tcp_chan {
	enum tcp_state state;
	int unix_socket; /* direct-streamlocal */
	char *host;      /* target host or socket path */
	int port;
	int sock; /* connecting socket or -1 */
	int pi;   /* its poll index or -1 */
	struct addrinfo *ai, *ai_next;
	struct tcp_lookup *lookup;
	int err;              /* last connect errno */
	const char *fail_msg; /* OPEN_FAILURE description (static) */
};

/* Wakes poll() when a lookup ends or an open must be answered. */
static int wake_pipe[2] = {-1, -1};
static struct tcp_lookup *orphans;

static int
wake_init(void)
{
	if (wake_pipe[0] >= 0)
		return 0;
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		error_f("pipe: %s", strerror(errno));
		return ERR_SYSTEM;
	}
	return 0;
}

static void
wake(void)
{
	int save_errno = errno;

	if (wake_pipe[1] >= 0)
		(void)!write(wake_pipe[1], "", 1);
	errno = save_errno;
}

/* Runs in glibc's notification thread: only a write to the pipe. */
static void
lookup_done_notify(union sigval sv)
{
	wake();
}

int
channel_tcp_wake_fd(void)
{
	return wake_pipe[0];
}

static struct tcp_chan *
tcp(struct channel *c)
{
	return c->priv;
}

static int
is_direct(const struct channel *c)
{
	return c->type == &channel_type_direct_tcpip ||
	    c->type == &channel_type_direct_streamlocal;
}

static void
lookup_release(struct tcp_lookup *l)
{
	if (l->cb.ar_result != NULL)
		freeaddrinfo(l->cb.ar_result);
	free(l);
}

/* Free orphaned lookups that glibc has finished with. */
static void
orphans_reap(void)
{
	struct tcp_lookup **lp = &orphans, *l;

	while ((l = *lp) != NULL) {
		if (gai_error(&l->cb) == EAI_INPROGRESS) {
			lp = &l->next;
			continue;
		}
		*lp = l->next;
		lookup_release(l);
	}
}

static void
tcp_chan_free(struct conn *conn, struct channel *c)
{
	struct tcp_chan *t = tcp(c);

	if (t == NULL)
		return;
	if (t->lookup != NULL) {
		if (gai_cancel(&t->lookup->cb) == EAI_CANCELED ||
		    gai_error(&t->lookup->cb) != EAI_INPROGRESS)
			lookup_release(t->lookup);
		else {
			t->lookup->next = orphans;
			orphans = t->lookup;
		}
	}
	if (t->sock >= 0)
		close(t->sock);
	if (t->ai != NULL)
		freeaddrinfo(t->ai);
	free(t->host);
	free(t);
	c->priv = NULL;
}

static void
tcp_fail(struct tcp_chan *t, const char *msg)
{
	t->state = TCP_FAILED;
	t->fail_msg = msg;
	wake();
}

/*
 * Try the addresses left until one connects or is in progress; when none
 * is left the open fails with the last error.
 */
static void
tcp_connect_next(struct channel *c)
{
	struct tcp_chan *t = tcp(c);
	struct addrinfo *ai;
	char addr[NI_MAXHOST], port[NI_MAXSERV];
	int s;

	while ((ai = t->ai_next) != NULL) {
		t->ai_next = ai->ai_next;
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr),
		        port, sizeof(port),
		        NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			snprintf(addr, sizeof(addr), "?");
		debug("connect_next: start for host %.100s ([%.100s]:%s)",
		    t->host, addr, port);
		s = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (s == -1) {
			t->err = errno;
			debug("connect_next: socket: %s", strerror(errno));
			continue;
		}
		if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			/* Writable once connected or failed: poll says. */
			t->sock = s;
			t->state = TCP_CONNECTING;
			return;
		}
		t->err = errno;
		debug("connect_next: host %.100s ([%.100s]:%s): %s", t->host,
		    addr, port, strerror(errno));
		close(s);
	}
	error("connect_to %.100s port %d: failed.", t->host, t->port);
	tcp_fail(t, strerror(t->err != 0 ? t->err : ECONNREFUSED));
}

/* The lookup (numeric or asynchronous) gave res: connect to it. */
static void
tcp_resolved(struct channel *c, struct addrinfo *res)
{
	struct tcp_chan *t = tcp(c);

	t->ai = t->ai_next = res;
	tcp_connect_next(c);
}

static int
tcp_lookup_start(struct channel *c, int family)
{
	struct tcp_chan *t = tcp(c);
	struct tcp_lookup *l;
	struct gaicb *list[1];
	struct sigevent sev;
	struct addrinfo hints, *res = NULL;
	char port[8];
	int gai;

	snprintf(port, sizeof(port), "%d", t->port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family; /* AddressFamily */
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((gai = getaddrinfo(t->host, port, &hints, &res)) == 0) {
		tcp_resolved(c, res);
		return 0;
	}
	if (gai != EAI_NONAME) {
		error("connect_to %.100s: unknown host (%s)", t->host,
		    gai_strerror(gai));
		tcp_fail(t, gai_strerror(gai));
		return 0;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ERR_ALLOC;
	snprintf(l->host, sizeof(l->host), "%s", t->host);
	snprintf(l->port, sizeof(l->port), "%s", port);
	l->hints.ai_family = family;
	l->hints.ai_socktype = SOCK_STREAM;
	l->hints.ai_flags = AI_NUMERICSERV;
	l->cb.ar_name = l->host;
	l->cb.ar_service = l->port;
	l->cb.ar_request = &l->hints;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = lookup_done_notify;
	list[0] = &l->cb;
	if ((gai = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev)) != 0) {
		error("connect_to %.100s: unknown host (%s)", t->host,
		    gai_strerror(gai));
		free(l);
		tcp_fail(t, gai_strerror(gai));
		return 0;
	}
	debug2("connect_to %.100s: resolving", t->host);
	t->lookup = l;
	t->state = TCP_RESOLVING;
	return 0;
}

/* A lookup that ended: connect, or fail as OpenSSH does. */
static void
tcp_lookup_check(struct channel *c)
{
	struct tcp_chan *t = tcp(c);
	struct tcp_lookup *l = t->lookup;
	struct addrinfo *res;
	int gai;

	if ((gai = gai_error(&l->cb)) == EAI_INPROGRESS)
		return;
	res = l->cb.ar_result;
	l->cb.ar_result = NULL;
	lookup_release(l);
	t->lookup = NULL;
	if (gai != 0 || res == NULL) {
		if (res != NULL)
			freeaddrinfo(res);
		error("connect_to %.100s: unknown host (%s)", t->host,
		    gai_strerror(gai != 0 ? gai : EAI_NONAME));
		tcp_fail(t, gai_strerror(gai != 0 ? gai : EAI_NONAME));
		return;
	}
	tcp_resolved(c, res);
}

/* The connecting socket is ready: connected, or on to the next address. */
static int
tcp_connect_check(struct conn *conn, struct channel *c)
{
	struct tcp_chan *t = tcp(c);
	socklen_t len = sizeof(int);
	int err = 0, r;

	if (getsockopt(t->sock, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		debug(
		    "channel %u: connection failed: %s", c->id, strerror(err));
		close(t->sock);
		t->sock = -1;
		t->err = err;
		if (t->unix_socket) {
			tcp_fail(t, strerror(err));
			return 0;
		}
		tcp_connect_next(c);
		return 0;
	}
	if (t->unix_socket)
		debug("channel %u: connected to %s", c->id, t->host);
	else
		debug("channel %u: connected to %s port %d", c->id, t->host,
		    t->port);
	r = channel_attach_socket(c, t->sock);
	t->sock = -1;
	if (r != 0) {
		tcp_fail(t, "resource shortage");
		return 0;
	}
	t->state = TCP_OPEN;
	if (t->ai != NULL) {
		freeaddrinfo(t->ai);
		t->ai = t->ai_next = NULL;
	}
	return channel_open_confirm(conn, c);
}

int
channel_tcp_poll_prepare(struct conn *conn)
{
	struct channel *c;
	uint32_t id;
	int pi;

	for (id = 0; id < conn->nslots; id++) {
		if ((c = conn->chans[id]) == NULL || !is_direct(c) ||
		    c->priv == NULL)
			continue;
		tcp(c)->pi = -1;
		if (tcp(c)->state != TCP_CONNECTING)
			continue;
		if ((pi = conn_pfd_add(conn, tcp(c)->sock, POLLOUT)) < 0)
			return pi;
		tcp(c)->pi = pi;
	}
	return 0;
}

int
channel_tcp_poll_handle(struct conn *conn)
{
	struct channel *c;
	struct tcp_chan *t;
	uint32_t id;
	int r;

	if (orphans != NULL)
		orphans_reap();
	for (id = 0; id < conn->nslots; id++) {
		if ((c = conn->chans[id]) == NULL || !is_direct(c) ||
		    (t = tcp(c)) == NULL)
			continue;
		if (t->state == TCP_RESOLVING)
			tcp_lookup_check(c);
		else if (t->state == TCP_CONNECTING && t->pi >= 0 &&
		    (size_t)t->pi < conn->npfds &&
		    conn->pfds[t->pi].fd == t->sock &&
		    conn->pfds[t->pi].revents != 0) {
			t->pi = -1;
			if ((r = tcp_connect_check(conn, c)) != 0)
				return r;
		}
		if (t->state == TCP_FAILED &&
		    (r = channel_open_fail(
		         conn, c, SSH2_OPEN_CONNECT_FAILED, t->fail_msg)) != 0)
			return r;
	}
	return 0;
}

/* Channel types. */

/* host: the channel's on success, still the caller's on failure. */
static int
tcp_chan_new(struct channel *c, int unix_socket, char *host, int port)
{
	struct tcp_chan *t;

	/* Out of descriptors for the wake pipe: this open fails, no more. */
	if (wake_init() != 0)
		return ERR_LIMIT;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ERR_ALLOC;
	t->unix_socket = unix_socket;
	t->host = host;
	t->port = port;
	t->sock = -1;
	t->pi = -1;
	c->priv = t;
	return 0;
}

/* RFC 4254 s7.2: host, port, originator address, originator port. */
static int
direct_tcpip_open(
    struct conn *conn, struct channel *c, struct buf *m, uint32_t *reason)
{
	struct session_ctx *ctx = conn->ctx;
	char *host = NULL, *orig = NULL;
	uint32_t port, oport;
	int r;

	*reason = SSH2_OPEN_ADMINISTRATIVELY_PROHIBITED;
	if ((r = buf_get_cstring(m, &host, NULL)) != 0 ||
	    (r = buf_get_u32(m, &port)) != 0 ||
	    (r = buf_get_cstring(m, &orig, NULL)) != 0 ||
	    (r = buf_get_u32(m, &oport)) != 0 || (r = buf_end(m)) != 0)
		goto out;
	debug("server_request_direct_tcpip: originator %s port %u, target %s "
	      "port %u",
	    orig, oport, host, port);
	/* sshd's words: its function's name, not ours. */
	if (port > 65535) {
		error("server_request_direct_tcpip: invalid target port");
		goto out;
	}
	if (oport > 65535) {
		error("server_request_direct_tcpip: invalid originator port");
		goto out;
	}
	if (!fwd_allowed(conn, 0, FWD_LOCAL)) {
		logit("refused local port forward: originator %s port %u, "
		      "target %s port %u",
		    orig, oport, host, port);
		goto out;
	}
	if (strlen(host) >= TCP_HOST_MAX ||
	    !authopts_permitopen_ok(ctx->opts, host, (int)port) ||
	    !authopts_permits_open_ok(&ctx->fwd->permitopen, host, (int)port)) {
		logit("Received request from %.100s port %d to connect to "
		      "host %.100s port %u, but the request was denied.",
		    ctx->client_addr, ctx->client_port, host, port);
		goto out;
	}
	if ((r = tcp_chan_new(c, 0, host, (int)port)) != 0) {
		if (r == ERR_LIMIT) {
			*reason = SSH2_OPEN_RESOURCE_SHORTAGE;
			r = 0;
		}
		goto out;
	}
	host = NULL;
	if ((r = tcp_lookup_start(c, fwd_address_family(conn))) != 0) {
		tcp_chan_free(conn, c);
		goto out;
	}
	*reason = CHAN_OPEN_LATER;
out:
	free(host);
	free(orig);
	return r;
}

/* PROTOCOL 2.4: socket path, reserved string, reserved uint32. */
static int
direct_streamlocal_open(
    struct conn *conn, struct channel *c, struct buf *m, uint32_t *reason)
{
	struct session_ctx *ctx = conn->ctx;
	struct sockaddr_un sun;
	char *path = NULL, *orig = NULL;
	size_t len;
	uint32_t oport;
	int r, s;

	/* As sshd: every refusal is "connect failed", "open failed". */
	*reason = SSH2_OPEN_CONNECT_FAILED;
	if ((r = buf_get_cstring(m, &path, &len)) != 0 ||
	    (r = buf_get_cstring(m, &orig, NULL)) != 0 ||
	    (r = buf_get_u32(m, &oport)) != 0 || (r = buf_end(m)) != 0)
		goto out;
	/* sshd names the reserved fields as the originator. */
	debug("server_request_direct_streamlocal: originator %s port %d, "
	      "target %.255s",
	    orig, (int)oport, path);
	if (!fwd_allowed(conn, 1, FWD_LOCAL)) {
		logit("refused streamlocal port forward: originator %s port "
		      "%d, target %.255s",
		    orig, (int)oport, path);
		goto out;
	}
	/*
	 * As OpenSSH (open_match with PORT_STREAMLOCAL): a PermitOpen or
	 * permitopen= list admits a path only by an entry of any port whose
	 * host is "*" or the path itself; AllowTcpForwarding without "local"
	 * admits none (sshd then denies every local forward, a socket's too).
	 */
	if (!authopts_permitopen_ok(ctx->opts, path, PORT_STREAMLOCAL) ||
	    !authopts_permits_open_ok(
	        &ctx->fwd->permitopen, path, PORT_STREAMLOCAL) ||
	    !(ctx->fwd->allow_tcp & FWD_LOCAL)) {
		logit("Received request to connect to path %.100s, but the "
		      "request was denied.",
		    path);
		goto out;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (len >= sizeof(sun.sun_path)) {
		/* sshd's words (connect_to_helper); sshd connects to a
		 * path of exactly sizeof(sun_path) cut short by one. */
		error("%.100s: %.100s", path, strerror(ENAMETOOLONG));
		*reason = SSH2_OPEN_CONNECT_FAILED;
		goto out;
	}
	memcpy(sun.sun_path, path, len + 1);
	if ((r = tcp_chan_new(c, 1, path, 0)) != 0) {
		if (r == ERR_LIMIT) {
			*reason = SSH2_OPEN_RESOURCE_SHORTAGE;
			r = 0;
		}
		goto out;
	}
	path = NULL;
	*reason = CHAN_OPEN_LATER;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s == -1 ||
	    (connect(s, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	        errno != EINPROGRESS)) {
		tcp(c)->err = errno;
		error("connect to %.100s port -2 failed: %s", sun.sun_path,
		    strerror(errno));
		if (s != -1)
			close(s);
		tcp_fail(tcp(c), "open failed");
		goto out;
	}
	tcp(c)->sock = s;
	tcp(c)->state = TCP_CONNECTING;
out:
	free(path);
	free(orig);
	return r;
}

const struct channel_type channel_type_direct_tcpip = {
    .name = "direct-tcpip",
    .open = direct_tcpip_open,
    .close_ready = channel_sock_close_ready,
    .free = tcp_chan_free,
};

const struct channel_type channel_type_direct_streamlocal = {
    .name = "direct-streamlocal@openssh.com",
    .open = direct_streamlocal_open,
    .close_ready = channel_sock_close_ready,
    .free = tcp_chan_free,
};

/* Ours: the client never opens these. */
static const struct channel_type channel_type_forwarded_tcpip = {
    .name = "forwarded-tcpip",
    .close_ready = channel_sock_close_ready,
};

static const struct channel_type channel_type_forwarded_streamlocal = {
    .name = "forwarded-streamlocal@openssh.com",
    .close_ready = channel_sock_close_ready,
};

int
channel_tcp_open_forwarded(
    struct conn *conn, int fd, const char *host, int port, const char *path)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct channel *c;
	struct buf *m;
	char addr[NI_MAXHOST] = "", sport[NI_MAXSERV] = "0";
	int r;

	if ((r = channel_open_socket(conn,
	         path == NULL ? &channel_type_forwarded_tcpip
	                      : &channel_type_forwarded_streamlocal,
	         fd, &c, &m)) != 0)
		return r == ERR_LIMIT ? 0 : r; /* only this one is dropped */
	if (path != NULL) {
		if ((r = buf_put_cstring(m, path)) != 0 ||
		    (r = buf_put_cstring(m, "")) != 0)
			return r;
		return transport_packet_send(conn->t);
	}
	if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sslen, addr, sizeof(addr),
	        sport, sizeof(sport), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(addr, sizeof(addr), "UNKNOWN");
	debug("Connection to port %d forwarding to %.100s port %d requested.",
	    port, addr, atoi(sport));
	if ((r = buf_put_cstring(m, host)) != 0 ||
	    (r = buf_put_u32(m, (uint32_t)port)) != 0 ||
	    (r = buf_put_cstring(m, addr)) != 0 ||
	    (r = buf_put_u32(m, (uint32_t)atoi(sport))) != 0)
		return r;
	return transport_packet_send(conn->t);
}
