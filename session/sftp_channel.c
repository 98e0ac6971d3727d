/*
 * sftp_channel.c: internal-sftp served in the session process itself, on
 * a session channel: SFTP packets are run straight from the channel's
 * incoming data and replies go from the engine's queue into channel data
 * packets; no child process, no pipe.
 *
 * Flow control. The engine takes whatever the peer sends (its window
 * bounds that) and runs whole requests at once, holding back the rest
 * while its reply queue is full (sftp.h). The peer's window is re-opened
 * only for bytes the engine is done with, so a client that does not read
 * its replies is stopped by its own window. Replies leave as the peer's
 * window and the transport's queue allow; every loop turn (pump) sends
 * what fits, then lets the engine run the requests it held back, until
 * the window or the transport is full: that bounds the file I/O done per
 * turn and keeps the connection's other channels served. File I/O blocks
 * (regular files), as it does in OpenSSH's sftp-server.
 *
 * End. At the peer's EOF (after the last replies went out), on a broken
 * packet (exit status 1) or when there was nothing to serve (-Q, a usage
 * error), the session is told the "child" ended: EOF, exit-status and
 * CLOSE follow as for a program; at a reply after eow@openssh.com, as
 * if killed by SIGPIPE (exit-signal).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "session.h"
#include "session_exec.h"
#include "channel.h"
#include "sftp.h"

#define SFTP_CHAN_ARGS 64            /* words of "internal-sftp [flags]" */
#define SFTP_CHAN_RC (64 * 1024)     /* the rc's output kept */
#define SFTP_CHAN_TEXT (64 * 1024)   /* -Q's list, after the rc's output */
#define SFTP_CHAN_STDERR (64 * 1024) /* -e lines not yet sent; then dropped */

struct chan_sftp {
	struct sftp_options o;
	struct sftp_server *s; /* NULL when there is nothing to serve */
	struct buf *out;       /* the rc's output, -Q's list: client's stdout */
	struct buf *err;       /* a usage error and -e lines: its stderr */
	int status;            /* exit status: 1 once the engine failed */
	int failed;
	int done;
	int eow;    /* the peer reads no more: replies are dropped */
	int killed; /* the signal the engine "died" of, or 0 */
	/* The rc child (session_exec_rc_start) while it runs: SFTP waits,
	 * the peer's data kept in pending (its window bounds it). */
	pid_t rc_pid;
	int rc_fd;
	int rc_exited;
	struct buf *pending;
	/* The command line, split, until the engine opens (after the rc). */
	char *line;
	char *argv[SFTP_CHAN_ARGS];
	int argc;
};

static void chan_sftp_open(
    struct conn *conn, struct channel *c, struct chan_sftp *cs);

/* -e: the engine's lines go to its stderr, which a subsystem's channel
 * drops (CHAN_EFD_DISCARD), as sshd does. */
static void
chan_sftp_log(void *ctx, int level, const char *msg)
{
	struct chan_sftp *cs = ctx;
	char line[1024];
	size_t len;

	if (!cs->o.log_stderr) {
		sftp_host_log_line(cs->o.log_facility, level, msg);
		return;
	}
	/* Escaped as sshd's sftp-server escapes its -e lines. */
	len = log_vis(line, sizeof(line), msg, 1);
	if (buf_len(cs->err) + len + 2 > SFTP_CHAN_STDERR)
		return;
	(void)buf_put(cs->err, line, len);
	(void)buf_put(cs->err, "\r\n", 2);
}

/* Send what fits of b as (extended) data; 0 or a connection error. */
static int
chan_sftp_send_buf(struct conn *conn, struct channel *c, int ext, struct buf *b)
{
	size_t sent;
	int r;

	if (buf_len(b) == 0)
		return 0;
	if ((r = channel_send_data(
	         conn, c, ext, buf_ptr(b), buf_len(b), &sent)) != 0)
		return r;
	return buf_consume(b, sent);
}

/* Run the engine on len bytes (none: resume), crediting the window. */
static void
chan_sftp_feed(
    struct channel *c, struct chan_sftp *cs, const uint8_t *p, size_t len)
{
	size_t before = sftp_server_input_queued(cs->s), after;

	if (sftp_server_input(cs->s, p, len) != 0) {
		/* The engine logged why; what it queued is dropped. */
		cs->failed = 1;
		cs->status = sftp_server_exit_status(cs->s);
		c->local_consumed += (uint32_t)(len + before);
		return;
	}
	after = sftp_server_input_queued(cs->s);
	c->local_consumed += (uint32_t)(len + before - after);
}

static int
chan_sftp_data(
    struct conn *conn, struct channel *c, const uint8_t *p, size_t len)
{
	struct chan_sftp *cs = c->svc_ctx;

