/*
 * channel.c: the channel table, the CHANNEL_* messages and the generic data
 * path between a channel and its file descriptors (RFC 4254 s5).
 *
 * Design
 *
 * Structure. A channel is a slot in conn->chans (our id is its index) with
 * a struct channel_type that supplies what is specific to it: decoding the
 * CHANNEL_OPEN fields, a table of channel requests, and hooks for the last
 * messages before CLOSE and for freeing. To add a channel type, write a
 * struct channel_type (see channel_session.c) and list it in
 * channel_types[] below; to add a request, add a {name, handler} row to the
 * type's table. Everything else (windows, packet sizes, EOF and CLOSE, the
 * fds) is done here once for every type.
 *
 * Data path. A channel has up to three fds: rfd (read, sent as
 * CHANNEL_DATA), efd (read, sent as EXTENDED_DATA stderr) and wfd (written
 * with the peer's CHANNEL_DATA). Reads go straight into the payloads of
 * outgoing packets: one readv(2) fills up to TRANSPORT_BATCH_MAX packets
 * laid out back to back in the transport's output (at most
 * CHAN_BATCH_BYTES; a streaming child's pipe is enlarged to CHAN_PIPE_BYTES
 * so that it can keep writing meanwhile), each sealed in place,
 * so each byte is copied once between the fd and the socket. While the
 * transport cannot (key exchange, compression) one packet is begun,
 * reserved and read into instead. Reads never exceed the peer's window or
 * maximum packet, and no fd is read while the window is closed or the
 * transport output is congested. Peer data is
 * written to wfd directly from the received packet; what the fd does not
 * take waits in obuf. Our window is re-opened only for bytes actually
 * written (or discarded because the write side is gone), so obuf never
 * holds more than one window. A datagram channel (tun@openssh.com: the
 * type's dgram_read and dgram_write) moves one datagram per CHANNEL_DATA
 * instead, with one read per packet and no obuf: a datagram the peer's
 * window or maximum packet cannot take, or wfd does not, is dropped.
 *
 * Ordering. The transport queue is FIFO, and per channel we queue in this
 * order only:
 *  1. CHANNEL_DATA / EXTENDED_DATA, while rfd or efd is open;
 *  2. CHANNEL_EOF, once rfd and efd have both read end-of-file (both
 *     pipes drained, even if the child exited long before) and the type
 *     says it is ready (the child has been reaped): a client may close as
 *     soon as it has EOF, so EOF and the last requests go out together;
 *  3. the type's last requests (exit-status or exit-signal);
 *  4. CHANNEL_CLOSE; after it nothing more is sent on the channel.
 * channel_tick() checks these conditions in this order on every loop turn.
 * A peer CLOSE short-cuts it: the type's peer_closed hook runs (a session
 * reaps a child that has exited, else SIGHUPs it), fds are closed (wfd
 * only once what the peer sent is written out), the last requests go
 * out if EOF did and they are ready, and our CLOSE is sent at once. The
 * slot is freed only when CLOSE went both ways.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "transport.h"
#include "session.h"
#include "channel.h"

/* The channel types we accept in CHANNEL_OPEN. */
static const struct channel_type *const channel_types[] = {
    &channel_type_session,
    &channel_type_tun,
    &channel_type_direct_tcpip,
    &channel_type_direct_streamlocal,
    NULL,
};

#define CHAN_CONFIRMED 0x100 /* OPEN_CONFIRMATION sent: type state exists */
/* The peer's open waits for our answer (CHAN_OPEN_LATER; with OPENING). */
#define CHAN_PENDING 0x200
/* The type's write_failed hook ran (CHAN_WRITE_FAILED). */
#define CHAN_WRITE_TOLD 0x400

/* Most data we put in one packet, whatever the peer allows. */
#define CHAN_DATA_MAX (TRANSPORT_MAX_PAYLOAD - 64)
/* Compressed, data that does not compress grows a little (zlib's stored
 * blocks): room for that within the packet size limit. */
#define CHAN_DATA_MAX_ZLIB (CHAN_DATA_MAX - 4096)
/*
 * At most this much output per read: the bytes read are sealed and written
 * to the socket while they are still in the CPU's cache (measured with
 * `make bench`: 1 MiB reads cost ~8% more server CPU per GiB downloaded).
 */
#define CHAN_BATCH_BYTES (256 * 1024)
/* After this much output (or input) the child streams: its pipe
 * (session_exec.c makes them 256 KiB) is enlarged to CHAN_PIPE_BYTES, so
 * that it can run ahead while we wait for the socket. */
#define CHAN_PIPE_BYTES (1024 * 1024)
#define CHAN_PIPE_GROW_AT (4 * 1024 * 1024)
/* A datagram channel's largest datagram (tun(4) MTU 65535 and a 4-byte
 * header), and how many it reads per loop turn before the others' turn. */
#define CHAN_DGRAM_MAX (64 * 1024 + 4)
#define CHAN_DGRAM_BURST 64
/* An emptied obuf larger than this is released: idle channels stay small. */
#define CHAN_OBUF_KEEP (64 * 1024)

/*
 * Let go of one of c's descriptors; it closes once no other of them is
 * the same one (a socket serves as both rfd and wfd, so that a forward
 * costs the user one descriptor, as in sshd).
 */
static void
chan_close_fd(struct channel *c, int *fdp)
{
	int fd = *fdp;

	if (fd < 0)
		return;
	*fdp = -1;
	if (fd != c->rfd && fd != c->wfd && fd != c->efd)
		close(fd);
}

