/*
 * session_hostkeys.c: OpenSSH's host key rotation (PROTOCOL s2.5): after
 * auth the server lists its host keys in hostkeys-00@openssh.com; the
 * client asks for proof of the new ones with hostkeys-prove-00@openssh.com,
 * and the monitor, which alone holds the private keys, signs them.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "session.h"
#include "session_int_hostkeys.h"
#include "transport.h"

#define CERT_SUFFIX "-cert-v01@openssh.com"

/* 1 if entry i is a plain key whose blob no earlier plain entry has. */
static int
first_plain(const struct session_ctx *ctx, size_t i)
{
	const struct transport_hostkey *h = ctx->hostkeys;
	size_t j, n = strlen(h[i].alg), sl = strlen(CERT_SUFFIX);

	if (n > sl && strcmp(h[i].alg + n - sl, CERT_SUFFIX) == 0)
		return 0;
	for (j = 0; j < i; j++)
		if (h[j].bloblen == h[i].bloblen &&
		    memcmp(h[j].blob, h[i].blob, h[i].bloblen) == 0)
			return 0;
	return 1;
}

int
session_hostkeys_notify(struct session_ctx *ctx)
{
	struct buf *m;
	size_t i;
	int r;

	if (ctx->nhostkeys == 0)
		return 0;
	if ((r = transport_packet_begin(ctx->t, SSH2_MSG_GLOBAL_REQUEST, &m)) !=
	        0 ||
	    (r = buf_put_cstring(m, HOSTKEYS_REQ)) != 0 ||
	    (r = buf_put_bool(m, 0)) != 0)
		return r;
	for (i = 0; i < ctx->nhostkeys; i++)
		if (first_plain(ctx, i) &&
		    (r = buf_put_string(m, ctx->hostkeys[i].blob,
		         ctx->hostkeys[i].bloblen)) != 0)
			return r;
	debug("%s: sent %s", __func__, HOSTKEYS_REQ);
	return transport_packet_send(ctx->t);
}

int
session_hostkeys_prove(
    struct session_ctx *ctx, struct buf *m, int *ok, struct buf *reply)
{
	struct buf *req = NULL;
	const uint8_t *blob;
	size_t len, n = 0;
	uint8_t type;
	int r, granted;
	uint32_t nsig, i;

	*ok = 0;
	if ((req = buf_new(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	/* The request is the blobs; the monitor checks each one. */
	while (buf_len(m) > 0) {
		/* As sshd: a request it cannot parse gets REQUEST_FAILURE. */
		if ((r = buf_get_string_direct(m, &blob, &len)) != 0) {
			error("server_input_hostkeys_prove: parse key: %s",
			    r == ERR_SHORT ? "incomplete message"
			                   : "invalid format");
			r = 0;
			goto out;
		}
		if (++n > HOSTKEYS_PROVE_MAX) {
			debug("%s: too many keys", __func__);
			r = 0;
			goto out;
		}
		if ((r = buf_put_string(req, blob, len)) != 0)
			goto out;
	}
	if (n == 0) {
		r = 0;
		goto out;
	}
	if ((r = ipc_send(ctx->monitor_fd, IPC_SESSION_PROVE_REQ, req, -1)) !=
	        0 ||
	    (r = ipc_recv(
	         ctx->monitor_fd, &type, req, NULL, IPC_MAX_MESSAGE)) != 0)
		goto out;
	if (type != IPC_SESSION_PROVE_REPLY) {
		r = ERR_PROTOCOL;
		goto out;
	}
	if ((r = buf_get_bool(req, &granted)) != 0 ||
	    (r = buf_get_u32(req, &nsig)) != 0)
		goto out;
	if (!granted) {
		r = buf_end(req);
		goto out;
	}
	if (nsig != n) {
		r = ERR_PROTOCOL;
		goto out;
	}
	for (i = 0; i < nsig; i++)
		if ((r = buf_get_string_direct(req, &blob, &len)) != 0 ||
		    (r = buf_put_string(reply, blob, len)) != 0)
			goto out;
	if ((r = buf_end(req)) != 0)
		goto out;
	*ok = 1;
out:
	buf_free(req);
	return r;
}
