/*
 * fwdpolicy.h: the server's forwarding settings (AllowTcpForwarding,
 * PermitOpen, GatewayPorts, StreamLocal*, DisableForwarding) as the
 * monitor hands them to the session after Match, and their IPC encoding.
 */
#ifndef POSTERN_FWDPOLICY_H
#define POSTERN_FWDPOLICY_H

#include "authopts.h"

struct buf;

/* AllowTcpForwarding / AllowStreamLocalForwarding bits (ssh's view). */
#define FWD_LOCAL 0x1  /* -L, -D, -W: the server connects out */
#define FWD_REMOTE 0x2 /* -R: the server listens */
#define FWD_ALL (FWD_LOCAL | FWD_REMOTE)

/* GatewayPorts */
#define FWD_GATEWAY_NO 0
#define FWD_GATEWAY_YES 1
#define FWD_GATEWAY_CLIENTSPECIFIED 2

struct fwd_policy {
	int allow_tcp;         /* FWD_* bits */
	int allow_streamlocal; /* FWD_* bits */
	int gateway_ports;     /* FWD_GATEWAY_* */
	int disable;           /* DisableForwarding: nothing is forwarded */
	int bind_mask;         /* StreamLocalBindMask, 0..0777 */
	int bind_unlink;       /* StreamLocalBindUnlink */
	/* PermitOpen, PermitListen: restricted 0 is "any". */
	struct authopts_permits permitopen;
	struct authopts_permits permitlisten;
};

/* fwd_policy_init: OpenSSH's defaults (everything allowed, mask 0177). */
void fwd_policy_init(struct fwd_policy *p);
void fwd_policy_free(struct fwd_policy *p);

/*
 * fwd_policy_add_permits: PermitOpen (listen 0) or PermitListen (1)
 * arguments as written into the list: "any" leaves it unrestricted,
 * "none" restricts it to nothing. ERR_FORMAT (*errp says why), ERR_ALLOC.
 */
int fwd_policy_add_permits(struct authopts_permits *p, char *const *words,
    size_t n, int listen, const char **errp);

/*
 * Encoding: u32 allow_tcp, allow_streamlocal, gateway_ports, disable,
 * bind_mask, bind_unlink; then PermitOpen and PermitListen as
 * authopts_permits_put writes them. Decoding checks every range and
 * requires that the policy ends the buffer.
 */
int fwd_policy_serialize(const struct fwd_policy *p, struct buf *b);
int fwd_policy_deserialize(struct buf *b, struct fwd_policy *p);

#endif