/* Write v big-endian into 4 bytes the caller reserved in a packet. */
static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static struct channel *
channel_new(struct conn *conn, const struct channel_type *type)
{
	struct channel *c, **n;
	uint32_t id, nslots;

	for (id = 0; id < conn->nslots; id++) {
		if (conn->chans[id] == NULL)
			break;
	}
	if (id == conn->nslots) {
		if (conn->nslots >= CHAN_MAX)
			return NULL;
		nslots = conn->nslots == 0 ? 8 : conn->nslots * 2;
		if (nslots > CHAN_MAX)
			nslots = CHAN_MAX;
		if ((n = reallocarray(conn->chans, nslots, sizeof(*n))) == NULL)
			return NULL;
		memset(
		    n + conn->nslots, 0, (nslots - conn->nslots) * sizeof(*n));
		conn->chans = n;
		conn->nslots = nslots;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->obuf = buf_new(CHAN_WINDOW_DEFAULT)) == NULL) {
		free(c);
		return NULL;
	}
	c->id = id;
	c->type = type;
	c->local_window = c->local_window_max = CHAN_WINDOW_DEFAULT;
	c->local_maxpacket = CHAN_PACKET_DEFAULT;
	c->rfd = c->efd = c->wfd = -1;
	c->rfd_pi = c->efd_pi = c->wfd_pi = -1;
	c->last_io = conn->now_ms;
	channel_set_timeout_type(conn, c,
	    type->timeout_name != NULL ? type->timeout_name : type->name);
	conn->chans[id] = c;
	conn->nopen++;
	return c;
}

static void
channel_destroy(struct conn *conn, struct channel *c)
{
	debug2("channel %u: free", c->id);
	if (c->svc != NULL && c->svc->free != NULL)
		c->svc->free(conn, c);
	if ((c->flags & CHAN_CONFIRMED) && c->type->free != NULL)
		c->type->free(conn, c);
	chan_close_fd(c, &c->rfd);
	chan_close_fd(c, &c->efd);
	chan_close_fd(c, &c->wfd);
	buf_free(c->obuf);
	conn->chans[c->id] = NULL;
	conn->nopen--;
	free(c);
}

void
channel_free_all(struct conn *conn)
{
	uint32_t id;

	for (id = 0; id < conn->nslots; id++) {
		if (conn->chans[id] != NULL)
			channel_destroy(conn, conn->chans[id]);
	}
	free(conn->chans);
	conn->chans = NULL;
	conn->nslots = 0;
	/* The children closed sessions left: no longer waited for. */
	free(conn->detached);
	conn->detached = NULL;
	conn->ndetached = 0;
}

void
channel_attach_fds(struct channel *c, int rfd, int wfd, int efd)
{
	c->rfd = rfd;
	c->wfd = wfd;
	c->efd = efd;
	c->flags |= CHAN_IO;
}

/* Drop buffered peer data, crediting it to the window, and shrink obuf. */
static void
chan_obuf_discard(struct channel *c)
{
	struct buf *n;

	c->local_consumed += (uint32_t)buf_len(c->obuf);
	buf_reset(c->obuf);
	if (c->obuf->cap > CHAN_OBUF_KEEP &&
	    (n = buf_new(CHAN_WINDOW_DEFAULT)) != NULL) {
		buf_free(c->obuf);
		c->obuf = n;
	}
}

void
channel_write_done(struct channel *c)
{
	if (c->wfd >= 0)
		debug2("channel %u: write side closed", c->id);
	if (c->wfd >= 0 || buf_len(c->obuf) > 0)
		c->flags |= CHAN_WRITE_FAILED;
	chan_close_fd(c, &c->wfd);
	chan_obuf_discard(c);
}

/* Close every fd: the channel no longer forwards anything. */
static void
chan_stop_io(struct channel *c)
{
	chan_close_fd(c, &c->rfd);
	chan_close_fd(c, &c->efd);
	channel_write_done(c);
}

/* Messages to the peer. */

static int
chan_send_id_only(struct conn *conn, struct channel *c, uint8_t type)
{
	struct buf *m;
	int r;

	if ((r = transport_packet_begin(conn->t, type, &m)) != 0 ||
	    (r = buf_put_u32(m, c->peer_id)) != 0)
		return r;
	return transport_packet_send(conn->t);
}

static int
chan_send_open_failure(
    struct conn *conn, uint32_t peer_id, uint32_t reason, const char *desc)
{
	struct buf *m;
	int r;

	if ((r = transport_packet_begin(
	         conn->t, SSH2_MSG_CHANNEL_OPEN_FAILURE, &m)) != 0 ||
	    (r = buf_put_u32(m, peer_id)) != 0 ||
	    (r = buf_put_u32(m, reason)) != 0 ||
	    (r = buf_put_cstring(m, desc)) != 0 ||
	    (r = buf_put_cstring(m, "")) != 0)
		return r;
	return transport_packet_send(conn->t);
}

static int
chan_send_open_confirmation(struct conn *conn, struct channel *c)
{
	struct buf *m;
	int r;

	if ((r = transport_packet_begin(
	         conn->t, SSH2_MSG_CHANNEL_OPEN_CONFIRMATION, &m)) != 0 ||
	    (r = buf_put_u32(m, c->peer_id)) != 0 ||
	    (r = buf_put_u32(m, c->id)) != 0 ||
	    (r = buf_put_u32(m, c->local_window)) != 0 ||
	    (r = buf_put_u32(m, c->local_maxpacket)) != 0)
		return r;
	return transport_packet_send(conn->t);
}

struct channel *
channel_find_open(struct conn *conn)
{
	struct channel *c;
	uint32_t id;

	for (id = 0; id < conn->nslots; id++)
		if ((c = conn->chans[id]) != NULL &&
		    !(c->flags &
		        (CHAN_OPENING | CHAN_SENT_CLOSE | CHAN_RCVD_CLOSE)))
			return c;
	return NULL;
}

int
channel_request_begin(
    struct conn *conn, struct channel *c, const char *name, struct buf **mp)
{
	int r;

	if ((r = transport_packet_begin(
	         conn->t, SSH2_MSG_CHANNEL_REQUEST, mp)) != 0 ||
	    (r = buf_put_u32(*mp, c->peer_id)) != 0 ||
	    (r = buf_put_cstring(*mp, name)) != 0 ||
	    (r = buf_put_bool(*mp, 0)) != 0)
		return r;
	return 0;
}

static int
chan_data_begin(struct conn *conn, struct channel *c, int ext, struct buf **mp)
{
	int r;

	if ((r = transport_packet_begin(conn->t,
	         ext ? SSH2_MSG_CHANNEL_EXTENDED_DATA : SSH2_MSG_CHANNEL_DATA,
	         mp)) != 0 ||
	    (r = buf_put_u32(*mp, c->peer_id)) != 0)
		return r;
	if (ext && (r = buf_put_u32(*mp, SSH2_EXTENDED_DATA_STDERR)) != 0)
		return r;
	return 0;
}

/* Messages from the peer. */