	if (cs->rc_pid > 0) /* within the window: room was made for it */
		return buf_put(cs->pending, p, len);
	if (cs->s == NULL || cs->failed || cs->done) {
		c->local_consumed += (uint32_t)len; /* nobody to take it */
		return 0;
	}
	chan_sftp_feed(c, cs, p, len);
	return 0;
}

/*
 * Send replies and run held-back requests until the window or the
 * transport is full; at the end (EOF or a broken packet, every reply
 * sent) the engine goes, logging "session closed".
 */
static int
chan_sftp_serve(struct conn *conn, struct channel *c, struct chan_sftp *cs)
{
	size_t pending, sent;
	int r;

	for (;;) {
		pending = sftp_server_output_pending(cs->s);
		if (pending > 0 && cs->eow) {
			/* As sshd's sftp-server child: its next reply after
			 * eow@openssh.com is a write nobody reads, SIGPIPE. */
			sftp_server_kill(cs->s);
			cs->s = NULL;
			cs->killed = SIGPIPE;
			return 0;
		}
		if (pending > 0) {
			if ((r = channel_send_data(conn, c, 0,
			         sftp_server_output_ptr(cs->s), pending,
			         &sent)) != 0)
				return r;
			sftp_server_output_consume(cs->s, sent);
			if (sent < pending)
				return 0; /* window or transport full */
		}
		if (cs->failed)
			break;
		/* Room for replies again: the requests held back. */
		chan_sftp_feed(c, cs, NULL, 0);
		if (sftp_server_output_pending(cs->s) == 0)
			break;
	}
	/* After EOF a copy in progress and the requests after it still
	 * run to their end. */
	if (cs->failed ||
	    ((c->flags & CHAN_RCVD_EOF) && !sftp_server_busy(cs->s))) {
		sftp_server_free(cs->s);
		cs->s = NULL;
	}
	return 0;
}

/*
 * Work for the next loop turn that no descriptor announces: requests held
 * back, or output (the rc's, -Q's list, replies, -e lines) the channel
 * can send now, where the transport drained in one write.
 */
static int
chan_sftp_busy(struct conn *conn, struct channel *c)
{
	struct chan_sftp *cs = c->svc_ctx;
	int unsent;

	if (cs == NULL || cs->done || cs->rc_pid > 0 ||
	    (c->flags & (CHAN_SENT_CLOSE | CHAN_RCVD_CLOSE)))
		return 0;
	if (cs->s != NULL && !cs->failed && sftp_server_busy(cs->s))
		return 1;
	/* Replies nobody reads go without waiting for the window. */
	if (cs->eow &&
	    (buf_len(cs->out) > 0 ||
	        (cs->s != NULL && sftp_server_output_pending(cs->s) > 0)))
		return 1;
	unsent = buf_len(cs->out) > 0 ||
	    (buf_len(cs->err) > 0 && !(c->flags & CHAN_EFD_DISCARD)) ||
	    (cs->s != NULL && sftp_server_output_pending(cs->s) > 0);
	return unsent && channel_send_room(conn, c) > 0;
}

static int
chan_sftp_pump(struct conn *conn, struct channel *c)
{
	struct chan_sftp *cs = c->svc_ctx;
	int r;

	if (cs->done || (c->flags & (CHAN_SENT_CLOSE | CHAN_RCVD_CLOSE)))
		return 0;
	if (cs->rc_pid > 0) {
		if (!cs->rc_exited)
			return 0;
		/* The rc has ended: its output, then what the peer sent. */
		session_exec_rc_output(cs->rc_fd, cs->out);
		cs->rc_fd = -1;
		cs->rc_pid = -1;
		chan_sftp_open(conn, c, cs);
		if (cs->s != NULL && buf_len(cs->pending) > 0)
			chan_sftp_feed(
			    c, cs, buf_ptr(cs->pending), buf_len(cs->pending));
		else
			c->local_consumed += (uint32_t)buf_len(cs->pending);
		buf_free(cs->pending);
		cs->pending = NULL;
	}
	/* What goes to stdout before the engine's replies (an rc file's
	 * output) or without an engine (-Q's list). */
	if (cs->eow)
		buf_reset(cs->out);
	if ((r = chan_sftp_send_buf(conn, c, 0, cs->out)) != 0)
		return r;
	if (cs->s != NULL && buf_len(cs->out) == 0 &&
	    (r = chan_sftp_serve(conn, c, cs)) != 0)
		return r;
	if (c->flags & CHAN_EFD_DISCARD)
		buf_reset(cs->err);
	if ((r = chan_sftp_send_buf(conn, c, 1, cs->err)) != 0)
		return r;
	/* Nothing left to serve or say: the session ends like a child. */
	if (cs->s == NULL && buf_len(cs->out) == 0 && buf_len(cs->err) == 0) {
		cs->done = 1;
		channel_session_service_done(conn, c, cs->status, cs->killed);
	}
	return 0;
}

