/*
 * session_axl.h: the agent/X11 forwarding, tunnel and liveness settings
 * the monitor hands to the session process (docs/ipc.md, IPC_SESSION_INIT).
 */
#ifndef POSTERN_SESSION_AXL_H
#define POSTERN_SESSION_AXL_H

struct buf;
struct server_config;

/* session_axl_put: append them to b as docs/ipc.md lays them out. */
int session_axl_put(struct buf *b, const struct server_config *c);

#endif