/*
 * A message for a channel that does not exist ends the connection, in
 * sshd's words (its DISCONNECT text is what the client prints).
 */
static int
chan_unknown(struct conn *conn, uint32_t id, uint8_t type)
{
	const char *what;

	switch (type) {
	case SSH2_MSG_CHANNEL_REQUEST:
		return conn_protocol_error(
		    conn, "server_input_channel_req: unknown channel %u", id);
	case SSH2_MSG_CHANNEL_DATA:
		what = "data";
		break;
	case SSH2_MSG_CHANNEL_EXTENDED_DATA:
		what = "extended data";
		break;
	case SSH2_MSG_CHANNEL_EOF:
		what = "ieof";
		break;
	case SSH2_MSG_CHANNEL_CLOSE:
		what = "oclose";
		break;
	default:
		return conn_protocol_error(
		    conn, "message %u for unknown channel %u", type, id);
	}
	return conn_protocol_error(
	    conn, "%s packet referred to nonexistent channel %u", what, id);
}

/* The open channel the peer calls id; a protocol error if there is none. */
static int
chan_lookup(struct conn *conn, uint32_t id, uint8_t type, struct channel **cp)
{
	struct channel *c = id < conn->nslots ? conn->chans[id] : NULL;

	*cp = NULL;
	if (c == NULL)
		return chan_unknown(conn, id, type);
	if (c->flags & CHAN_RCVD_CLOSE) /* for the peer, it is gone */
		return chan_unknown(conn, id, type);
	if (c->flags & CHAN_OPENING)
		return conn_protocol_error(conn,
		    "message %u for channel %u before its confirmation", type,
		    id);
	*cp = c;
	return 0;
}

static const struct channel_type *
chan_type_find(const char *name)
{
	size_t i;

	for (i = 0; channel_types[i] != NULL; i++) {
		if (strcmp(channel_types[i]->name, name) == 0)
			return channel_types[i];
	}
	return NULL;
}

static int
chan_input_open(struct conn *conn, struct buf *m)
{
	const struct channel_type *type;
	struct channel *c = NULL;
	uint32_t peer_id, window, maxpacket, reason = 0;
	char *ctype = NULL;
	int r;

	if ((r = buf_get_cstring(m, &ctype, NULL)) != 0 ||
	    (r = buf_get_u32(m, &peer_id)) != 0 ||
	    (r = buf_get_u32(m, &window)) != 0 ||
	    (r = buf_get_u32(m, &maxpacket)) != 0)
		goto out;
	debug("server_input_channel_open: ctype %.127s rchan %u win %u max %u",
	    ctype, peer_id, window, maxpacket);
	if ((type = chan_type_find(ctype)) == NULL) {
		debug("server_input_channel_open: unknown channel type %.127s",
		    ctype);
		/* As sshd: no type of its own, and its words. */
		r = chan_send_open_failure(
		    conn, peer_id, SSH2_OPEN_CONNECT_FAILED, "open failed");
		goto out;
	}
	if ((c = channel_new(conn, type)) == NULL) {
		error_f("cannot open channel: %u open", conn->nopen);
		r = chan_send_open_failure(conn, peer_id,
		    SSH2_OPEN_RESOURCE_SHORTAGE, "too many channels");
		goto out;
	}
	c->peer_id = peer_id;
	c->remote_window = window;
	c->remote_maxpacket = maxpacket;
	if ((r = type->open(conn, c, m, &reason)) != 0)
		goto out;
	if (reason == CHAN_OPEN_LATER) {
		/* No I/O and no messages until channel_open_confirm(). */
		c->flags |= CHAN_CONFIRMED | CHAN_OPENING | CHAN_PENDING;
		debug2("channel %u: %.127s open pending", c->id, ctype);
		c = NULL;
		goto out;
	}
	if (reason != 0) {
		debug("server_input_channel_open: failure %.127s", ctype);
		r = chan_send_open_failure(
		    conn, peer_id, reason, "open failed");
		goto out;
	}
	c->flags |= CHAN_CONFIRMED;
	debug("channel %u: %.127s open, peer %u", c->id, ctype, peer_id);
	r = chan_send_open_confirmation(conn, c);
	c = NULL;
out:
	if (c != NULL)
		channel_destroy(conn, c);
	free(ctype);
	return r;
}

static int
chan_input_window_adjust(struct conn *conn, struct buf *m)
{
	struct channel *c;
	uint32_t id, add;
	int r;

	if ((r = buf_get_u32(m, &id)) != 0 || (r = buf_get_u32(m, &add)) != 0 ||
	    (r = buf_end(m)) != 0)
		return r;
	if (id >= conn->nslots || conn->chans[id] == NULL) {
		/* As sshd: logged, and the connection goes on. */
		logit("Received window adjust for non-open channel %u.", id);
		return 0;
	}
	if (conn->chans[id]->flags & CHAN_RCVD_CLOSE) {
		/* As sshd, whose channel outlives the peer's CLOSE a while. */
		debug2("channel %u: window adjust after close ignored", id);
		return 0;
	}
	if ((r = chan_lookup(conn, id, SSH2_MSG_CHANNEL_WINDOW_ADJUST, &c)) !=
	    0)
		return r;
	if (add > UINT32_MAX - c->remote_window)
		return conn_protocol_error(conn,
		    "channel %u: window adjust %u overflows window %u", id, add,
		    c->remote_window);
	c->remote_window += add;
	debug3("channel %u: window %u (+%u)", id, c->remote_window, add);
	return 0;
}

/*
 * Count n more bytes for fd (the child's stdout or stdin, -1 while there
 * is none yet); once the child streams (CHAN_PIPE_GROW_AT), enlarge its
 * pipe to CHAN_PIPE_BYTES, once (grown_flag): fewer, larger reads and
 * writes, each waking the child at most once. Only for a streaming child,
 * so that idle sessions do not use up the user's pipe allowance
 * (fs.pipe-user-pages-soft). Best effort: not a pipe, or over the limit,
 * and it stays as it is.
 */
static void
chan_pipe_stream(
    struct channel *c, int fd, uint64_t *total, size_t n, int grown_flag)
{
	*total += n;
	if (fd >= 0 && *total >= CHAN_PIPE_GROW_AT &&
	    !(c->flags & grown_flag)) {
		c->flags |= grown_flag;
		(void)fcntl(fd, F_SETPIPE_SZ, CHAN_PIPE_BYTES);
	}
}