/* What chan_sftp_free and a failed start both let go of. */
static void
chan_sftp_release(struct chan_sftp *cs)
{
	sftp_server_free(cs->s);
	buf_free(cs->out);
	buf_free(cs->err);
	buf_free(cs->pending);
	if (cs->rc_fd >= 0)
		close(cs->rc_fd);
	free(cs->line);
	free(cs);
}

static void
chan_sftp_free(struct conn *conn, struct channel *c)
{
	struct chan_sftp *cs = c->svc_ctx;

	if (cs == NULL)
		return;
	chan_sftp_release(cs);
	c->svc_ctx = NULL;
}

/*
 * eow@openssh.com: the client's stdout failed (its sftp was killed). As
 * with sshd, whose sftp-server child writes to a channel that no longer
 * reads it, the replies go nowhere: a client that discarded what it held
 * never re-opens the window for them, and a server that waited for it
 * would hold the session, the file and the connection for ever. The
 * engine ends at its next reply as that child does, killed by SIGPIPE
 * (exit-signal PIPE, which makes ssh exit 255), or at the peer's EOF
 * (status 0) if it has nothing more to say.
 */
static void
chan_sftp_eow(struct conn *conn, struct channel *c)
{
	struct chan_sftp *cs = c->svc_ctx;

	(void)conn;
	if (cs == NULL)
		return;
	debug2("channel %u: sftp output no longer wanted", c->id);
	cs->eow = 1;
}

static const struct channel_service chan_sftp_service = {
    .data = chan_sftp_data,
    .pump = chan_sftp_pump,
    .free = chan_sftp_free,
    .busy = chan_sftp_busy,
    .eow = chan_sftp_eow,
};

/* The engine, from the command line: once any rc has ended. */
static void
chan_sftp_open(struct conn *conn, struct channel *c, struct chan_sftp *cs)
{
	struct session_ctx *ctx = conn->ctx;
	int status;

	sftp_options_init(&cs->o);
	cs->o.log_fn = chan_sftp_log;
	cs->o.log_ctx = cs;
	status = sftp_host_open(cs->argc, cs->argv, ctx->user, ctx->home,
	    ctx->client_addr, &cs->o, &cs->s, cs->out, cs->err);
	/* argv is gone after this: the engine copied what it keeps. */
	cs->o.start_dir = cs->o.deny = cs->o.allow = NULL;
	free(cs->line);
	cs->line = NULL;
	if (status >= 0)
		cs->status = status;
	debug("channel %u: internal-sftp in-process%s", c->id,
	    cs->s == NULL ? " (nothing to serve)" : "");
}

int
chan_sftp_start(struct conn *conn, struct channel *c, const char *command,
    pid_t rc_pid, int rc_fd)
{
	struct chan_sftp *cs;
	int r = ERR_ALLOC;

	if ((cs = calloc(1, sizeof(*cs))) == NULL) {
		if (rc_fd >= 0)
			close(rc_fd);
		return ERR_ALLOC;
	}
	cs->rc_pid = rc_pid;
	cs->rc_fd = rc_fd;
	if ((cs->out = buf_new(SFTP_CHAN_TEXT + SFTP_CHAN_RC)) == NULL ||
	    (cs->err = buf_new(SFTP_CHAN_STDERR)) == NULL ||
	    (rc_pid > 0 &&
	        (cs->pending = buf_new(c->local_window_max)) == NULL) ||
	    (cs->line = strdup(command)) == NULL)
		goto out;
	if ((cs->argc = sftp_split_args(cs->line, cs->argv, SFTP_CHAN_ARGS)) <=
	    0) {
		error("internal-sftp: bad arguments");
		r = ERR_CONFIG;
		goto out;
	}
	if (rc_pid <= 0)
		chan_sftp_open(conn, c, cs);
	c->svc = &chan_sftp_service;
	c->svc_ctx = cs;
	return 0;
out:
	chan_sftp_release(cs);
	return r;
}

int
chan_is_sftp(const struct channel *c)
{
	return c->svc == &chan_sftp_service;
}

int
chan_sftp_reaped(struct channel *c, pid_t pid)
{
	struct chan_sftp *cs = c->svc_ctx;

	if (c->svc != &chan_sftp_service || cs == NULL || cs->rc_pid != pid)
		return 0;
	debug("channel %u: the rc before internal-sftp exited", c->id);
	cs->rc_exited = 1;
	return 1;
}
