/*
 * channel_tun.c: "tun@openssh.com" channels (OpenSSH PROTOCOL s2.3, ssh -w):
 * a tun(4) device opened as the user, as sshd 9.2 on Linux does, whose
 * packets (point-to-point) or frames (ethernet) channel.c carries as
 * datagrams, one CHANNEL_DATA each.
 */
#include <sys/ioctl.h>
#include <sys/types.h>
#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authopts.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "transport.h"
#include "session.h"
#include "channel.h"
#include "forward.h"

#define TUN_MODE_POINTOPOINT 1 /* PermitTunnel's bits, as the client's */
#define TUN_MODE_ETHERNET 2
#define TUN_CTRL_DEV "/dev/net/tun"
/* Point-to-point packets carry OpenBSD's address family numbers. */
#define TUN_AF_INET 2
#define TUN_AF_INET6 24
#define TUN_NAMES_MAX 4096 /* SSH_TUNNEL's length */

struct tun_chan {
	int mode;
};

static int
tun_mode(const struct channel *c)
{
	return ((const struct tun_chan *)c->priv)->mode;
}

/*
 * As sshd's sys_tun_open: the device unit (AUTHOPTS_TUN_ANY: the next
 * free one), always without the packet information header. The fd, or
 * -1 with the reason in sshd's debug words.
 */
static int
tun_dev_open(int unit, int mode, char *name, size_t namelen)
{
	struct ifreq ifr;
	int fd;

	if ((fd = open(TUN_CTRL_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK)) == -1) {
		debug("sys_tun_open: failed to open tunnel control device "
		      "\"%s\": %s",
		    TUN_CTRL_DEV, strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = mode == TUN_MODE_ETHERNET ? IFF_TAP : IFF_TUN;
	ifr.ifr_flags |= IFF_NO_PI;
	if (unit != AUTHOPTS_TUN_ANY) {
		if (unit < 0 || unit > AUTHOPTS_TUN_MAX) {
			debug("sys_tun_open: invalid tunnel id %x: %s", unit,
			    strerror(EINVAL));
			close(fd);
			return -1;
		}
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s%d",
		    mode == TUN_MODE_ETHERNET ? "tap" : "tun", unit);
	}
	if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
		debug("sys_tun_open: failed to configure tunnel (mode %d): %s",
		    mode, strerror(errno));
		close(fd);
		return -1;
	}
	ifr.ifr_name[sizeof(ifr.ifr_name) - 1] = '\0';
	if (unit == AUTHOPTS_TUN_ANY)
		debug("sys_tun_open: tunnel mode %d fd %d", mode, fd);
	else
		debug("sys_tun_open: %s mode %d fd %d", ifr.ifr_name, mode, fd);
	snprintf(name, namelen, "%s", ifr.ifr_name);
	return fd;
}

/*
 * SSH_TUNNEL for the sessions started from now on: as sshd, every device
 * this connection opened, closed ones included.
 */
static void
tun_names_add(struct session_ctx *ctx, const char *name)
{
	char *n;

	if (ctx->tun_names != NULL &&
	    strlen(ctx->tun_names) + 1 + strlen(name) >= TUN_NAMES_MAX)
		return;
	if (asprintf(&n, "%s%s%s", ctx->tun_names != NULL ? ctx->tun_names : "",
	        ctx->tun_names != NULL ? "," : "", name) == -1)
		return;
	free(ctx->tun_names);
	ctx->tun_names = n;
}

/* The log line of a refusal by configuration (not a failed device). */
static void
tun_refused(const struct session_ctx *ctx, const char *reason)
{
	logit("refused tun@openssh.com channel from user %s %s port %d: %s",
	    ctx->user, ctx->client_addr, ctx->client_port, reason);
}