/*
 * Write peer data (cnt pieces, in order) to wfd with one writev if nothing
 * is queued; what it does not take waits in obuf. A write error closes
 * the write side, and the rest counts as handed on.
 */
static int
chan_write_pieces(struct channel *c, const struct iovec *iov, int cnt)
{
	ssize_t n = 0;
	size_t done, len;
	int i, r;

	if (c->wfd >= 0 && buf_len(c->obuf) == 0) {
		do {
			n = writev(c->wfd, iov, cnt);
		} while (n == -1 && errno == EINTR);
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				debug2("channel %u: write failed: %s", c->id,
				    strerror(errno));
				channel_write_done(c);
			}
			n = 0;
		}
		c->local_consumed += (uint32_t)n;
	}
	done = (size_t)n;
	for (i = 0; i < cnt; i++) {
		len = iov[i].iov_len;
		if (done >= len) {
			done -= len;
			continue;
		}
		if (c->wfd < 0 && (c->flags & CHAN_IO)) {
			/* The write side is gone: nobody to take it. */
			c->local_consumed += (uint32_t)(len - done);
		} else if ((r = buf_put(c->obuf,
		                (const uint8_t *)iov[i].iov_base + done,
		                len - done)) != 0)
			return r; /* cannot overflow: obuf + window <= max */
		done = 0;
	}
	return 0;
}

int
channel_deliver_flush(struct conn *conn)
{
	size_t i = 0, j;
	int r = 0;

	while (i < conn->npend && r == 0) {
		/* The next run of one channel's pieces, in order. */
		for (j = i + 1; j < conn->npend &&
		     conn->pend_chan[j] == conn->pend_chan[i];
		     j++)
			;
		r = chan_write_pieces(
		    conn->pend_chan[i], &conn->pend_iov[i], (int)(j - i));
		i = j;
	}
	conn->npend = 0;
	return r;
}

/*
 * Hand peer data to wfd. While the packet stays in the transport's input
 * (transport_payload_stays), it is gathered with the rest of the read's
 * and written by channel_deliver_flush: one writev per read, so a pipe's
 * reader wakes once per read instead of once per packet. Otherwise it is
 * written now, or queued in obuf behind what waits there.
 */
static int
chan_deliver(struct conn *conn, struct channel *c, const uint8_t *p, size_t len)
{
	struct iovec one;
	int stays = transport_payload_stays(conn->t), r;

	if ((c->flags & CHAN_IO) && c->wfd < 0) {
		c->local_consumed += (uint32_t)len; /* nobody to take it */
		return 0;
	}
	chan_pipe_stream(c, c->wfd, &c->wfd_total, len, CHAN_WFD_GROWN);
	/* What is gathered goes first, in order. */
	if (conn->npend > 0 && (conn->npend == CHAN_PEND_MAX || !stays) &&
	    (r = channel_deliver_flush(conn)) != 0)
		return r;
	one.iov_base = (void *)(uintptr_t)p;
	one.iov_len = len;
	if (stays && c->wfd >= 0 && buf_len(c->obuf) == 0) {
		conn->pend_chan[conn->npend] = c;
		conn->pend_iov[conn->npend++] = one;
		return 0;
	}
	return chan_write_pieces(c, &one, 1);
}

static int
chan_input_data(struct conn *conn, uint8_t type, struct buf *m)
{
	struct channel *c;
	const uint8_t *data;
	uint32_t id, code = 0;
	size_t len;
	int r, ext = type == SSH2_MSG_CHANNEL_EXTENDED_DATA;

	if ((r = buf_get_u32(m, &id)) != 0 ||
	    (ext && (r = buf_get_u32(m, &code)) != 0) ||
	    (r = buf_get_string_direct(m, &data, &len)) != 0 ||
	    (r = buf_end(m)) != 0)
		return r;
	if ((r = chan_lookup(conn, id, type, &c)) != 0)
		return r;
	if (c->flags & CHAN_SENT_CLOSE)
		return 0; /* crossed our CLOSE on the wire */
	if (len > c->local_maxpacket)
		return conn_protocol_error(conn,
		    "channel %u: data of %zu bytes exceeds packet size %u", id,
		    len, c->local_maxpacket);
	if (len > c->local_window)
		return conn_protocol_error(conn,
		    "channel %u: data of %zu bytes exceeds window %u", id, len,
		    c->local_window);
	c->local_window -= (uint32_t)len;
	c->last_io = conn->now_ms;
	if (c->flags & CHAN_RCVD_EOF) {
		if (ext) /* as sshd */
			return conn_protocol_error(conn,
			    "Received extended_data after EOF on channel %u.",
			    id);
		/*
		 * RFC 4254 s5.3 forbids it; sshd drops it and counts it as
		 * consumed (its window re-opens), and so does postern: a
		 * sloppy client loses these bytes, not its connection.
		 */
		debug2(
		    "channel %u: %zu bytes of data after EOF dropped", id, len);
		c->local_consumed += (uint32_t)len;
		return 0;
	}
	if (ext) {
		/* Nothing reads the peer's stderr: discarded, as sshd logs. */
		logit("channel %u: bad ext data", id);
		debug2("channel %u: ignoring %zu bytes of extended data %u", id,
		    len, code);
		c->local_consumed += (uint32_t)len;
		return 0;
	}
	if (c->svc != NULL)
		return c->svc->data(conn, c, data, len);
	if (c->type->dgram_write != NULL) {
		/* One datagram: written whole or dropped, never queued. */
		if (c->wfd >= 0)
			c->type->dgram_write(c, c->wfd, data, len);
		c->local_consumed += (uint32_t)len;
		return 0;
	}
	return chan_deliver(conn, c, data, len);
}

static int
chan_input_eof(struct conn *conn, struct buf *m)
{
	struct channel *c;
	uint32_t id;
	int r;

	if ((r = buf_get_u32(m, &id)) != 0 || (r = buf_end(m)) != 0)
		return r;
	if ((r = chan_lookup(conn, id, SSH2_MSG_CHANNEL_EOF, &c)) != 0)
		return r;
	if (c->flags & CHAN_RCVD_EOF)
		debug("channel %u: duplicate EOF ignored", id);
	debug2("channel %u: rcvd eof", id);
	/* channel_tick closes wfd once obuf is written out. */
	c->flags |= CHAN_RCVD_EOF;
	return 0;
}

