/* session_int_hostkeys.h: host key rotation for session_run.c. */
#ifndef POSTERN_SESSION_INT_HOSTKEYS_H
#define POSTERN_SESSION_INT_HOSTKEYS_H

#include "ipc.h"

struct buf;
struct session_ctx;

#define HOSTKEYS_REQ "hostkeys-00@openssh.com"
#define HOSTKEYS_PROVE_REQ "hostkeys-prove-00@openssh.com"
/* No more keys than the monitor can hold (monitor.h hostkeys.pub). */
#define HOSTKEYS_PROVE_MAX IPC_HOSTKEYS_MAX

/* Send hostkeys-00@openssh.com (no reply wanted) listing our keys. */
int session_hostkeys_notify(struct session_ctx *ctx);
/*
 * Answer hostkeys-prove-00@openssh.com (m: the key blobs): *ok set and
 * the signatures appended to reply when the monitor signed them all.
 * A non-zero return is a decode or IPC error that ends the connection.
 */
int session_hostkeys_prove(
    struct session_ctx *ctx, struct buf *m, int *ok, struct buf *reply);

#endif
