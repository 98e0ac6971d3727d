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
#include <sys/uio.h>

struct buf;
struct transport;
struct session_ctx;
struct channel;
struct conn;
struct fwd_state;

#define CHAN_WINDOW_DEFAULT (2 * 1024 * 1024) /* our receive window */
#define CHAN_PACKET_DEFAULT 32768             /* our maximum packet */
#define CHAN_MAX 1024 /* channels of all types open at once */
/* Peer data packets gathered for one writev (channel_deliver_flush). */
#define CHAN_PEND_MAX 64

/* struct channel flags */
#define CHAN_RCVD_EOF 0x01
#define CHAN_SENT_EOF 0x02
#define CHAN_RCVD_CLOSE 0x04
#define CHAN_SENT_CLOSE 0x08
#define CHAN_IO 0x10 /* fds attached: from now on fd == -1 means finished */
#define CHAN_OPENING 0x20   /* we sent CHANNEL_OPEN; no answer yet */
#define CHAN_RFD_GROWN 0x40 /* rfd's pipe enlarged for streaming */
#define CHAN_WFD_GROWN 0x80 /* wfd's pipe enlarged for streaming */
/* efd is read and dropped, as sshd does a subsystem's stderr. */
#define CHAN_EFD_DISCARD 0x1000
/*
 * rfd is read until it has nothing, which is then its end: a pty whose
 * session child exited, while a background job may hold the terminal open
 * for ever (as sshd's detach_close on a tty).
 */
#define CHAN_RFD_DRAIN 0x2000
/*
 * The write side went while the peer may still send (a write error, or
 * the type closed it: a session's child exited): the type's
 * write_failed hook tells the peer once (sshd's chan_write_failed).
 */
#define CHAN_WRITE_FAILED 0x4000

/* An open hook's *reason meaning "pending": the type answers later with
 * channel_open_confirm() or channel_open_fail(), never from the hook. */
#define CHAN_OPEN_LATER 0xffffffffU

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
 *      accept or set an SSH2_OPEN_* code to refuse (then nothing to free),
 *      or CHAN_OPEN_LATER with c->priv set to answer once ready.
 *  close_ready: 1 once nothing type-specific is left to send (default 1).
 *  before_close: send the last requests (exit-status) before our CLOSE.
 *  peer_closed: the peer sent CLOSE; stop whatever feeds the channel.
 *  free: release c->priv.
 *  write_failed: nothing takes the peer's data any more
 *      (CHAN_WRITE_FAILED), before the peer's CLOSE: tell it, once.
 */
struct channel_type {
	const char *name;
	/* ChannelTimeout's name for the type when it differs (NULL: name). */
	const char *timeout_name;
	const struct channel_req *reqs; /* terminated by a NULL name */
	int (*open)(struct conn *conn, struct channel *c, struct buf *m,
	    uint32_t *reason);
	int (*close_ready)(struct conn *conn, struct channel *c);
	int (*before_close)(struct conn *conn, struct channel *c);
	void (*peer_closed)(struct conn *conn, struct channel *c);
	void (*free)(struct conn *conn, struct channel *c);
	int (*write_failed)(struct conn *conn, struct channel *c);
	/*
	 * Datagram channels (tun@openssh.com) set both: each dgram_read
	 * reads one datagram from fd into p[0, len) as it goes on the wire
	 * and returns read(2)'s result; each CHANNEL_DATA is one dgram_write
	 * to fd, which drops what the fd does not take.
	 */
	ssize_t (*dgram_read)(
	    struct channel *c, int fd, uint8_t *p, size_t len);
	void (*dgram_write)(
	    struct channel *c, int fd, const uint8_t *p, size_t len);
};

/*
 * An in-process service that stands in for a channel's fds (internal-sftp,
 * sftp_channel.c), set in c->svc with its state in c->svc_ctx:
 *  data: the peer's CHANNEL_DATA; the service adds to c->local_consumed
 *      what it has finished with, which re-opens the window;
 *  pump: every loop turn: send output with channel_send_data and, once
 *      done, end the channel as the type does when its child ends;
 *  free: release c->svc_ctx;
 *  busy: (optional) 1 while it has work to go on with that waits for no
 *      event (copy-data, in steps): the loop does not wait in poll then.
 */