static int
chan_input_close(struct conn *conn, struct buf *m)
{
	struct channel *c;
	uint32_t id;
	int r;

	if ((r = buf_get_u32(m, &id)) != 0 || (r = buf_end(m)) != 0)
		return r;
	if ((r = chan_lookup(conn, id, SSH2_MSG_CHANNEL_CLOSE, &c)) != 0)
		return r;
	debug2("channel %u: rcvd close", id);
	c->flags |= CHAN_RCVD_CLOSE;
	if (c->type->peer_closed != NULL)
		c->type->peer_closed(conn, c);
	/*
	 * As OpenSSH: what the peer sent before its CLOSE still reaches wfd
	 * (a forwarded socket whose reader is slower than the peer), with or
	 * without an EOF first (Go's x/crypto/ssh Close() sends none);
	 * channel_tick frees the channel once obuf is written out.
	 */
	if (c->wfd >= 0 && buf_len(c->obuf) > 0) {
		chan_close_fd(c, &c->rfd);
		chan_close_fd(c, &c->efd);
	} else
		chan_stop_io(c);
	/* All data went out (EOF sent): the type's last words, if ready. */
	if (!(c->flags & CHAN_SENT_CLOSE) && (c->flags & CHAN_SENT_EOF) &&
	    (c->type->close_ready == NULL || c->type->close_ready(conn, c)) &&
	    c->type->before_close != NULL &&
	    (r = c->type->before_close(conn, c)) != 0)
		return r;
	if (!(c->flags & CHAN_SENT_CLOSE)) {
		c->flags |= CHAN_SENT_CLOSE;
		debug2("channel %u: send close", id);
		if ((r = chan_send_id_only(conn, c, SSH2_MSG_CHANNEL_CLOSE)) !=
		    0)
			return r;
	}
	return 0; /* channel_tick frees it */
}

static int
chan_input_request(struct conn *conn, struct buf *m)
{
	const struct channel_req *req;
	struct channel *c;
	char *name = NULL;
	uint32_t id;
	int r, want_reply, ok = 0;

	if ((r = buf_get_u32(m, &id)) != 0 ||
	    (r = buf_get_cstring(m, &name, NULL)) != 0 ||
	    (r = buf_get_bool(m, &want_reply)) != 0)
		goto out;
	if ((r = chan_lookup(conn, id, SSH2_MSG_CHANNEL_REQUEST, &c)) != 0)
		goto out;
	debug("session_input_channel_req: channel %u rtype %.127s reply %d", id,
	    name, want_reply);
	if (c->flags & CHAN_SENT_CLOSE)
		goto out; /* no reply may follow our CLOSE */
	for (req = c->type->reqs; req != NULL && req->name != NULL; req++) {
		if (strcmp(req->name, name) == 0)
			break;
	}
	if (req != NULL && req->name != NULL) {
		if ((r = req->fn(conn, c, m, &ok)) != 0)
			goto out;
	} else
		debug("channel %u: unsupported request %.127s", id, name);
	if (want_reply)
		r = chan_send_id_only(conn, c,
		    ok ? SSH2_MSG_CHANNEL_SUCCESS : SSH2_MSG_CHANNEL_FAILURE);
out:
	free(name);
	return r;
}

int
channel_open_begin(struct conn *conn, const struct channel_type *type,
    struct channel **cp, struct buf **mp)
{
	struct channel *c;
	int r;

	*cp = NULL;
	if ((c = channel_new(conn, type)) == NULL) {
		error_f(
		    "cannot open %s channel: %u open", type->name, conn->nopen);
		return ERR_LIMIT;
	}
	c->flags |= CHAN_OPENING | CHAN_CONFIRMED; /* type state exists */
	if ((r = transport_packet_begin(conn->t, SSH2_MSG_CHANNEL_OPEN, mp)) !=
	        0 ||
	    (r = buf_put_cstring(*mp, type->name)) != 0 ||
	    (r = buf_put_u32(*mp, c->id)) != 0 ||
	    (r = buf_put_u32(*mp, c->local_window)) != 0 ||
	    (r = buf_put_u32(*mp, c->local_maxpacket)) != 0)
		return r; /* the connection ends: channel_free_all frees it */
	debug("channel %u: opening %s", c->id, type->name);
	*cp = c;
	return 0;
}

int
channel_open_confirm(struct conn *conn, struct channel *c)
{
	c->flags &= ~(CHAN_OPENING | CHAN_PENDING);
	c->last_io = conn->now_ms;
	debug("channel %u: %s open, peer %u", c->id, c->type->name, c->peer_id);
	return chan_send_open_confirmation(conn, c);
}

int
channel_open_fail(
    struct conn *conn, struct channel *c, uint32_t reason, const char *desc)
{
	uint32_t peer_id = c->peer_id;

	debug("channel %u: %s open failed, reason %u", c->id, c->type->name,
	    reason);
	channel_destroy(conn, c);
	return chan_send_open_failure(conn, peer_id, reason, desc);
}

/* The channel we opened that the peer answers about (ours, opening). */
static int
chan_lookup_opening(
    struct conn *conn, uint32_t id, uint8_t type, struct channel **cp)
{
	struct channel *c = id < conn->nslots ? conn->chans[id] : NULL;

	*cp = c;
	if (c == NULL || !(c->flags & CHAN_OPENING) ||
	    (c->flags & CHAN_PENDING))
		return conn_protocol_error(conn,
		    "message %u for channel %u that we are not opening", type,
		    id);
	return 0;
}

static int
chan_input_open_confirmation(struct conn *conn, struct buf *m)
{
	struct channel *c;
	uint32_t id, peer_id, window, maxpacket;
	int r;

	if ((r = buf_get_u32(m, &id)) != 0 ||
	    (r = buf_get_u32(m, &peer_id)) != 0 ||
	    (r = buf_get_u32(m, &window)) != 0 ||
	    (r = buf_get_u32(m, &maxpacket)) != 0 || (r = buf_end(m)) != 0)
		return r;
	if ((r = chan_lookup_opening(
	         conn, id, SSH2_MSG_CHANNEL_OPEN_CONFIRMATION, &c)) != 0)
		return r;
	c->flags &= ~CHAN_OPENING;
	c->peer_id = peer_id;
	c->remote_window = window;
	c->remote_maxpacket = maxpacket;
	c->last_io = conn->now_ms;
	debug2("channel %u: open confirmed, peer %u win %u max %u", id, peer_id,
	    window, maxpacket);
	return 0;
}

