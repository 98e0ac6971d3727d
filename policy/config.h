/*
 * config.h: sshd_config(5) parsing. First obtained value wins, as in
 * OpenSSH; list keywords accumulate.
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdio.h>

#define CONFIG_MAX_LIST 64
/* AllowUsers & co. grow as lines add to them (sshd has no limit); this
 * bounds one list. */
#define CONFIG_MAX_ACCESS 65536
#define CONFIG_UNSET -1

struct listen_addr {
	char *host; /* NULL = any address of the family */
	int port;   /* 0 = use the Port list */
	char *file; /* where ListenAddress gave it (NULL: the default) */
	int line;
};

/*
 * PerSourcePenalties (policy/config_penalty.c): durations in seconds,
 * CONFIG_UNSET until set or defaulted. Off unless set (sshd 9.8+ turns it
 * on by default; docs/sshd_config.md says why postern does not).
 */
#define PENALTY_PERMISSIVE 1
#define PENALTY_DENY_ALL 2
struct penalty_config {
	int enabled;
	int crash, authfail, noauth, grace_exceeded, refuseconnection;
	int max, min;
	int max_sources4, max_sources6;
	int overflow4, overflow6; /* PENALTY_PERMISSIVE or PENALTY_DENY_ALL */
};

/* Forwarding keywords (policy/config_forward.c). */
struct config_forward {
	int allow_tcp_forwarding;         /* FWD_* bits; yes */
	int allow_streamlocal_forwarding; /* FWD_* bits; yes */
	int gateway_ports;                /* FWD_GATEWAY_*; no */
	int streamlocal_bind_mask;        /* 0177 */
	int streamlocal_bind_unlink;      /* no */
	/* PermitOpen, PermitListen: the first line's words as sshd -T prints
	 * them (a bare PermitListen port gets "*:"); none set is "any". */
	char *permit_open[CONFIG_MAX_LIST];
	size_t npermit_open;
	char *permit_listen[CONFIG_MAX_LIST];
	size_t npermit_listen;
};

struct server_config {
	/* Ports from Port lines (accumulate); default 22. */
	int ports[CONFIG_MAX_LIST];
	size_t nports;
	/* -p given: the Port lines that follow are skipped unread, as sshd
	 * skips them (set by the caller before the files are read). */
	int ports_from_cmdline;
	/* ListenAddress lines (accumulate); default 0.0.0.0 and :: */
	struct listen_addr listen[CONFIG_MAX_LIST];
	size_t nlisten;
	int address_family; /* AF_UNSPEC, AF_INET, AF_INET6 (AddressFamily) */
	/* HostKey (accumulate); default the /etc/ssh/ssh_host_*_key files. */
	char *host_key_files[CONFIG_MAX_LIST];
	size_t nhost_key_files;
	/* AuthorizedKeysFile (one line, several names); default
	 * ".ssh/authorized_keys .ssh/authorized_keys2". "none" = no files. */
	char *authorized_keys_files[CONFIG_MAX_LIST];
	size_t nauthorized_keys_files;
	int pubkey_authentication; /* yes */
	int strict_modes;          /* yes */
	int log_level;             /* enum log_level; INFO */
	int syslog_facility;       /* LOG_AUTH */
	int fingerprint_hash;      /* DIGEST_* of logged fingerprints; SHA256 */
	char *pid_file;            /* /run/sshd.pid; "none" = NULL */
	int login_grace_time;      /* seconds; 120 */
	int max_auth_tries;        /* 6 */
	int max_sessions;          /* 10 */
	/* MaxStartups begin:rate:full; default 10:30:100. */
	int max_startups_begin;
	int max_startups_rate;
	int max_startups;
	/*
	 * PerSourceMaxStartups (INT_MAX: none) and PerSourceNetBlockSize
	 * (32:128; a single number sets the IPv6 length to 0, as sshd).
	 */
	int per_source_max_startups;
	int per_source_masklen_v4;
	int per_source_masklen_v6;
	struct penalty_config penalty;
	char *penalty_exempt; /* PerSourcePenaltyExemptList, or NULL */

