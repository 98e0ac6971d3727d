/*
 * fwdpolicy.c: the forwarding settings the session enforces, built by the
 * monitor from sshd_config and sent over IPC.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "fwdpolicy.h"

void
fwd_policy_init(struct fwd_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->allow_tcp = FWD_ALL;
	p->allow_streamlocal = FWD_ALL;
	p->gateway_ports = FWD_GATEWAY_NO;
	p->bind_mask = 0177;
}

void
fwd_policy_free(struct fwd_policy *p)
{
	authopts_permits_free(&p->permitopen);
	authopts_permits_free(&p->permitlisten);
	fwd_policy_init(p);
}

int
fwd_policy_add_permits(struct authopts_permits *p, char *const *words, size_t n,
    int listen, const char **errp)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (strcmp(words[i], "any") == 0)
			continue;
		if (strcmp(words[i], "none") == 0) {
			p->restricted = 1;
			continue;
		}
		if ((r = authopts_permits_add_spec(
		         p, words[i], listen, errp)) != 0)
			return r;
	}
	return 0;
}

int
fwd_policy_serialize(const struct fwd_policy *p, struct buf *b)
{
	int r;

	if ((r = buf_put_u32(b, (uint32_t)p->allow_tcp)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)p->allow_streamlocal)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)p->gateway_ports)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)p->disable)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)p->bind_mask)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)p->bind_unlink)) != 0 ||
	    (r = authopts_permits_put(b, &p->permitopen)) != 0 ||
	    (r = authopts_permits_put(b, &p->permitlisten)) != 0)
		return r;
	return 0;
}

int
fwd_policy_deserialize(struct buf *b, struct fwd_policy *p)
{
	uint32_t v[6];
	size_t i;
	int r;

	fwd_policy_init(p);
	for (i = 0; i < 6; i++)
		if ((r = buf_get_u32(b, &v[i])) != 0)
			return r;
	if (v[0] > FWD_ALL || v[1] > FWD_ALL ||
	    v[2] > FWD_GATEWAY_CLIENTSPECIFIED || v[3] > 1 || v[4] > 0777 ||
	    v[5] > 1)
		return ERR_FORMAT;
	p->allow_tcp = (int)v[0];
	p->allow_streamlocal = (int)v[1];
	p->gateway_ports = (int)v[2];
	p->disable = (int)v[3];
	p->bind_mask = (int)v[4];
	p->bind_unlink = (int)v[5];
	if ((r = authopts_permits_get(b, &p->permitopen)) != 0 ||
	    (r = authopts_permits_get(b, &p->permitlisten)) != 0 ||
	    (r = buf_end(b)) != 0) {
		fwd_policy_free(p);
		return r;
	}
	return 0;
}
