/*
 * session_run.c: postern-session's event loop: one poll() over the
 * transport, a SIGCHLD self-pipe and every channel's fds; global requests
 * and the dispatch of connection-protocol messages (RFC 4254).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "kexaudit.h"
#include "ipc.h"
#include "log.h"
#include "transport.h"
#include "session.h"
#include "channel.h"
#include "forward.h"
#include "session_int_hostkeys.h"
#include "session_login.h"

/* How long the last output may take to drain when we return. */
#define CONN_FLUSH_MS 5000

/* Written by the SIGCHLD handler, read by the loop. */
static int sigchld_pipe[2] = {-1, -1};

/* SIGTERM, SIGHUP or SIGINT (the monitor passes them on, as sshd's): end
 * the connection, cleaning up (agent socket...). */
static volatile sig_atomic_t got_term;

static void
sigterm_handler(int sig)
{
	int save_errno = errno;

	got_term = sig;
	(void)!write(sigchld_pipe[1], "", 1);
	errno = save_errno;
}

static void
sigchld_handler(int sig)
{
	int save_errno = errno;

	(void)!write(sigchld_pipe[1], "", 1);
	errno = save_errno;
}

int
conn_pfd_add(struct conn *conn, int fd, short events)
{
	struct pollfd *n;
	size_t cap;

	if (conn->npfds == conn->pfds_cap) {
		cap = conn->pfds_cap == 0 ? 16 : conn->pfds_cap * 2;
		if ((n = reallocarray(conn->pfds, cap, sizeof(*n))) == NULL)
			return ERR_ALLOC;
		conn->pfds = n;
		conn->pfds_cap = cap;
	}
	conn->pfds[conn->npfds].fd = fd;
	conn->pfds[conn->npfds].events = events;
	conn->pfds[conn->npfds].revents = 0;
	return (int)conn->npfds++;
}

int
conn_is_decode_error(int r)
{
	return r == ERR_SHORT || r == ERR_TRAILING || r == ERR_FORMAT ||
	    r == ERR_STRING_NUL || r == ERR_TOO_BIG;
}

int
conn_protocol_error(struct conn *conn, const char *fmt, ...)
{
	struct session_ctx *ctx = conn->ctx;
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	logit("Disconnecting user %s %s port %d: %s", ctx->user,
	    ctx->client_addr, ctx->client_port, msg);
	if (!conn->disconnected) {
		conn->disconnected = 1;
		transport_disconnect(
		    conn->t, SSH2_DISCONNECT_PROTOCOL_ERROR, "%s", msg);
	}
	return ERR_PROTOCOL;
}

/* Global requests (RFC 4254 s4). */

typedef int (*global_req_fn)(struct conn *conn, struct buf *m, int *ok);

static int
greq_no_more_sessions(struct conn *conn, struct buf *m, int *ok)
{
	int r;

	if ((r = buf_end(m)) != 0)
		return r;
	debug("no-more-sessions@openssh.com: further sessions refused");
	conn->no_more_sessions = 1;
	*ok = 1;
	return 0;
}

static const struct {
	const char *name;
	global_req_fn fn;
} global_reqs[] = {
    {"no-more-sessions@openssh.com", greq_no_more_sessions},
    {NULL, NULL},
};

