/*
 * channel.h: the connection state, the channel table and the generic
 * channel I/O of the connection protocol (RFC 4254), shared by the
 * channel types in session/.
 */
#ifndef POSTERN_CHANNEL_H
#define POSTERN_CHANNEL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf;
struct transport;
struct session_ctx;
struct channel;
struct conn;

#define CHAN_WINDOW_DEFAULT (2 * 1024 * 1024) /* our receive window */
#define CHAN_PACKET_DEFAULT 32768             /* our maximum packet */
#define CHAN_MAX 1024 /* channels of all types open at once */
#define CONN_MAX_SESSIONS_DEFAULT 10

/* struct channel flags */
#define CHAN_RCVD_EOF 0x01
#define CHAN_SENT_EOF 0x02
#define CHAN_RCVD_CLOSE 0x04
#define CHAN_SENT_CLOSE 0x08
#define CHAN_IO 0x10 /* fds attached: from now on fd == -1 means finished */

/*
 * A channel request handler decodes the type-specific fields (ending with
 * buf_end) and sets *ok to 1 for CHANNEL_SUCCESS. It returns 0, a decode
 * error (the caller turns it into a protocol error) or another ERR_*.
 */
typedef int (*channel_req_fn)(
    struct conn *conn, struct channel *c, struct buf *m, int *ok);

struct channel_req {
	const char *name;
	channel_req_fn fn;
};

/*
 * What a channel type adds to the generic channel. Hooks may be NULL.
 *  open: decode the type-specific CHANNEL_OPEN fields; leave *reason 0 to
 *      accept or set an SSH2_OPEN_* code to refuse (then nothing to free).
 *  close_ready: 1 once nothing type-specific is left to send (default 1).
 *  before_close: send the last requests (exit-status) before our CLOSE.
 *  peer_closed: the peer sent CLOSE; stop whatever feeds the channel.
 *  free: release c->priv.
 */
struct channel_type {
	const char *name;
	const struct channel_req *reqs; /* terminated by a NULL name */
	int (*open)(struct conn *conn, struct channel *c, struct buf *m,
	    uint32_t *reason);
	int (*close_ready)(struct conn *conn, struct channel *c);
	int (*before_close)(struct conn *conn, struct channel *c);
	void (*peer_closed)(struct conn *conn, struct channel *c);
	void (*free)(struct conn *conn, struct channel *c);
};

struct channel {
	uint32_t id;      /* ours, the index in the table */
	uint32_t peer_id; /* the peer's number for it */
	const struct channel_type *type;
	unsigned flags;

	uint32_t local_window;     /* bytes the peer may still send */
	uint32_t local_window_max; /* what WINDOW_ADJUST tops up to */
	uint32_t local_consumed;   /* handed on, not yet re-opened */
	uint32_t local_maxpacket;
	uint32_t remote_window; /* bytes we may still send */
	uint32_t remote_maxpacket;

	int rfd; /* read side -> CHANNEL_DATA */
	int efd; /* read side -> CHANNEL_EXTENDED_DATA (stderr) */
	int wfd; /* CHANNEL_DATA -> write side */
	int rfd_pi, efd_pi, wfd_pi; /* index in the poll set or -1 */
	struct buf *obuf;           /* peer data not yet written to wfd */

	void *priv; /* the type's state */
};

struct conn {
	struct session_ctx *ctx;
	struct transport *t;
	struct channel **chans; /* indexed by our channel id */
	uint32_t nslots;
	uint32_t nopen;
	uint32_t rr; /* where channel_poll_handle starts: no channel starves */
	int nsessions;
	int max_sessions;
	int no_more_sessions;
	int disconnected; /* we sent DISCONNECT: stop */
	int kex_reported; /* key exchanges reported to the monitor (-1: none) */
	struct pollfd *pfds;
	size_t npfds, pfds_cap;
};

/* channel.c */
/* channel_input: CHANNEL_* messages (90..100) from the peer. */
int channel_input(struct conn *conn, uint8_t type, struct buf *m);
/* channel_poll_prepare: add every channel's fds to the poll set. */
int channel_poll_prepare(struct conn *conn);
/* channel_poll_handle: move data for the fds poll() reported ready. */
int channel_poll_handle(struct conn *conn);
/* channel_tick: per-iteration EOF/CLOSE/window/free bookkeeping. */
int channel_tick(struct conn *conn);
void channel_free_all(struct conn *conn);
/* channel_attach_fds: start the I/O on fds (non-blocking, -1 if none). */
void channel_attach_fds(struct channel *c, int rfd, int wfd, int efd);
/* channel_write_done: the write side is gone; discard what the peer sends. */
void channel_write_done(struct channel *c);
/* channel_request_begin: start a CHANNEL_REQUEST without want_reply. */
int channel_request_begin(
    struct conn *conn, struct channel *c, const char *name, struct buf **mp);

/* channel_session.c */
extern const struct channel_type channel_type_session;
/* channel_session_reaped: the child pid exited with wait status. */
void channel_session_reaped(struct conn *conn, pid_t pid, int status);

/* session_run.c */
int conn_pfd_add(struct conn *conn, int fd, short events);
/* conn_protocol_error: log, send DISCONNECT and return ERR_PROTOCOL. */
int conn_protocol_error(struct conn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* conn_is_decode_error: the code means the peer's message was malformed. */
int conn_is_decode_error(int r);

#endif
