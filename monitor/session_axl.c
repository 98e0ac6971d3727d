/*
 * session_axl.c: the agent/X11 forwarding, tunnel, liveness and IPQoS settings
 * of the effective (Match-applied) config, encoded for the session.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "ipc.h"
#include "policy/config_int.h"
#include "monitor/session_axl.h"

static uint32_t
nonneg(int v)
{
	return v < 0 ? 0 : (uint32_t)v;
}

int
session_axl_put(struct buf *b, const struct server_config *c)
{
	char type[256];
	uint32_t n = 0;
	size_t i;
	int r, secs;

	const char *xauth = c->xauth_location != NULL ? c->xauth_location : "";
	int offset = nonneg(c->x11_display_offset);

	/*
	 * What the session accepts (session/axl_config.c), whatever the
	 * config says: an offset above 60000 leaves no display port either
	 * way (6000 + offset > 65535), and a path longer than PATH_MAX runs
	 * no xauth; X11 requests are then refused, not every login.
	 */
	if (offset > AXL_X11_OFFSET_MAX)
		offset = AXL_X11_OFFSET_MAX;
	if (strlen(xauth) > AXL_STR_MAX)
		xauth = "";
	if ((r = buf_put_u32(b, nonneg(c->allow_agent_forwarding))) != 0 ||
	    (r = buf_put_u32(b, nonneg(c->disable_forwarding))) != 0 ||
	    (r = buf_put_u32(b, nonneg(c->x11_forwarding))) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)offset)) != 0 ||
	    (r = buf_put_u32(b, nonneg(c->x11_use_localhost))) != 0 ||
	    (r = buf_put_cstring(b, xauth)) != 0 ||
	    (r = buf_put_u32(b, nonneg(c->client_alive_interval))) != 0 ||
	    (r = buf_put_u32(b, nonneg(c->client_alive_count_max))) != 0 ||
	    (r = buf_put_u32(b, nonneg(c->unused_connection_timeout))) != 0 ||
	    (r = buf_put_u32(b, nonneg(c->permit_tunnel))) != 0)
		return r;
	/* ChannelTimeout: "none" stands alone and means no entries. */
	for (i = 0; i < c->nchannel_timeouts; i++)
		if (strcasecmp(c->channel_timeouts[i], "none") != 0)
			n++;
	if ((r = buf_put_u32(b, n)) != 0)
		return r;
	for (i = 0; i < c->nchannel_timeouts; i++) {
		if (strcasecmp(c->channel_timeouts[i], "none") == 0)
			continue;
		if (cfg_channel_timeout_split(
		        c->channel_timeouts[i], type, sizeof(type), &secs) != 0)
			return ERR_CONFIG; /* the parser accepted it: cannot be */
		if ((r = buf_put_cstring(b, type)) != 0 ||
		    (r = buf_put_u32(b, (uint32_t)secs)) != 0)
			return r;
	}
	/* IPQoS: 0..255, or 256 for none. */
	if ((r = buf_put_u32(b, nonneg(c->ip_qos_interactive))) != 0 ||
	    (r = buf_put_u32(b, nonneg(c->ip_qos_bulk))) != 0)
		return r;
	/* AddressFamily (-4, -6), for forwarding and X11: 0 any, 4, 6. */
	return buf_put_u32(b,
	    c->address_family == AF_INET        ? 4
	        : c->address_family == AF_INET6 ? 6
	                                        : 0);
}