static int
conn_hostkeys_prove(struct conn *conn, struct buf *m, int want_reply)
{
	struct buf *reply, *sigs;
	int r, ok = 0;

	if ((sigs = buf_new(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	if ((r = session_hostkeys_prove(conn->ctx, m, &ok, sigs)) != 0 ||
	    !want_reply)
		goto out;
	if ((r = transport_packet_begin(conn->t,
	         ok ? SSH2_MSG_REQUEST_SUCCESS : SSH2_MSG_REQUEST_FAILURE,
	         &reply)) != 0 ||
	    (r = buf_put(reply, buf_ptr(sigs), buf_len(sigs))) != 0 ||
	    (r = transport_packet_send(conn->t)) != 0)
		goto out;
out:
	buf_free(sigs);
	return r;
}

static int
conn_input_global_request(struct conn *conn, struct buf *m)
{
	struct buf *reply;
	char *name = NULL;
	size_t i;
	int r, want_reply, ok = 0, handled;

	if ((r = buf_get_cstring(m, &name, NULL)) != 0 ||
	    (r = buf_get_bool(m, &want_reply)) != 0)
		goto out;
	debug("server_input_global_request: rtype %.127s want_reply %d", name,
	    want_reply);
	/* The one request answered with data: signatures from the monitor. */
	if (strcmp(name, HOSTKEYS_PROVE_REQ) == 0) {
		r = conn_hostkeys_prove(conn, m, want_reply);
		goto out;
	}
	for (i = 0; global_reqs[i].name != NULL; i++) {
		if (strcmp(global_reqs[i].name, name) == 0)
			break;
	}
	/* Forwarding requests reply themselves (tcpip-forward's port). */
	if ((r = fwd_global_request(conn, name, m, want_reply, &handled)) !=
	        0 ||
	    handled)
		goto out;
	/* Unknown requests are refused without looking at their fields. */
	if (global_reqs[i].name != NULL &&
	    (r = global_reqs[i].fn(conn, m, &ok)) != 0)
		goto out;
	if (want_reply) {
		if ((r = transport_packet_begin(conn->t,
		         ok ? SSH2_MSG_REQUEST_SUCCESS
		            : SSH2_MSG_REQUEST_FAILURE,
		         &reply)) != 0 ||
		    (r = transport_packet_send(conn->t)) != 0)
			goto out;
	}
out:
	free(name);
	return r;
}

/* ping@openssh.com, in case the transport passes it up. */
static int
conn_input_ping(struct conn *conn, struct buf *m)
{
	const uint8_t *data;
	struct buf *reply;
	size_t len;
	int r;

	if ((r = buf_get_string_direct(m, &data, &len)) != 0 ||
	    (r = buf_end(m)) != 0)
		return r;
	/* As OpenSSH 9.9p2: a PONG would wait for the exchange's end. */
	if (transport_kex_busy(conn->t)) {
		debug("ignoring PING during key exchange");
		return 0;
	}
	if ((r = transport_packet_begin(conn->t, SSH2_MSG_PONG, &reply)) != 0 ||
	    (r = buf_put_string(reply, data, len)) != 0)
		return r;
	return transport_packet_send(conn->t);
}

int
conn_dispatch(struct conn *conn, uint8_t type, struct buf *m)
{
	int r;

	/* Peer data gathered so far reaches its fds before anything else
	 * (EOF, CLOSE, a request) is handled. */
	if (type != SSH2_MSG_CHANNEL_DATA && conn->npend > 0 &&
	    (r = channel_deliver_flush(conn)) != 0)
		return r;
	/* As sshd: we want no channel replies; any is a keepalive's. */
	if (type == SSH2_MSG_CHANNEL_SUCCESS ||
	    type == SSH2_MSG_CHANNEL_FAILURE)
		return conn_keepalive_reply(conn, type);
	if (type >= SSH2_MSG_CHANNEL_OPEN && type <= SSH2_MSG_CHANNEL_FAILURE)
		return channel_input(conn, type, m);
	switch (type) {
	case SSH2_MSG_GLOBAL_REQUEST:
		return conn_input_global_request(conn, m);
	case SSH2_MSG_PING:
		return conn_input_ping(conn, m);
	case SSH2_MSG_PONG:
		/* We send no PING; OpenSSH drops a PONG too. */
		debug2("ignoring PONG from the client");
		return 0;
	case SSH2_MSG_REQUEST_SUCCESS:
	case SSH2_MSG_REQUEST_FAILURE:
		return conn_keepalive_reply(conn, type);
	}
	/*
	 * Anything else, userauth messages after success included, is
	 * answered with UNIMPLEMENTED, as sshd does (RFC 4253 s11.4); the
	 * transport ends the connection for numbers it refuses outright.
	 * A userauth message (50..79) may carry a password: wiped first.
	 */
	if (type >= SSH2_MSG_USERAUTH_REQUEST && type < SSH2_MSG_GLOBAL_REQUEST)
		wipe(buf_mutable_ptr(m), buf_len(m));
	return transport_send_unimplemented(conn->t);
}

/* Read from the transport and handle every complete packet. */
/*
 * Past this much unsent output the client's packets wait (in the kernel,
 * then in its socket), as sshd waits for its output before it reads on:
 * a client asking for replies it does not read (global requests, PINGs)
 * holds no more than this. Channels stop reading their programs at 1 MiB
 * (transport_output_congested), so bulk data never gets here. The output
 * buffer grows by doubling: 3 MiB plus the last reply (a packet of at
 * most TRANSPORT_MAX_PAYLOAD) stays inside 4 MiB. At 4 MiB the buffer
 * doubled to 8 MiB, every page of which the writes touched as they moved
 * through it.
 */
#define CONN_OUTPUT_PAUSE (3 * 1024 * 1024)

static int
conn_paused(const struct conn *conn)
{
	return transport_output_pending(conn->t) >= CONN_OUTPUT_PAUSE;
}

/* Read what the client sent; its end is kept for conn_input. */
static int
conn_read(struct conn *conn)
{
	int rr = transport_read(conn->t);

	if (rr != 0 && rr != ERR_EOF)
		return rr;
	conn->input_end = rr;
	/* Handled by conn_input now, or, if a timer or the read itself
	 * paused the output meanwhile, once the pause ends. */
	conn->input_held = 1;
	return 0;
}

/* Handle the packets read, while the output is not backed up. */
static int
conn_input_packets(struct conn *conn)
{
	struct buf *m;
	uint8_t type;
	int r;

	conn->input_held = 0;
	/* Packets read before an end-of-file are still handled. */
	while ((r = transport_next_packet(conn->t, &type, &m)) == 0) {
		/* Any packet: the client is alive (sshd's packet layer). */
		conn->alive_misses = 0;
		/* A rekey's new keys, for the monitor's audit trail. */
		if (kexaudit_report(conn->t, conn->ctx->monitor_fd,
		        &conn->kex_reported) != 0)
			return ERR_SYSTEM;
		if ((r = conn_dispatch(conn, type, m)) != 0) {
			if (conn_is_decode_error(r))
				r = conn_protocol_error(
				    conn, "message %u: %s", type, err_str(r));
			return r;
		}
		if (conn_paused(conn)) {
			conn->input_held = 1;
			return 0;
		}
	}
	if (r != ERR_AGAIN)
		return r;
	if (kexaudit_report(
	        conn->t, conn->ctx->monitor_fd, &conn->kex_reported) != 0)
		return ERR_SYSTEM;
	return conn->input_end;
}

/* conn_input_packets, then the peer data it gathered is written: before
 * the transport reads again, into the buffer that data lies in. */
static int
conn_input(struct conn *conn)
{
	int r = conn_input_packets(conn), f = channel_deliver_flush(conn);

	return r != 0 ? r : f;
}

static void
conn_reap(struct conn *conn)
{
	char drain[64];
	pid_t pid;
	int status;

	while (read(sigchld_pipe[0], drain, sizeof(drain)) > 0)
		;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		channel_session_reaped(conn, pid, status);
}

/* The nearest of the connection's timers and RekeyLimit's interval. */
static int
poll_ms(struct conn *conn)
{
	int a = conn_timers_poll_ms(conn), b = transport_rekey_poll_ms(conn->t);

	if (a < 0)
		return b;
	return b < 0 || a < b ? a : b;
}

static int
conn_loop(struct conn *conn)
{
	struct transport *t = conn->t;
	short tev;
	int r, n, busy;

	/*
	 * Packets handed over with the transport (the client sent them with
	 * its last userauth request, in one write) are handled now: no new
	 * byte on the socket may ever come to wake the loop for them.
	 */
	if ((r = conn_input(conn)) != 0)
		return r;
	for (;;) {
		if ((r = channel_tick(conn)) != 0)
			return r;
		if (transport_output_pending(t) > 0 &&
		    (r = transport_write(t)) != 0)
			return r;
		/*
		 * Packets read but held back by the pause: handled once it
		 * ends, though the output drained in one write and no byte
		 * from the client comes to wake the loop for them.
		 */
		if (conn->input_held && !conn_paused(conn) &&
		    (r = conn_input(conn)) != 0)
			return r;
		tev = conn_paused(conn) || conn->input_end != 0 ? 0 : POLLIN;
		if (transport_output_pending(t) > 0)
			tev |= POLLOUT;
		conn->npfds = 0;
		if ((r = conn_pfd_add(conn, transport_fd(t), tev)) < 0 ||
		    (r = conn_pfd_add(conn, sigchld_pipe[0], POLLIN)) < 0 ||
		    (r = channel_poll_prepare(conn)) < 0 ||
		    (r = agent_poll_prepare(conn)) < 0 ||
		    (r = x11_poll_prepare(conn)) < 0 ||
		    (r = fwd_poll_prepare(conn)) < 0)
			return r;
		/* A service working in steps (copy-data) is not held up. */
		busy = channel_busy(conn);
		/*
		 * Also before sleeping: a signal that came after the last
		 * check had its wake-up byte drained by conn_reap() with a
		 * SIGCHLD's.
		 */
		n = got_term
		    ? 0
		    : poll(conn->pfds, conn->npfds, busy ? 0 : poll_ms(conn));
		if (n == -1 && errno != EINTR) {
			error_f("poll: %s", strerror(errno));
			return ERR_SYSTEM;
		}
		if (got_term) {
			verbose(
			    "Received signal %d; terminating.", (int)got_term);
			return 0;
		}
		if ((r = conn_timers_run(conn,
		         n > 0 && (conn->pfds[0].revents & POLLIN))) != 0 ||
		    (r = transport_rekey_timer(t)) != 0)
			return r;
		if (n < 0 || (n == 0 && !busy))
			continue;
		if (conn->pfds[1].revents != 0)
			conn_reap(conn);
		if ((conn->pfds[0].events & POLLIN) &&
		    (conn->pfds[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    (r = conn_read(conn)) != 0)
			return r;
		if (!conn_paused(conn) && (r = conn_input(conn)) != 0)
			return r;
		if ((conn->pfds[0].revents & POLLOUT) &&
		    (r = transport_write(t)) != 0)
			return r;
		if ((r = channel_poll_handle(conn)) != 0 ||
		    (r = agent_poll_handle(conn)) != 0 ||
		    (r = x11_poll_handle(conn)) != 0 ||
		    (r = fwd_poll_handle(conn)) != 0)
			return r;
	}
}

/* Best effort: let queued output (a DISCONNECT, the last CLOSE) leave. */
static void
conn_flush(struct conn *conn)
{
	struct pollfd pfd;
	int n;

	pfd.fd = transport_fd(conn->t);
	pfd.events = POLLOUT;
	while (transport_output_pending(conn->t) > 0) {
		if (transport_write(conn->t) != 0)
			return;
		if (transport_output_pending(conn->t) == 0)
			return;
		n = poll(&pfd, 1, CONN_FLUSH_MS);
		if (n == 0 || (n == -1 && errno != EINTR))
			return;
	}
}

int
session_run(struct session_ctx *ctx)
{
	struct sigaction sa, old_chld, old_pipe, old_term, old_hup, old_int;
	struct conn conn;
	uint64_t in, out;
	size_t i;
	int r, fl;

	memset(&conn, 0, sizeof(conn));
	conn.ctx = ctx;
	conn.t = ctx->t;
	conn.kex_reported = -1;
	/* The monitor's MaxSessions: 0 is none (a forwarding-only account,
	 * as sshd_config(5) has it), not the default. */
	conn.max_sessions = ctx->max_sessions > 0 ? ctx->max_sessions : 0;

	if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		error_f("pipe: %s", strerror(errno));
		return ERR_SYSTEM;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = sigchld_handler;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	(void)sigaction(SIGCHLD, &sa, &old_chld);
	sa.sa_handler = sigterm_handler;
	(void)sigaction(SIGTERM, &sa, &old_term);
	(void)sigaction(SIGHUP, &sa, &old_hup);
	(void)sigaction(SIGINT, &sa, &old_int);
	/* A child that closed its stdin must give EPIPE, not kill us. */
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	(void)sigaction(SIGPIPE, &sa, &old_pipe);
	if ((fl = fcntl(transport_fd(ctx->t), F_GETFL)) != -1 &&
	    !(fl & O_NONBLOCK))
		(void)fcntl(transport_fd(ctx->t), F_SETFL, fl | O_NONBLOCK);
	/* Children that exited before the handler was in place. */
	conn_reap(&conn);
	conn_timers_init(&conn);
	/* As sshd: tell the client every host key (UpdateHostKeys). */
	if ((r = session_hostkeys_notify(ctx)) != 0)
		error_f("hostkeys-00: %s", err_str(r));
	/* Then, as sshd, what the key checks had to say (ssh -v shows it). */
	for (i = 0; ctx->login != NULL && i < ctx->login->nauth_debug; i++)
		if ((r = fwd_send_debug(&conn, ctx->login->auth_debug[i])) != 0)
			error_f("debug message: %s", err_str(r));

	r = conn_loop(&conn);
	switch (r) {
	case 0:
		break;
	case ERR_PROTOCOL: /* logged and disconnected already */
	case ERR_MAC:      /* likewise (the transport's lines) */
	case ERR_TIMEOUT:  /* logged: ClientAlive, UnusedConnectionTimeout */
		conn.server_ended = 1;
		r = 0; /* an orderly end (docs/ipc.md session exit codes) */
		break;
	case ERR_EOF:
		/*
		 * sshd's child, at VERBOSE, without the user: a reset is a
		 * read error after which it closes nothing more, a close is
		 * followed by its sessions' ends and the connection's totals.
		 */
		if (transport_peer_reset(ctx->t))
			verbose("Read error from remote host %s port %d: %s",
			    ctx->client_addr, ctx->client_port,
			    strerror(ECONNRESET));
		else
			verbose("Connection closed by %s port %d",
			    ctx->client_addr, ctx->client_port);
		ctx->peer_closed = 1;
		r = 0;
		break;
	case ERR_DISCONNECTED:
		ctx->peer_disconnected = 1;
		r = 0;
		break;
	default:
		transport_log_fatal(ctx->t, err_str(r));
		conn.server_ended = 1;
		break;
	}
	channel_free_all(&conn);
	x11_cleanup_all(&conn);
	agent_cleanup(&conn);
	fwd_free(&conn);
	if (!conn.dead) /* a client that stopped answering takes nothing */
		conn_flush(&conn);
	/* As sshd's child after the client's DISCONNECT (its
	 * "Received disconnect" line is the transport's); a connection the
	 * server ended has its cause's line only. */
	if (ctx->peer_disconnected)
		logit("Disconnected from user %s %s port %d", ctx->user,
		    ctx->client_addr, ctx->client_port);
	if (ctx->peer_closed && !transport_peer_reset(ctx->t)) {
		transport_bytes(ctx->t, &in, &out);
		verbose("Transferred: sent %llu, received %llu bytes",
		    (unsigned long long)out, (unsigned long long)in);
		verbose("Closing connection to %s port %d", ctx->client_addr,
		    ctx->client_port);
	}
	free(conn.pfds);
	(void)sigaction(SIGCHLD, &old_chld, NULL);
	(void)sigaction(SIGTERM, &old_term, NULL);
	(void)sigaction(SIGHUP, &old_hup, NULL);
	(void)sigaction(SIGINT, &old_int, NULL);
	(void)sigaction(SIGPIPE, &old_pipe, NULL);
	close(sigchld_pipe[0]);
	close(sigchld_pipe[1]);
	sigchld_pipe[0] = sigchld_pipe[1] = -1;
	return r;
}
