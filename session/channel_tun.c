/*
 * channel_tun.c: "tun@openssh.com" channels (OpenSSH PROTOCOL s2.3) are
 * refused: the session runs as the user and cannot create a tun(4)
 * device. Decoded, logged with the reason, and answered as sshd 9.2
 * answers when it cannot open one: connect failed, "open failed", after
 * its SSH_MSG_DEBUG text (docs/sshd_config.md, PermitTunnel).
 */
#include <stdint.h>

#include "buf.h"
#include "log.h"
#include "transport.h"
#include "session.h"
#include "channel.h"
#include "forward.h"

#define TUN_MODE_POINTOPOINT 1 /* PermitTunnel's bits, as the client's */
#define TUN_MODE_ETHERNET 2

static int
tun_open(struct conn *conn, struct channel *c, struct buf *m, uint32_t *reason)
{
	const struct session_ctx *ctx = conn->ctx;
	uint32_t mode, unit;
	int r, permit = ctx->axl != NULL ? ctx->axl->permit_tunnel : 0;

	if ((r = buf_get_u32(m, &mode)) != 0 ||
	    (r = buf_get_u32(m, &unit)) != 0 || (r = buf_end(m)) != 0)
		return r;
	debug("tunnel forwarding request: mode %u unit %u", mode, unit);
	/* As sshd 9.2: connect failed, "open failed", and its DEBUG text. */
	*reason = SSH2_OPEN_CONNECT_FAILED;
	logit("refused tun@openssh.com channel from user %s %s port %d: %s",
	    ctx->user, ctx->client_addr, ctx->client_port,
	    mode != TUN_MODE_POINTOPOINT && mode != TUN_MODE_ETHERNET
	        ? "unsupported tunnel device mode"
	        : ((uint32_t)permit & mode) == 0
	        ? "PermitTunnel does not allow it"
	        : "tunnel forwarding is not supported");
	return fwd_send_debug(conn,
	    mode != TUN_MODE_POINTOPOINT && mode != TUN_MODE_ETHERNET
	        ? "Unsupported tunnel device mode."
	        : ((uint32_t)permit & mode) == 0
	        ? "Server has rejected tunnel device forwarding"
	        : "Failed to open the tunnel device.");
}

const struct channel_type channel_type_tun = {
    .name = "tun@openssh.com",
    .timeout_name = "tun-connection",
    .open = tun_open,
};
