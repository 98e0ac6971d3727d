/*
 * session.h: the connection protocol (RFC 4254) as run by postern-session,
 * already running as the authenticated user.
 */
#ifndef POSTERN_SESSION_H
#define POSTERN_SESSION_H

#include <sys/types.h>

struct transport;
struct authopts;
struct transport_hostkey;
struct session_login;
struct fwd_policy;

struct session_ctx {
	struct transport *t;
	int monitor_fd;   /* IPC to the monitor: rekey signatures, audit */
	const char *user; /* authenticated user name */
	uid_t uid;
	gid_t gid;
	const char *home;           /* pw_dir */
	const char *shell;          /* pw_shell ("" means /bin/sh) */
	const char *forced_command; /* NULL unless forced by policy */
	/* "(config)" for ForceCommand, "(key-option)" for command=. */
	const char *forced_command_source;
	/* UsePAM: "NAME=value" strings PAM's session modules set. */
	char **pam_env;
	size_t npam_env;
	/* Options from authorized_keys/certificates for this login. */
	const struct authopts *opts;
	const char *client_addr;
	int client_port;
	const char *server_addr;
	int server_port;
	int max_sessions; /* MaxSessions: 0 = no sessions */
	int permit_tty;   /* PermitTTY (the key's no-pty is in opts) */
	int debug;        /* posternd -d: sshd's debug_flag */
	/* Subsystem: names and their "command args" lines, from policy. */
	char **subsys_name;
	char **subsys_args;
	size_t nsubsys;
	/* The offered host key algorithms and their blobs (hostkeys-00). */
	const struct transport_hostkey *hostkeys;
	size_t nhostkeys;
	/* The login's settings from the monitor (session_login.h). */
	struct session_login *login;
	/* Agent/X11 forwarding, tunnels, liveness (issue 8; axl_config.c). */
	struct session_axl *axl;
	/* AllowTcpForwarding, PermitOpen...: forwarding after Match. */
	const struct fwd_policy *fwd;
	/* SSH_TUNNEL: the tun(4) devices opened so far (channel_tun.c). */
	char *tun_names;
	/* Set by session_run: the client closed or reset the connection. */
	int peer_closed;
	/* Set by session_run: the client sent DISCONNECT (sshd's child then
	 * exits without closing the sessions still open: no "Close session"
	 * lines for them). */
	int peer_disconnected;
};

/* A ChannelTimeout entry: channels whose type matches idle this long. */
struct channel_timeout {
	char *type; /* pattern */
	int secs;   /* 0: never */
};

struct session_axl {
	int allow_agent_forwarding; /* AllowAgentForwarding */
	int disable_forwarding;     /* DisableForwarding */
	int x11_forwarding;         /* X11Forwarding */
	int x11_display_offset;
	int x11_use_localhost;
	char *xauth_location;
	int client_alive_interval; /* seconds, 0 off */
	int client_alive_count_max;
	int unused_connection_timeout; /* seconds, 0 none */
	int permit_tunnel;
	struct channel_timeout *timeouts;
	size_t ntimeouts;
	int ip_qos_interactive; /* IPQoS: 0..255, IPQOS_NONE */
	int ip_qos_bulk;
	int address_family; /* AddressFamily: AF_UNSPEC, AF_INET, AF_INET6 */
};

#define IPQOS_NONE 256 /* policy/config.h's CONFIG_IPQOS_NONE */

struct buf;
/* session_axl_get: decode what the monitor's session_axl_put encoded. */
int session_axl_get(struct buf *b, struct session_axl **axlp);
void session_axl_free(struct session_axl *axl);

/*
 * session_run: serve channels until the client disconnects or the
 * connection fails. Returns 0 on an orderly end, an ERR_* code otherwise.
 */
int session_run(struct session_ctx *ctx);

#endif