/* PROTOCOL 2.3: uint32 tunnel mode, uint32 remote unit number. */
static int
tun_open(struct conn *conn, struct channel *c, struct buf *m, uint32_t *reason)
{
	struct session_ctx *ctx = conn->ctx;
	struct tun_chan *t;
	char name[IFNAMSIZ];
	uint32_t mode, unit;
	int r, fd, wfd, permit = ctx->axl != NULL ? ctx->axl->permit_tunnel : 0;

	if ((r = buf_get_u32(m, &mode)) != 0 ||
	    (r = buf_get_u32(m, &unit)) != 0 || (r = buf_end(m)) != 0)
		return r;
	/* As sshd 9.2: connect failed, "open failed", after its DEBUG text. */
	*reason = SSH2_OPEN_CONNECT_FAILED;
	if (mode != TUN_MODE_POINTOPOINT && mode != TUN_MODE_ETHERNET) {
		tun_refused(ctx, "unsupported tunnel device mode");
		return fwd_send_debug(conn, "Unsupported tunnel device mode.");
	}
	if (((uint32_t)permit & mode) == 0) {
		tun_refused(ctx, "PermitTunnel does not allow it");
		return fwd_send_debug(
		    conn, "Server has rejected tunnel device forwarding");
	}
	debug("server_request_tun: tunnel %u mode %u", unit, mode);
	if (unit > INT_MAX) {
		debug("server_request_tun: invalid tun");
		goto fail;
	}
	/* The key's tunnel= option forces the device. */
	if (ctx->opts != NULL && ctx->opts->tunnel != AUTHOPTS_TUN_NONE) {
		if (unit != AUTHOPTS_TUN_ANY &&
		    (int)unit != ctx->opts->tunnel) {
			debug("server_request_tun: tunnel %u is not the forced "
			      "tunnel %d",
			    unit, ctx->opts->tunnel);
			goto fail;
		}
		unit = (uint32_t)ctx->opts->tunnel;
	}
	if ((fd = tun_dev_open((int)unit, (int)mode, name, sizeof(name))) == -1)
		goto fail;
	/* rfd and wfd are closed separately: two descriptors. */
	if ((wfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (t = calloc(1, sizeof(*t))) == NULL) {
		error_f("%s: %s", name, strerror(errno));
		if (wfd != -1)
			close(wfd);
		close(fd);
		goto fail;
	}
	debug("Tunnel forwarding using interface %s", name);
	t->mode = (int)mode;
	c->priv = t;
	channel_attach_fds(c, fd, wfd, -1);
	tun_names_add(ctx, name);
	*reason = 0;
	return 0;
fail:
	return fwd_send_debug(conn, "Failed to open the tunnel device.");
}

/*
 * Point-to-point: the packet after OpenBSD's uint32 address family, taken
 * from the IP version (sshd's SSH_TUN_PREPEND_AF); ethernet: the frame.
 */
static ssize_t
tun_dgram_read(struct channel *c, int fd, uint8_t *p, size_t len)
{
	uint32_t af;
	ssize_t n;

	if (tun_mode(c) == TUN_MODE_ETHERNET)
		return read(fd, p, len);
	if ((n = read(fd, p + 4, len - 4)) <= 0)
		return n;
	af = (p[4] >> 4) == 6 ? TUN_AF_INET6 : TUN_AF_INET;
	p[0] = (uint8_t)(af >> 24);
	p[1] = (uint8_t)(af >> 16);
	p[2] = (uint8_t)(af >> 8);
	p[3] = (uint8_t)af;
	return n + 4;
}

/*
 * One packet or frame per write; what the device does not take is lost
 * (full, or the interface down). Any other error (the device was deleted:
 * EBADFD) ends the write side, as sshd's chan_write_failed, and with the
 * read side gone too the channel closes.
 */
static void
tun_dgram_write(struct channel *c, int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	if (tun_mode(c) == TUN_MODE_POINTOPOINT) {
		if (len < 4) {
			debug2(
			    "channel %u: short tunnel packet dropped", c->id);
			return;
		}
		p += 4;
		len -= 4;
	}
	do {
		n = write(fd, p, len);
	} while (n == -1 && errno == EINTR);
	if (n == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ||
	        errno == EIO))
		debug2(
		    "channel %u: datagram dropped: %s", c->id, strerror(errno));
	else if (n == -1) {
		debug("channel %u: tunnel write failed: %s", c->id,
		    strerror(errno));
		channel_write_done(c);
	}
}

static void
tun_free(struct conn *conn, struct channel *c)
{
	free(c->priv);
	c->priv = NULL;
}

const struct channel_type channel_type_tun = {
    .name = "tun@openssh.com",
    .timeout_name = "tun-connection",
    .open = tun_open,
    .close_ready = channel_sock_close_ready,
    .free = tun_free,
    .dgram_read = tun_dgram_read,
    .dgram_write = tun_dgram_write,
};
