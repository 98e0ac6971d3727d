/*
 * alive.c: the connection's timers, run by the event loop (no signals):
 * ClientAliveInterval/ClientAliveCountMax (keepalive@openssh.com requests
 * with want-reply, on an open channel or else global, as sshd's; any
 * packet from the client resets the count, as sshd's packet layer does),
 * UnusedConnectionTimeout
 * (no channel open for that long) and ChannelTimeout (a channel with no
 * data either way for its type's interval is closed).
 */
#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "match.h"
#include "transport.h"
#include "session.h"
#include "channel.h"

void
conn_timers_init(struct conn *conn)
{
	const struct session_axl *f = conn->ctx->axl;

	conn->now_ms = transport_monotime_ms();
	if (f != NULL && f->client_alive_interval > 0)
		conn->alive_deadline =
		    conn->now_ms + (int64_t)f->client_alive_interval * 1000;
	/* As sshd: the clock starts at authentication, before any channel. */
	if (f != NULL && f->unused_connection_timeout > 0)
		conn->unused_deadline =
		    conn->now_ms + (int64_t)f->unused_connection_timeout * 1000;
}

static void
earliest(int64_t *best, int64_t t)
{
	if (t > 0 && (*best == 0 || t < *best))
		*best = t;
}

/*
 * 1 if ChannelTimeout watches c: it has a timeout, it carries data (its
 * descriptors, or an in-process service such as internal-sftp), and it
 * is not closing. The deadline and the check must agree, or a closing
 * channel's past deadline makes poll() return at once for ever.
 */
static int
chan_idle_timed(const struct channel *c)
{
	return c->idle_timeout > 0 &&
	    ((c->flags & CHAN_IO) || c->svc != NULL) &&
	    !(c->flags & (CHAN_SENT_CLOSE | CHAN_RCVD_CLOSE));
}

int
conn_timers_poll_ms(struct conn *conn)
{
	const struct session_axl *f = conn->ctx->axl;
	struct channel *c;
	int64_t best = 0;
	uint32_t id;

	earliest(&best, conn->alive_deadline);
	if (conn_accept_paused(conn))
		earliest(&best, conn->accept_pause_until);
	if (conn->nopen == 0)
		earliest(&best, conn->unused_deadline);
	for (id = 0; f != NULL && f->ntimeouts > 0 && id < conn->nslots; id++) {
		if ((c = conn->chans[id]) != NULL && chan_idle_timed(c))
			earliest(&best,
			    c->last_io + (int64_t)c->idle_timeout * 1000);
	}
	return transport_poll_ms_until(best);
}

/* "user NAME ADDR port N", as sshd's sshpkt_fmt_connection_id. */
static void
conn_id_log(struct conn *conn, const char *what)
{
	logit("%s from user %s %s port %d", what, conn->ctx->user,
	    conn->ctx->client_addr, conn->ctx->client_port);
}

/* Nothing heard for ClientAliveInterval: count it, then ask. */
static int
client_alive_check(struct conn *conn)
{
	const struct session_axl *f = conn->ctx->axl;
	struct channel *c;
	struct buf *m;
	int r;

	if (f->client_alive_count_max > 0 &&
	    ++conn->alive_misses > f->client_alive_count_max) {
		conn_id_log(conn, "Timeout, client not responding");
		conn->dead = 1;
		return ERR_TIMEOUT;
	}
	debug2("client alive check %d", conn->alive_misses);
	/* As sshd: on an open channel if there is one, else global. */
	if ((c = channel_find_open(conn)) != NULL) {
		if ((r = transport_packet_begin(
		         conn->t, SSH2_MSG_CHANNEL_REQUEST, &m)) != 0 ||
		    (r = buf_put_u32(m, c->peer_id)) != 0)
			return r;
	} else if ((r = transport_packet_begin(
	                conn->t, SSH2_MSG_GLOBAL_REQUEST, &m)) != 0)
		return r;
	if ((r = buf_put_cstring(m, "keepalive@openssh.com")) != 0 ||
	    (r = buf_put_bool(m, 1)) != 0 ||
	    (r = transport_packet_send(conn->t)) != 0)
		return r;
	if (c != NULL)
		conn->creq_pending++;
	else
		conn->greq_pending++;
	return 0;
}

int
conn_timers_run(struct conn *conn, int input)
{
	const struct session_axl *f = conn->ctx->axl;
	struct channel *c;
	uint32_t id;
	int r;

	conn->now_ms = transport_monotime_ms();
	if (f == NULL)
		return 0;
	if (conn->alive_deadline > 0) {
		if (input)
			conn->alive_deadline = conn->now_ms +
			    (int64_t)f->client_alive_interval * 1000;
		else if (conn->now_ms >= conn->alive_deadline) {
			if ((r = client_alive_check(conn)) != 0)
				return r;
			conn->alive_deadline = conn->now_ms +
			    (int64_t)f->client_alive_interval * 1000;
		}
	}
	if (conn->unused_deadline > 0) {
		/*
		 * As sshd: a forward's listener (ssh -R) is no open channel
		 * and does not keep the connection in use (sshd_config(5)).
		 */
		if (conn->nopen > 0)
			conn->unused_deadline = conn->now_ms +
			    (int64_t)f->unused_connection_timeout * 1000;
		else if (conn->now_ms >= conn->unused_deadline) {
			conn_id_log(conn, "terminating inactive connection");
			return ERR_TIMEOUT;
		}
	}
	for (id = 0; f->ntimeouts > 0 && id < conn->nslots; id++) {
		if ((c = conn->chans[id]) == NULL || !chan_idle_timed(c))
			continue;
		if (conn->now_ms >=
		    c->last_io + (int64_t)c->idle_timeout * 1000)
			channel_idle_close(conn, c);
	}
	return 0;
}

int
conn_keepalive_reply(struct conn *conn, uint8_t type)
{
	if ((type == SSH2_MSG_REQUEST_SUCCESS ||
	        type == SSH2_MSG_REQUEST_FAILURE) &&
	    conn->greq_pending > 0)
		conn->greq_pending--;
	else if ((type == SSH2_MSG_CHANNEL_SUCCESS ||
	             type == SSH2_MSG_CHANNEL_FAILURE) &&
	    conn->creq_pending > 0)
		conn->creq_pending--;
	else
		debug("ignoring unsolicited reply (message %u)", type);
	return 0;
}

void
channel_set_timeout_type(struct conn *conn, struct channel *c, const char *type)
{
	const struct session_axl *f = conn->ctx->axl;
	size_t i;

	c->idle_timeout = 0;
	/* Idle from now: a session's type is set when its program starts. */
	c->last_io = conn->now_ms;
	for (i = 0; f != NULL && i < f->ntimeouts; i++) {
		/* The first pattern that matches decides (as sshd). */
		if (match_pattern(type, f->timeouts[i].type)) {
			c->idle_timeout = f->timeouts[i].secs;
			debug2("channel %u: type %.127s: idle timeout %d s",
			    c->id, type, c->idle_timeout);
			return;
		}
	}
}