struct channel_service {
	int (*data)(
	    struct conn *conn, struct channel *c, const uint8_t *p, size_t len);
	int (*pump)(struct conn *conn, struct channel *c);
	void (*free)(struct conn *conn, struct channel *c);
	int (*busy)(struct conn *conn, struct channel *c);
	/* eow@openssh.com: the peer reads no more of its output. */
	void (*eow)(struct conn *conn, struct channel *c);
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

	int rfd;            /* read side -> CHANNEL_DATA */
	int efd;            /* read side -> CHANNEL_EXTENDED_DATA (stderr) */
	int wfd;            /* CHANNEL_DATA -> write side */
	uint64_t rfd_total; /* bytes read from rfd so far */
	uint64_t wfd_total; /* bytes of peer data for wfd so far */
	int rfd_pi, efd_pi, wfd_pi; /* index in the poll set or -1 */
	struct buf *obuf;           /* peer data not yet written to wfd */

	void *priv;                        /* the type's state */
	const struct channel_service *svc; /* in place of fds, or NULL */
	void *svc_ctx;

	int idle_timeout; /* ChannelTimeout seconds; 0 none */
	int64_t last_io;  /* conn->now_ms of the last data either way */
};

struct conn {
	struct session_ctx *ctx;
	struct transport *t;
	struct channel **chans; /* indexed by our channel id */
	uint32_t nslots;
	uint32_t nopen;
	uint32_t rr; /* where channel_poll_handle starts: no channel starves */
	int nsessions; /* session channels, and children they left running */
	int max_sessions;
	/* Children of sessions whose channel closed while they ran: as sshd,
	 * each holds its MaxSessions slot until it exits. */
	pid_t *detached;
	int ndetached;
	int no_more_sessions;
	int disconnected; /* we sent DISCONNECT: stop */
	int qos_chosen;   /* IPQoS applied: the first session decides */
	int kex_reported; /* key exchanges reported to the monitor (-1: none) */
	int input_end;    /* the client's end (ERR_EOF) once read: conn_read */
	int input_held;   /* packets read, left for the output pause's end */
	struct pollfd *pfds;
	size_t npfds, pfds_cap;

	/* Timers (alive.c), in monotonic milliseconds. */
	int64_t now_ms;          /* taken after each poll() */
	int64_t alive_deadline;  /* next ClientAlive check; 0 off */
	int alive_misses;        /* keepalives sent without an answer */
	uint32_t greq_pending;   /* our global requests awaiting replies */
	uint32_t creq_pending;   /* our channel requests awaiting replies */
	int64_t unused_deadline; /* UnusedConnectionTimeout; 0 off */
	int dead;                /* the peer is gone: do not flush output */
	/* The server ended the connection (a timeout, a protocol error): as
	 * sshd's child at cleanup_exit(), no Close session lines. */
	int server_ended;
	/* Agent and X11 forwarding (agent.c, x11.c). */
	struct agent_fwd *agent;
	struct x11_fwd *x11s;
	struct fwd_state *fwd;      /* TCP/Unix-socket forwarding (forward.c) */
	int64_t accept_pause_until; /* listeners rest (accept_pause.c) */
	/* Peer data for channels' wfds, gathered over one read's packets
	 * (channel_deliver_flush): pend_iov[i], pointing into the
	 * transport's input, is for channel pend_chan[i]. */
	struct iovec pend_iov[CHAN_PEND_MAX];
	struct channel *pend_chan[CHAN_PEND_MAX];
	size_t npend;
};

/* session_run.c: one connection-protocol message from the peer. */
int conn_dispatch(struct conn *conn, uint8_t type, struct buf *m);

/* channel.c */
/* channel_input: CHANNEL_* messages (90..100) from the peer. */
int channel_input(struct conn *conn, uint8_t type, struct buf *m);
/* channel_poll_prepare: add every channel's fds to the poll set. */
int channel_poll_prepare(struct conn *conn);
/* channel_poll_handle: move data for the fds poll() reported ready. */
int channel_poll_handle(struct conn *conn);
/* channel_busy: 1 if a channel's service is busy (channel_service). */
int channel_busy(struct conn *conn);
/*
 * channel_deliver_flush: write the peer data gathered since the last
 * flush (one writev per channel; what a fd does not take waits in its
 * obuf). Called before anything but CHANNEL_DATA is handled and before
 * the transport reads again.
 */