/* RFC 4254 5.1's reason codes in sshd's words. */
static const char *
open_reason_txt(uint32_t reason)
{
	switch (reason) {
	case SSH2_OPEN_ADMINISTRATIVELY_PROHIBITED:
		return "administratively prohibited";
	case SSH2_OPEN_CONNECT_FAILED:
		return "connect failed";
	case SSH2_OPEN_UNKNOWN_CHANNEL_TYPE:
		return "unknown channel type";
	case SSH2_OPEN_RESOURCE_SHORTAGE:
		return "resource shortage";
	}
	return "unknown reason";
}

static int
chan_input_open_failure(struct conn *conn, struct buf *m)
{
	struct channel *c;
	uint32_t id, reason;
	char *desc = NULL;
	int r;

	if ((r = buf_get_u32(m, &id)) != 0 ||
	    (r = buf_get_u32(m, &reason)) != 0 ||
	    (r = buf_get_cstring(m, &desc, NULL)) != 0 ||
	    (r = buf_skip_string(m)) != 0 || (r = buf_end(m)) != 0)
		goto out;
	if ((r = chan_lookup_opening(
	         conn, id, SSH2_MSG_CHANNEL_OPEN_FAILURE, &c)) != 0)
		goto out;
	/* sshd's line (INFO): the client refused a channel we opened,
	 * e.g. a -R forward's target that is not listening. */
	logit("channel %u: open failed: %s: %.127s", id,
	    open_reason_txt(reason), desc);
	channel_destroy(conn, c);
out:
	free(desc);
	return r;
}

void
channel_idle_close(struct conn *conn, struct channel *c)
{
	verbose("channel %u: closing after %d seconds of inactivity", c->id,
	    c->idle_timeout);
	c->idle_timeout = 0;
	if (c->type->peer_closed != NULL)
		c->type->peer_closed(conn, c);
	chan_stop_io(c);
	/* An in-process service (internal-sftp) has no fds to run dry: it
	 * ends here, and EOF and CLOSE follow as for a program's. */
	if (c->svc != NULL)
		c->flags |= CHAN_IO;
}

int
channel_input(struct conn *conn, uint8_t type, struct buf *m)
{
	switch (type) {
	case SSH2_MSG_CHANNEL_OPEN:
		return chan_input_open(conn, m);
	case SSH2_MSG_CHANNEL_OPEN_CONFIRMATION:
		return chan_input_open_confirmation(conn, m);
	case SSH2_MSG_CHANNEL_OPEN_FAILURE:
		return chan_input_open_failure(conn, m);
	case SSH2_MSG_CHANNEL_WINDOW_ADJUST:
		return chan_input_window_adjust(conn, m);
	case SSH2_MSG_CHANNEL_DATA:
	case SSH2_MSG_CHANNEL_EXTENDED_DATA:
		return chan_input_data(conn, type, m);
	case SSH2_MSG_CHANNEL_EOF:
		return chan_input_eof(conn, m);
	case SSH2_MSG_CHANNEL_CLOSE:
		return chan_input_close(conn, m);
	case SSH2_MSG_CHANNEL_REQUEST:
		return chan_input_request(conn, m);
	default:
		/* We send no channel requests that want replies. */
		return conn_protocol_error(conn, "unexpected message %u", type);
	}
}

/* The fd side. */

size_t
channel_send_room(struct conn *conn, struct channel *c)
{
	size_t room = c->remote_window;

	if (room > c->remote_maxpacket)
		room = c->remote_maxpacket;
	if (room > CHAN_DATA_MAX)
		room = CHAN_DATA_MAX;
	if (room > CHAN_DATA_MAX_ZLIB && transport_send_compressed(conn->t))
		room = CHAN_DATA_MAX_ZLIB;
	if (room > 0 && transport_output_congested(conn->t))
		room = 0;
	/*
	 * As sshd, no data while a key exchange runs, up to the peer's
	 * NEWKEYS: sent under our new keys before then, it would be past
	 * RekeyLimit by the time the next exchange may start (MBs to a
	 * client slow to answer, such as PuTTY).
	 */
	if (room > 0 && transport_kex_busy(conn->t))
		room = 0;
	return room;
}

/*
 * Read up to want bytes from fd straight into a new data packet and queue
 * it. *nread is read(2)'s result; if it is <= 0 the packet is dropped.
 * A datagram channel's read is one datagram (type->dgram_read), dropped
 * as sshd drops it when the peer's window or maximum packet is smaller.
 */
static int
chan_read_packet(struct conn *conn, struct channel *c, int fd, int ext,
    size_t want, ssize_t *nread)
{
	struct buf *m;
	uint8_t *p;
	ssize_t n;
	size_t got;
	int r;

	*nread = 0;
	if ((r = chan_data_begin(conn, c, ext, &m)) != 0 ||
	    (r = buf_reserve(m, 4 + want, &p)) != 0)
		return r;
	do {
		n = c->type->dgram_read != NULL && !ext
		    ? c->type->dgram_read(c, fd, p + 4, want)
		    : read(fd, p + 4, want);
	} while (n == -1 && errno == EINTR);
	*nread = n;
	if (n <= 0) {
		transport_packet_cancel(conn->t);
		return 0;
	}
	got = (size_t)n;
	if (got > c->remote_window || got > c->remote_maxpacket) {
		debug("channel %u: datagram too big", c->id);
		transport_packet_cancel(conn->t);
		return 0;
	}
	put_be32(p, (uint32_t)got);
	if ((r = buf_consume_end(m, want - got)) != 0)
		return r;
	c->remote_window -= (uint32_t)got;
	c->last_io = conn->now_ms;
	return transport_packet_send(conn->t);
}

