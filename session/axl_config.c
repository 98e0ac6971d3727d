/*
 * axl_config.c: the agent/X11 forwarding, tunnel, liveness and IPQoS settings
 * from IPC_SESSION_INIT (monitor/session_axl.c encodes them).
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "ipc.h"
#include "session.h"

#define FWD_TIMEOUTS_MAX 64 /* CONFIG_MAX_LIST */

void
session_axl_free(struct session_axl *fwd)
{
	size_t i;

	if (fwd == NULL)
		return;
	free(fwd->xauth_location);
	for (i = 0; i < fwd->ntimeouts; i++)
		free(fwd->timeouts[i].type);
	free(fwd->timeouts);
	free(fwd);
}

static int
get_int(struct buf *b, int *v)
{
	uint32_t u;
	int r;

	if ((r = buf_get_u32(b, &u)) != 0)
		return r;
	if (u > 0x7fffffff)
		return ERR_FORMAT;
	*v = (int)u;
	return 0;
}

int
session_axl_get(struct buf *b, struct session_axl **fwdp)
{
	struct session_axl *f;
	uint32_t n, i;
	size_t len;
	int r, fam;

	*fwdp = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return ERR_ALLOC;
	if ((r = get_int(b, &f->allow_agent_forwarding)) != 0 ||
	    (r = get_int(b, &f->disable_forwarding)) != 0 ||
	    (r = get_int(b, &f->x11_forwarding)) != 0 ||
	    (r = get_int(b, &f->x11_display_offset)) != 0 ||
	    (r = get_int(b, &f->x11_use_localhost)) != 0 ||
	    (r = buf_get_cstring(b, &f->xauth_location, &len)) != 0 ||
	    (r = get_int(b, &f->client_alive_interval)) != 0 ||
	    (r = get_int(b, &f->client_alive_count_max)) != 0 ||
	    (r = get_int(b, &f->unused_connection_timeout)) != 0 ||
	    (r = get_int(b, &f->permit_tunnel)) != 0 ||
	    (r = buf_get_u32(b, &n)) != 0)
		goto out;
	if (len > AXL_STR_MAX || n > FWD_TIMEOUTS_MAX ||
	    f->x11_display_offset > AXL_X11_OFFSET_MAX) {
		r = ERR_FORMAT;
		goto out;
	}
	if (n > 0 && (f->timeouts = calloc(n, sizeof(*f->timeouts))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = buf_get_cstring(b, &f->timeouts[i].type, NULL)) != 0)
			goto out;
		f->ntimeouts++;
		if ((r = get_int(b, &f->timeouts[i].secs)) != 0)
			goto out;
	}
	if ((r = get_int(b, &f->ip_qos_interactive)) != 0 ||
	    (r = get_int(b, &f->ip_qos_bulk)) != 0)
		goto out;
	if (f->ip_qos_interactive > IPQOS_NONE || f->ip_qos_bulk > IPQOS_NONE) {
		r = ERR_FORMAT;
		goto out;
	}
	if ((r = get_int(b, &fam)) != 0)
		goto out;
	if (fam != 0 && fam != 4 && fam != 6) {
		r = ERR_FORMAT;
		goto out;
	}
	f->address_family = fam == 4 ? AF_INET
	    : fam == 6               ? AF_INET6
	                             : AF_UNSPEC;
	*fwdp = f;
	f = NULL;
out:
	session_axl_free(f);
	return r;
}