int channel_deliver_flush(struct conn *conn);
/* channel_tick: per-iteration EOF/CLOSE/window/free bookkeeping. */
int channel_tick(struct conn *conn);
void channel_free_all(struct conn *conn);
/* channel_attach_fds: start the I/O on fds (non-blocking, -1 if none). */
void channel_attach_fds(struct channel *c, int rfd, int wfd, int efd);
/*
 * channel_write_done: the write side is gone; discard what the peer sends.
 * Before the peer's EOF was written out, that is a CHAN_WRITE_FAILED.
 */
void channel_write_done(struct channel *c);
/*
 * channel_open_begin: a channel we open to the peer (RFC 4254 s5.1): the
 * channel (the caller sets priv and attaches its fds) and a begun
 * CHANNEL_OPEN to which the caller appends the type-specific fields
 * before transport_packet_send. The channel moves no data until the
 * peer's confirmation; a refusal frees it (type->free included).
 * ERR_LIMIT when the table is full.
 */
int channel_open_begin(struct conn *conn, const struct channel_type *type,
    struct channel **cp, struct buf **mp);
/* A pending open (CHAN_OPEN_LATER) succeeded: send OPEN_CONFIRMATION. */
int channel_open_confirm(struct conn *conn, struct channel *c);
/* A pending open failed: send OPEN_FAILURE and free the channel. */
int channel_open_fail(
    struct conn *conn, struct channel *c, uint32_t reason, const char *desc);
/* channel_set_timeout_type: ChannelTimeout for c by a type name. */
void channel_set_timeout_type(
    struct conn *conn, struct channel *c, const char *type);
/* channel_idle_close: the channel idled past its timeout: shut it down. */
void channel_idle_close(struct conn *conn, struct channel *c);
/*
 * channel_send_room: bytes we may put in c's next data packet (the peer's
 * window and packet size, our cap); 0 while the transport is congested or
 * a key exchange runs: send nothing, read nothing.
 */
size_t channel_send_room(struct conn *conn, struct channel *c);
/*
 * channel_send_data: queue what fits of p[0, len) in the peer's window and
 * packet size as CHANNEL_DATA (EXTENDED_DATA stderr if ext) while the
 * transport is not congested; *sent says how much.
 */
int channel_send_data(struct conn *conn, struct channel *c, int ext,
    const uint8_t *p, size_t len, size_t *sent);
/* channel_request_begin: start a CHANNEL_REQUEST without want_reply. */
int channel_request_begin(
    struct conn *conn, struct channel *c, const char *name, struct buf **mp);

/* channel_session.c */
extern const struct channel_type channel_type_session;
/* channel_session_reaped: the child pid exited with wait status. */
void channel_session_reaped(struct conn *conn, pid_t pid, int status);

/* channel_tcp.c: direct-tcpip, direct-streamlocal@openssh.com. */
extern const struct channel_type channel_type_direct_tcpip;
extern const struct channel_type channel_type_direct_streamlocal;

/* channel_tun.c: tun@openssh.com, tun(4) devices (PermitTunnel). */
extern const struct channel_type channel_type_tun;

/* channel_sock.c: plain socket channels (agent, X11). */
/* channel_sock_close_ready: EOF first, CLOSE when both ways are done. */
int channel_sock_close_ready(struct conn *conn, struct channel *c);
/*
 * channel_attach_socket: a connected socket as the channel's fds (rfd
 * and wfd both: closed once neither needs it). ERR_SYSTEM with the
 * socket closed.
 */
int channel_attach_socket(struct channel *c, int sock);
/*
 * channel_socket_fds: sock made non-blocking, and *wfd = sock. On
 * failure a log line names what was dropped, sock is closed and
 * ERR_SYSTEM returned: only that connection is lost.
 */