/* Bytes one chan_read_batch asks for when a packet may carry per. */
static size_t
chan_batch_want(struct channel *c, size_t per)
{
	size_t want = c->remote_window;

	if (want > per * TRANSPORT_BATCH_MAX)
		want = per * TRANSPORT_BATCH_MAX;
	/* A peer's huge maximum packet must not make one read huge. */
	if (want > CHAN_BATCH_BYTES && per <= CHAN_BATCH_BYTES)
		want = CHAN_BATCH_BYTES;
	return want;
}

/*
 * Like chan_read_packet, but one read fills as many packets as the window
 * allows (see transport_read_packets); ERR_AGAIN when the transport cannot.
 */
static int
chan_read_batch(struct conn *conn, struct channel *c, int fd, int ext,
    size_t per, size_t want, ssize_t *nread)
{
	uint8_t prefix[9];
	size_t plen = 5;
	int r;

	prefix[0] =
	    ext ? SSH2_MSG_CHANNEL_EXTENDED_DATA : SSH2_MSG_CHANNEL_DATA;
	put_be32(prefix + 1, c->peer_id);
	if (ext) {
		put_be32(prefix + 5, SSH2_EXTENDED_DATA_STDERR);
		plen = 9;
	}
	if ((r = transport_read_packets(
	         conn->t, fd, prefix, plen, per, want, nread)) != 0 ||
	    *nread <= 0)
		return r;
	c->remote_window -= (uint32_t)*nread;
	c->last_io = conn->now_ms;
	if (!ext)
		chan_pipe_stream(
		    c, fd, &c->rfd_total, (size_t)*nread, CHAN_RFD_GROWN);
	return 0;
}

/* 1 if the fd read (rfd, or efd for ext) is drained: see CHAN_RFD_DRAIN. */
static int
chan_draining(const struct channel *c, int ext)
{
	return !ext && (c->flags & CHAN_RFD_DRAIN);
}

/* After read(2) gave n <= 0: close the fd unless it merely had nothing. */
static void
chan_read_ended(struct channel *c, int *fdp, ssize_t n, int ext)
{
	if (n == -1 &&
	    (errno == EINTR ||
	        (!chan_draining(c, ext) &&
	            (errno == EAGAIN || errno == EWOULDBLOCK))))
		return;
	if (n == -1 && errno != EIO) /* EIO: a pty whose slave closed */
		debug("channel %u: read %s failed: %s", c->id,
		    ext ? "stderr" : "output", strerror(errno));
	debug2("channel %u: %s eof", c->id, ext ? "stderr" : "output");
	chan_close_fd(c, fdp);
}

/*
 * Move what fd has into data packets, within the peer's window. Each read
 * asks for a whole packet's worth; a short read means fd is drained for
 * now, so no read is spent on learning that it is empty.
 */
static int
chan_read_fd(struct conn *conn, struct channel *c, int *fdp, int ext)
{
	size_t per, want;
	ssize_t n;
	int r;

	while ((per = channel_send_room(conn, c)) > 0) {
		want = chan_batch_want(c, per);
		r = chan_read_batch(conn, c, *fdp, ext, per, want, &n);
		if (r == ERR_AGAIN) {
			want = per;
			r = chan_read_packet(conn, c, *fdp, ext, want, &n);
		}
		if (r != 0)
			return r;
		if (n <= 0) {
			chan_read_ended(c, fdp, n, ext);
			return 0;
		}
		/* Draining, only "nothing left" ends the reads. */
		if ((size_t)n < want && !chan_draining(c, ext))
			return 0;
	}
	return 0;
}

/*
 * A datagram channel's rfd: each read is one datagram and one CHANNEL_DATA
 * (chan_read_packet), a few per loop turn while the peer's window is open.
 */
static int
chan_read_dgrams(struct conn *conn, struct channel *c)
{
	ssize_t n;
	int i, r;

	for (i = 0; i < CHAN_DGRAM_BURST && channel_send_room(conn, c) > 0;
	     i++) {
		if ((r = chan_read_packet(
		         conn, c, c->rfd, 0, CHAN_DGRAM_MAX, &n)) != 0)
			return r;
		if (n <= 0) {
			chan_read_ended(c, &c->rfd, n, 0);
			return 0;
		}
	}
	return 0;
}

/* CHAN_EFD_DISCARD: read what efd has and drop it, whatever the window. */
static void
chan_drain_efd(struct channel *c)
{
	char junk[4096];
	ssize_t n;
	int i;

	for (i = 0; i < 16; i++) {
		if ((n = read(c->efd, junk, sizeof(junk))) <= 0) {
			chan_read_ended(c, &c->efd, n, 1);
			return;
		}
		debug3("channel %u: discarded %zd bytes of stderr", c->id, n);
	}
}

static void
chan_write_fd(struct channel *c)
{
	ssize_t n;

	do {
		n = write(c->wfd, buf_ptr(c->obuf), buf_len(c->obuf));
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		debug2("channel %u: write failed: %s", c->id, strerror(errno));
		channel_write_done(c);
		return;
	}
	c->local_consumed += (uint32_t)n;
	(void)buf_consume(c->obuf, (size_t)n);
	if (buf_len(c->obuf) == 0)
		chan_obuf_discard(c); /* only shrinks: nothing left */
}

int
channel_poll_prepare(struct conn *conn)
{
	struct channel *c;
	uint32_t id;
	int can_send, pi;

	for (id = 0; id < conn->nslots; id++) {
		if ((c = conn->chans[id]) == NULL)
			continue;
		c->rfd_pi = c->efd_pi = c->wfd_pi = -1;
		if (c->flags & CHAN_OPENING)
			continue;
		can_send = channel_send_room(conn, c) > 0;
		if (c->rfd >= 0 && can_send) {
			if ((pi = conn_pfd_add(conn, c->rfd, POLLIN)) < 0)
				return pi;
			c->rfd_pi = pi;
		}
		if (c->efd >= 0 &&
		    (can_send || (c->flags & CHAN_EFD_DISCARD))) {
			if ((pi = conn_pfd_add(conn, c->efd, POLLIN)) < 0)
				return pi;
			c->efd_pi = pi;
		}
		if (c->wfd >= 0 && buf_len(c->obuf) > 0) {
			if ((pi = conn_pfd_add(conn, c->wfd, POLLOUT)) < 0)
				return pi;
			c->wfd_pi = pi;
		}
	}
	return 0;
}

