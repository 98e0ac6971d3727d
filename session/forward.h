/*
 * forward.h: TCP and Unix-socket forwarding in postern-session: the
 * policy checks, the listeners of remote forwards (forward.c) and the
 * channels that carry forwarded connections (channel_tcp.c).
 */
#ifndef POSTERN_FORWARD_H
#define POSTERN_FORWARD_H

#include <stdint.h>

struct buf;
struct conn;
struct channel;

/* forward.c */
/*
 * fwd_global_request: tcpip-forward, cancel-tcpip-forward and the
 * streamlocal-forward@openssh.com pair. *handled 0: not one of ours; 1:
 * handled, the reply (if wanted) is sent. Returns 0, a decode error or
 * another ERR_*.
 */
int fwd_global_request(struct conn *conn, const char *name, struct buf *m,
    int want_reply, int *handled);
/* fwd_poll_prepare / fwd_poll_handle: listeners, connects, resolutions. */
int fwd_poll_prepare(struct conn *conn);
int fwd_poll_handle(struct conn *conn);
/* fwd_free: close every listener (conn->fwd may be NULL). */
void fwd_free(struct conn *conn);
/*
 * fwd_address_family: AddressFamily (AF_UNSPEC, AF_INET, AF_INET6), which
 * forwarding listeners and connections keep to, as sshd's channel_set_af.
 */
int fwd_address_family(const struct conn *conn);
/* fwd_send_debug: an SSH_MSG_DEBUG the client shows with -v. */
int fwd_send_debug(struct conn *conn, const char *msg);
/*
 * fwd_allowed: may this login forward with local (FWD_LOCAL) or remote
 * (FWD_REMOTE) TCP (unix 0) or Unix-socket (unix 1) forwarding?
 * (AllowTcpForwarding/AllowStreamLocalForwarding, DisableForwarding, the
 * key's no-port-forwarding/restrict.)
 */
int fwd_allowed(struct conn *conn, int unix_socket, int direction);
/* fwd_state_get: conn->fwd, created on first use; NULL if out of memory. */
struct fwd_state *fwd_state_get(struct conn *conn);

/* channel_tcp.c */
/* Pending direct-* opens: their fds, and what became of them. */
int channel_tcp_poll_prepare(struct conn *conn);
int channel_tcp_poll_handle(struct conn *conn);
/*
 * channel_tcp_open_forwarded: a connection accepted on a remote forward's
 * listener: open a forwarded-tcpip (path NULL) or
 * forwarded-streamlocal@openssh.com channel carrying fd (taken over in
 * every case).
 */
int channel_tcp_open_forwarded(
    struct conn *conn, int fd, const char *host, int port, const char *path);
/* The wakeup pipe's read end, or -1; drained by the caller. */
int channel_tcp_wake_fd(void);

#endif