int channel_socket_fds(int sock, const char *what, int *wfd);
/*
 * channel_open_socket: channel_open_begin for an accepted socket, which
 * becomes the channel's fds. ERR_LIMIT (the socket closed, logged) when
 * the socket or the table has no room: drop that connection and go on;
 * any other error ends the connection.
 */
int channel_open_socket(struct conn *conn, const struct channel_type *type,
    int sock, struct channel **cp, struct buf **mp);

/* alive.c: ClientAlive*, UnusedConnectionTimeout, ChannelTimeout. */
void conn_timers_init(struct conn *conn);
/* conn_timers_poll_ms: poll()'s timeout for the nearest deadline. */
int conn_timers_poll_ms(struct conn *conn);
/* conn_timers_run: after poll(); input: the client sent something. */
int conn_timers_run(struct conn *conn, int input);
/*
 * conn_keepalive_reply: REQUEST_SUCCESS/FAILURE (for one of ours) or
 * CHANNEL_SUCCESS/FAILURE; as sshd, one nobody asked for is ignored.
 */
int conn_keepalive_reply(struct conn *conn, uint8_t type);
/* The first channel open both ways and not closing (a keepalive rides on
 * it, as sshd's channel_find_open()), or NULL. */
struct channel *channel_find_open(struct conn *conn);

/* accept_pause.c: 1 while listeners must not be polled. */
int conn_accept_paused(const struct conn *conn);
/* conn_accept_failed: log accept(2)'s errno; out of fds: pause 1 s. */
void conn_accept_failed(struct conn *conn, int err);

/* agent.c, x11.c: listeners in the poll set; cleanup at the end. */
/* agent_request: auth-agent-req@openssh.com; *ok = 1 when listening. */
int agent_request(struct conn *conn, int *ok);
/* agent_socket_path: SSH_AUTH_SOCK for sessions, NULL if none. */
const char *agent_socket_path(const struct conn *conn);
int agent_poll_prepare(struct conn *conn);
int agent_poll_handle(struct conn *conn);
void agent_cleanup(struct conn *conn);
struct x11_fwd;
/* x11_request: x11-req for a session; *xp holds its display. */
int x11_request(struct conn *conn, struct buf *m, struct x11_fwd **xp, int *ok);
/*
 * x11_child: the session child's X11 fields (DISPLAY, and the display name,
 * protocol and cookie for ~/.ssh/rc or xauth(1)); nothing without X11.
 */
struct session_child;
void x11_child(const struct x11_fwd *x, struct session_child *ch);
void x11_free(struct conn *conn, struct x11_fwd *x);
int x11_poll_prepare(struct conn *conn);
int x11_poll_handle(struct conn *conn);
void x11_cleanup_all(struct conn *conn);
/*
 * channel_session_service_done: the in-process service of a session ended
 * with exit status, or, sig not 0, as if killed by signal sig: EOF,
 * exit-status (exit-signal) and CLOSE follow.
 */
void channel_session_service_done(
    struct conn *conn, struct channel *c, int status, int sig);

/* sftp_channel.c */
/*
 * chan_sftp_start: serve "internal-sftp [flags]" on session channel c
 * in-process (c->svc). rc_pid > 0: the rc child that runs first
 * (session_exec_rc_start), rc_fd its stdout (ours to close, even on
 * failure): SFTP starts once it has ended (chan_sftp_reaped), its output
 * first. 0, or ERR_CONFIG for a bad command line, ERR_ALLOC.
 * chan_sftp_reaped: 1 if pid was c's rc child, now ended.
 */
int chan_sftp_start(struct conn *conn, struct channel *c, const char *command,
    pid_t rc_pid, int rc_fd);
int chan_sftp_reaped(struct channel *c, pid_t pid);
/* chan_is_sftp: 1 while internal-sftp serves c in this process. */
int chan_is_sftp(const struct channel *c);

/* session_run.c */
int conn_pfd_add(struct conn *conn, int fd, short events);
/* conn_protocol_error: log, send DISCONNECT and return ERR_PROTOCOL. */
int conn_protocol_error(struct conn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* conn_is_decode_error: the code means the peer's message was malformed. */
int conn_is_decode_error(int r);

#endif