/* 1 if poll set entry pi is fd and reported an event. */
static int
chan_ready(struct conn *conn, int pi, int fd)
{
	return pi >= 0 && fd >= 0 && (size_t)pi < conn->npfds &&
	    conn->pfds[pi].fd == fd && conn->pfds[pi].revents != 0;
}

int
channel_busy(struct conn *conn)
{
	struct channel *c;
	uint32_t id;

	for (id = 0; id < conn->nslots; id++)
		if ((c = conn->chans[id]) != NULL && c->svc != NULL &&
		    c->svc->busy != NULL && c->svc->busy(conn, c))
			return 1;
	return 0;
}

int
channel_poll_handle(struct conn *conn)
{
	struct channel *c;
	uint32_t i, id;
	int r;

	if (conn->nslots == 0)
		return 0;
	/* Rotate the start so that one busy channel cannot fill the
	 * transport before the others get a turn. */
	conn->rr = (conn->rr + 1) % conn->nslots;
	for (i = 0; i < conn->nslots; i++) {
		id = (conn->rr + i) % conn->nslots;
		if ((c = conn->chans[id]) == NULL)
			continue;
		if (chan_ready(conn, c->wfd_pi, c->wfd))
			chan_write_fd(c);
		if ((chan_ready(conn, c->rfd_pi, c->rfd) ||
		        (c->rfd >= 0 && (c->flags & CHAN_RFD_DRAIN) &&
		            channel_send_room(conn, c) > 0)) &&
		    (r = c->type->dgram_read != NULL
		            ? chan_read_dgrams(conn, c)
		            : chan_read_fd(conn, c, &c->rfd, 0)) != 0)
			return r;
		if (chan_ready(conn, c->efd_pi, c->efd) &&
		    (c->flags & CHAN_EFD_DISCARD))
			chan_drain_efd(c);
		else if (chan_ready(conn, c->efd_pi, c->efd) &&
		    (r = chan_read_fd(conn, c, &c->efd, 1)) != 0)
			return r;
		if (c->svc != NULL && (r = c->svc->pump(conn, c)) != 0)
			return r;
	}
	return 0;
}

/* Advance one channel through window top-up, EOF and CLOSE. */
static int
chan_tick_one(struct conn *conn, struct channel *c)
{
	struct buf *m;
	int r;

	if (c->flags & (CHAN_SENT_CLOSE | CHAN_OPENING))
		return 0;
	/* The peer's EOF reaches wfd only after everything before it. */
	if (c->wfd >= 0 && (c->flags & CHAN_RCVD_EOF) &&
	    buf_len(c->obuf) == 0) {
		debug2("channel %u: input drained, closing write side", c->id);
		/* A socket's reader sees EOF though rfd still holds it. */
		(void)shutdown(c->wfd, SHUT_WR);
		chan_close_fd(c, &c->wfd);
	}
	if ((c->flags &
	        (CHAN_WRITE_FAILED | CHAN_WRITE_TOLD | CHAN_RCVD_CLOSE)) ==
	        CHAN_WRITE_FAILED &&
	    c->type->write_failed != NULL) {
		c->flags |= CHAN_WRITE_TOLD;
		if ((r = c->type->write_failed(conn, c)) != 0)
			return r;
	}
	/* After the peer's EOF too: what it still sent was consumed. */
	if (c->local_consumed > c->local_window_max / 2) {
		if ((r = transport_packet_begin(
		         conn->t, SSH2_MSG_CHANNEL_WINDOW_ADJUST, &m)) != 0 ||
		    (r = buf_put_u32(m, c->peer_id)) != 0 ||
		    (r = buf_put_u32(m, c->local_consumed)) != 0 ||
		    (r = transport_packet_send(conn->t)) != 0)
			return r;
		c->local_window += c->local_consumed;
		c->local_consumed = 0;
	}
	/*
	 * Output: all data, then EOF, then the type's last words, then CLOSE.
	 * EOF waits until those last words are known (a session's child is
	 * reaped): a client may close as soon as it sees EOF, and the
	 * exit-status must not be lost in that gap.
	 */
	if ((c->flags & CHAN_IO) && c->rfd < 0 && c->efd < 0 &&
	    !(c->flags & CHAN_SENT_EOF) &&
	    (c->type->close_ready == NULL || c->type->close_ready(conn, c))) {
		debug2("channel %u: send eof", c->id);
		c->flags |= CHAN_SENT_EOF;
		if ((r = chan_send_id_only(conn, c, SSH2_MSG_CHANNEL_EOF)) != 0)
			return r;
	}
	if (!(c->flags & CHAN_SENT_EOF))
		return 0;
	if (c->type->close_ready != NULL && !c->type->close_ready(conn, c))
		return 0;
	if (c->type->before_close != NULL &&
	    (r = c->type->before_close(conn, c)) != 0)
		return r;
	debug2("channel %u: send close", c->id);
	c->flags |= CHAN_SENT_CLOSE;
	chan_stop_io(c);
	return chan_send_id_only(conn, c, SSH2_MSG_CHANNEL_CLOSE);
}

int
channel_tick(struct conn *conn)
{
	struct channel *c;
	uint32_t id;
	int r;

	for (id = 0; id < conn->nslots; id++) {
		if ((c = conn->chans[id]) == NULL)
			continue;
		if ((r = chan_tick_one(conn, c)) != 0)
			return r;
		if ((c->flags & (CHAN_SENT_CLOSE | CHAN_RCVD_CLOSE)) ==
		        (CHAN_SENT_CLOSE | CHAN_RCVD_CLOSE) &&
		    (c->wfd < 0 || buf_len(c->obuf) == 0))
			channel_destroy(conn, c);
	}
	return 0;
}

int
channel_send_data(struct conn *conn, struct channel *c, int ext,
    const uint8_t *p, size_t len, size_t *sent)
{
	struct buf *m;
	size_t room, n;
	int r;

	*sent = 0;
	while (*sent < len && (room = channel_send_room(conn, c)) > 0) {
		n = len - *sent < room ? len - *sent : room;
		if ((r = chan_data_begin(conn, c, ext, &m)) != 0 ||
		    (r = buf_put_string(m, p + *sent, n)) != 0)
			return r;
		c->remote_window -= (uint32_t)n;
		c->last_io = conn->now_ms;
		*sent += n;
		if ((r = transport_packet_send(conn->t)) != 0)
			return r;
	}
	return 0;
}