	/* --- access rules (issue 3); all may be set inside Match --- */
	/* Each is the accumulated patterns of every line, in order, in an
	 * array grown as needed (policy/config_values.c, cfg_vec_push). */
	char **allow_users;
	size_t nallow_users;
	char **deny_users;
	size_t ndeny_users;
	char **allow_groups;
	size_t nallow_groups;
	char **deny_groups;
	size_t ndeny_groups;
	int permit_root_login;      /* PERMIT_*; prohibit-password */
	int permit_empty_passwords; /* no */
	/*
	 * AuthenticationMethods: each element is one space-separated list
	 * as written ("publickey,keyboard-interactive:pam"). None set, or the
	 * single word "any", means any one method suffices.
	 */
	char *auth_methods[CONFIG_MAX_LIST];
	size_t nauth_methods;
	int password_authentication;        /* yes */
	int kbd_interactive_authentication; /* yes (+ChallengeResponse...) */
	int use_pam;                        /* no */
	char *pam_service_name;             /* sshd */
	char *totp_users_file;              /* /etc/users.oath (postern) */
	int totp_window;        /* 1 (postern): +-steps, users file */
	char *banner;           /* none = NULL */
	char *force_command;    /* none = NULL */
	char *version_addendum; /* VersionAddendum; none = NULL */
	char *host_key_agent;   /* HostKeyAgent socket; none = NULL */
#define CONFIG_ADDENDUM_MAX 200
	int permit_tty; /* yes */

	/* --- public keys and certificates (issue 4) --- */
	int required_rsa_size;   /* RequiredRSASize; 1024 */
	int pubkey_auth_options; /* PUBKEYAUTH_* flags; none */
	/* Algorithm lists as written until config_fill_defaults(), then as
	 * sshd -T prints them (OpenSSH's +, -, ^ and patterns resolved). */
	char *pubkey_accepted_algos; /* PubkeyAcceptedAlgorithms */
	/* Every name a Match block's PubkeyAcceptedAlgorithms may allow (its
	 * list resolved against the default), found while loading: added to
	 * server-sig-algs, so that a block that widens the list for some
	 * users is not defeated by clients that choose from it. NULL: none. */
	char *pubkey_algos_in_match;
	char *ca_sign_algorithms; /* CASignatureAlgorithms */
	char *moduli_file;        /* ModuliFile; /etc/ssh/moduli */
	/* 1 when no HostKey line (or -h) named a key: the default files. */
	int host_keys_implicit;
	char *trusted_user_ca_keys; /* none = NULL */
	char *revoked_keys_file;    /* none = NULL */
	/* AuthorizedPrincipalsFile as written ("none" in any case: none);
	 * tokens %% %h %U %u, relative to the home directory. */
	char *authorized_principals_file;
	/* AuthorizedKeysCommand and AuthorizedPrincipalsCommand as written
	 * (the rest of the line; "none" kept, as sshd -T prints it), and the
	 * users they run as; NULL when unset. */
	char *authorized_keys_command;
	char *authorized_keys_command_user;
	char *authorized_principals_command;
	char *authorized_principals_command_user;
	/* HostCertificate (accumulate); -c adds to them. */
	char *host_cert_files[CONFIG_MAX_LIST];
	size_t nhost_cert_files;

	/* --- transport (issue 7) --- */
	/* Ciphers, MACs, KexAlgorithms, HostKeyAlgorithms: as written until
	 * config_fill_defaults(), then resolved as sshd -T prints them. */
	char *ciphers;
	char *macs;
	char *kex_algorithms;
	char *hostkey_algorithms;
	int compression; /* Compression: COMPRESSION_*; yes (delayed) */
	int use_dns;     /* UseDNS: no (monitor/usedns.c) */

	/* --- sessions (issue 6) --- */
	/* Subsystem (accumulate, global; the first line for a name wins):
	 * the name, and the command with its arguments joined by single
	 * spaces, as sshd -T prints them. */
	char *subsystem_name[CONFIG_MAX_LIST];
	char *subsystem_args[CONFIG_MAX_LIST];
	size_t nsubsystems;

	/* --- the login environment and jails (issue 6) --- */
	/* AcceptEnv patterns (lines accumulate) and SetEnv NAME=VALUE
	 * (the first line that sets any wins; a name's first value wins). */
	char *accept_env[CONFIG_MAX_LIST];
	size_t naccept_env;
	char *set_env[CONFIG_MAX_LIST];
	size_t nset_env;
	/* PermitUserEnvironment as written: "no" (NULL once filled), "yes",
	 * or a pattern list of the names to accept. */
	char *permit_user_env;
	int permit_user_rc;     /* yes */
	int print_motd;         /* yes */
	int print_lastlog;      /* yes */
	int expose_auth_info;   /* no */
	char *chroot_directory; /* none = NULL; tokens %% %h %U %u */
	/* --- agent and X11 forwarding, liveness (issue 8; config_liveness.c) */
	int allow_agent_forwarding;    /* yes */
	int disable_forwarding;        /* no */
	int x11_forwarding;            /* no */
	int x11_display_offset;        /* 10 */
	int x11_use_localhost;         /* yes */
	char *xauth_location;          /* /usr/bin/xauth */
	int client_alive_interval;     /* seconds; 0 = off */
	int client_alive_count_max;    /* 3 */
	int tcp_keepalive;             /* yes */
	int unused_connection_timeout; /* seconds; 0 = none */
	int permit_tunnel;             /* TUNNEL_*; no */
	/* IPQoS: IP_TOS / IPV6_TCLASS 0..255 or CONFIG_IPQOS_NONE; Debian's
	 * lowdelay (interactive) and throughput (bulk). */
	int ip_qos_interactive;
	int ip_qos_bulk;
	/* ChannelTimeout "type=interval" words as written; the single word
	 * "none" when set to none (it still counts as set). */
	char *channel_timeouts[CONFIG_MAX_LIST];
	size_t nchannel_timeouts;
	/* --- RekeyLimit (config_rekey.c) */
	long long rekey_limit; /* bytes; 0 = the cipher's own limit */
	int rekey_interval;    /* seconds; 0 = none */
	/* --- forwarding (issue 8) --- */
	struct config_forward fwd;
};

/* IPQoS none: the system's default class, never set. */
#define CONFIG_IPQOS_NONE 256

/* PermitTunnel values (as OpenSSH's SSH_TUNMODE_*). */
#define TUNNEL_NO 0
#define TUNNEL_POINTOPOINT 1
#define TUNNEL_ETHERNET 2
#define TUNNEL_YES 3
/* Compression values (as OpenSSH's COMP_NONE, COMP_DELAYED). */
#define COMPRESSION_NO 0
#define COMPRESSION_DELAYED 2

/* PubkeyAuthOptions flags (as OpenSSH's servconf.h). */
#define PUBKEYAUTH_TOUCH_REQUIRED 0x1
#define PUBKEYAUTH_VERIFY_REQUIRED 0x2

/* PermitRootLogin values (as OpenSSH's servconf.h). */
#define PERMIT_NO 0
#define PERMIT_FORCED_ONLY 1
#define PERMIT_NO_PASSWD 2 /* prohibit-password (without-password) */
#define PERMIT_YES 3

/* Who is connecting: what Match criteria and -C test against. */
struct match_conn {
	const char *user; /* NULL before the user is known */
	const char *host; /* client host name (no DNS: the address) */
	const char *addr; /* client address */
	const char *laddr;
	int lport;
	const char *rdomain; /* NULL: none */
	int invalid_user;    /* the user does not exist (Invalid-User) */
};

/*
 * The configuration as read: the main file and every file an Include
 * names (resolved when read, globbed, sorted, nested to a depth limit).
 * The listener reads it once per (re)load and hands it, serialised, to
 * each connection, which parses it; nothing is read from disk later.
 */
struct config_source;
struct buf;

int config_source_read(const char *path, struct config_source **srcp);
/* config_source_read_reload: the same for a SIGHUP's reload, which also
 * logs a file that cannot be opened (the perror()-style line on stderr
 * alone may go nowhere under a daemon). */
int config_source_read_reload(const char *path, struct config_source **srcp);
int config_source_serialize(const struct config_source *src, struct buf *out);
int config_source_deserialize(struct buf *in, struct config_source **srcp);
void config_source_free(struct config_source *src);
/*
 * config_source_set_quiet: no warnings for ignored keywords when loading
 * src (set on a source deserialised from the listener, which warned).
 */
void config_source_set_quiet(struct config_source *src, int quiet);

/* config_source_set_reload: the source is a SIGHUP's new configuration,
 * checked while the running one serves: its bad lines are counted
 * without "terminating". */
void config_source_set_reload(struct config_source *src);

/* config_load_source: the global (non-Match) settings; ERR_CONFIG if bad. */
int config_load_source(
    struct server_config *c, const struct config_source *src);
/*
 * config_apply_match: apply every Match block of src that mc matches on
 * top of c, as OpenSSH does: a value set in a matching block overrides the
 * global one; among matching blocks the first value obtained wins.
 * Called by the monitor once the user is known (and by -T -C).
 */
int config_apply_match(struct server_config *c, const struct config_source *src,
    const struct match_conn *mc);
/*
 * config_parse_conn_spec: the -C argument "user=…,host=…,addr=…,laddr=…,
 * lport=…,rdomain=…" into mc (strings point into a copy the caller frees
 * via *storage).
 */
int config_parse_conn_spec(
    const char *spec, struct match_conn *mc, char **storage);

/* config_time_value: sshd_config's time format ("1h30m"), in seconds;
 * -1 when malformed (for -g). */
int config_time_value(const char *s);

/* config_port_value: a port as sshd's -p takes it, 1..65535 or a tcp
 * service name ("ssh"); -1 otherwise. */
int config_port_value(const char *s);

/* config_init: every field unset (CONFIG_UNSET / NULL / empty lists). */
void config_init(struct server_config *c);
/* config_free: free all strings; the struct is left as after config_init. */
void config_free(struct server_config *c);

/*
 * config_parse_line: one command-line option (-o), which comes before
 * the file and so wins. filename and lineno are used in error messages
 * ("FILE line N: ..." as OpenSSH words them); Include and Match are
 * refused here. Returns 0, or after logging the error ERR_FORMAT for a
 * line sshd refuses and goes on (an unknown keyword, no argument, bad
 * quotes: sshd exits 1 for such a -o) or ERR_CONFIG for a bad value (a
 * fatal() in sshd: exit 255).
 */
int config_parse_line(struct server_config *c, const char *line,
    const char *filename, int lineno);
/*
 * config_add_host_key: a -h host key file, as sshd's servconf_add_hostkey()
 * takes it: the path as given (spaces, quotes and '#' included, no line
 * to parse), made absolute as a HostKey line's. 0, or ERR_CONFIG (said).
 */
int config_add_host_key(struct server_config *c, const char *path);
/* The largest config file read (each file of a source). */
#define CONFIG_TEXT_MAX (1024 * 1024)
/* The largest serialised source handed to a connection. */
#define CONFIG_SOURCE_MAX (32 * 1024 * 1024)

/* config_fill_defaults: set every still-unset field to its default. */
void config_fill_defaults(struct server_config *c);
/*
 * config_check: what sshd checks once the config is complete: at least
 * one AuthenticationMethods list can be satisfied by the enabled methods.
 * ERR_CONFIG after logging why not.
 */
int config_check(const struct server_config *c);
/*
 * config_check_listen: every ListenAddress resolves (for its AddressFamily),
 * as sshd requires when it starts or tests a config ("bad addr or host").
 * The listener checks it; a connection's monitor does not look names up.
 */
int config_check_listen(const struct server_config *c);
struct fwd_policy;
/*
 * config_forward_policy: the forwarding settings of a complete config
 * (after Match) as the session enforces them. ERR_ALLOC, or ERR_CONFIG
 * for a PermitOpen/PermitListen entry the parser let through.
 */
int config_forward_policy(const struct server_config *c, struct fwd_policy *p);
/* config_dump: print the effective config like `sshd -T` (lowercase keys). */
void config_dump(const struct server_config *c, FILE *f);

/*
 * Token expansion (sshd_config(5) TOKENS). A token whose value is needed
 * but NULL, a token not in `allowed', or a lone '%' at the end is an
 * error. %% is always allowed.
 */
struct token_values {
	const char *home;     /* %h */
	const char *user;     /* %u */
	const char *uid;      /* %U, the numeric uid as text */
	const char *conn;     /* %C "client-addr client-port server-addr
	                         server-port" */
	const char *rdomain;  /* %D */
	const char *fp;       /* %f key fingerprint */
	const char *key;      /* %k base64 key or certificate */
	const char *key_type; /* %t */
	const char *key_id;   /* %i certificate key ID */
	const char *serial;   /* %s certificate serial */
	const char *ca_fp;    /* %F */
	const char *ca_key;   /* %K */
	const char *ca_type;  /* %T */
};
/* Which tokens each keyword takes, as sshd_config(5) documents them. */
#define CONFIG_TOKENS_AUTHORIZED_KEYS_FILE "hUu"
#define CONFIG_TOKENS_AUTHORIZED_PRINCIPALS_FILE "hUu"
#define CONFIG_TOKENS_CHROOT_DIRECTORY "hUu"
#define CONFIG_TOKENS_AUTHORIZED_KEYS_COMMAND "CDfhktUu"
#define CONFIG_TOKENS_AUTHORIZED_PRINCIPALS_COMMAND "CDFfhiKksTtUu"
#define CONFIG_TOKENS_RDOMAIN "D"
/* ForceCommand and Banner take none: their text is used as written. */
#define CONFIG_TOKENS_NONE ""
/*
 * config_expand_tokens: s with every %X of `allowed' replaced; a malloc'd
 * string, or NULL after logging the error (bad token or trailing %, in
 * sshd's vdollar_percent_expand() words; missing value; result longer
 * than CONFIG_TOKENS_MAX). The caller ends the connection, with sshd's
 * fatal line "percent_expand: failed".
 */
#define CONFIG_TOKENS_MAX 8192
char *config_expand_tokens(
    const char *s, const struct token_values *tv, const char *allowed);
/*
 * config_tilde_expand: sshd's tilde_expand(): "~user/x" with user's home,
 * "~/x" with uid's, other paths as they are, into a malloc'd *out; 0,
 * ERR_TOO_BIG or ERR_NOT_FOUND (logged as sshd: "tilde_expand: ..."), or
 * ERR_ALLOC.
 */
int config_tilde_expand(const char *path, uid_t uid, char **out);

/* What postern does with a keyword (docs/sshd_config.md lists them). */
enum config_keyword_status {
	CONFIG_KW_IMPLEMENTED, /* takes effect */
	CONFIG_KW_IGNORED,     /* accepted with a warning, ignored */
	CONFIG_KW_VALUE,       /* ignored with a warning or refused, by value */
	CONFIG_KW_REFUSED,     /* an error unless its value is "none" */
	CONFIG_KW_DEPRECATED,  /* OpenSSH's "Deprecated option": ignored */
};
/*
 * config_keyword_info: the i-th keyword of the table (canonical name,
 * status, whether Match may set it). ERR_NOT_FOUND past the end.
 */
int config_keyword_info(
    size_t i, const char **name, int *status, int *in_match);

#endif
