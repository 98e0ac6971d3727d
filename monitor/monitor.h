/* monitor.h: posternd internals: listener, per-connection monitor, auth. */
#ifndef POSTERN_MONITOR_H
#define POSTERN_MONITOR_H

#include <sys/types.h>

#include <pwd.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc.h"
#include "policy/config.h"

#ifndef POSTERN_PRIVSEP_USER
#define POSTERN_PRIVSEP_USER "postern"
#endif
#ifndef POSTERN_EMPTY_DIR
#define POSTERN_EMPTY_DIR "/run/postern"
#endif
#ifndef POSTERN_LIBEXECDIR
#define POSTERN_LIBEXECDIR "/usr/lib/postern"
#endif
#define POSTERN_VERSION "postern_0.1"
/*
 * What clients see. The software version has OpenSSH's form, so that
 * clients' compatibility tables (the OpenSSH client's "OpenSSH*") treat
 * this server as the sshd it replaces: otherwise the OpenSSH client sends
 * neither eow@openssh.com (`ssh host yes | head -1` would never end) nor
 * no-more-sessions@openssh.com. The comment after it names postern.
 */
#define POSTERN_BANNER "SSH-2.0-OpenSSH_9.9 " POSTERN_VERSION

#define SERVER_SIG_ALGS                                                        \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"                 \
	"ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"

struct sshkey;
struct buf;

/* -u's bound and default: sshd's HOST_NAME_MAX + 1. */
#define UTMP_HOST_LEN_MAX 65

/* Everything the command line sets. */
struct options {
	const char *config_file;
	char *config_path_abs; /* config_file made absolute, for SIGHUP */
	int foreground;        /* -D */
	int log_stderr;        /* -e */
	int debug;             /* -d count */
	int cmdline_ll;    /* -d and -q's LogLevel (sshd's arithmetic), or -1 */
	int test_only;     /* -t */
	int dump_config;   /* -T */
	int rexec;         /* -R: per-connection monitor on fd 3 (internal) */
	int inetd;         /* -i */
	int utmp_host_len; /* -u: longest host name utmp records (sshd: 65) */
	int log_fd;        /* -E's file, or -1 */
	int cmdline_ports[16]; /* -p, checked as read (1..65535) */
	size_t ncmdline_ports;
	char *cmdline_hostkeys[16];
	size_t ncmdline_hostkeys;
	char *cmdline_opts[64];
	size_t ncmdline_opts;
	size_t nopts_before_p;  /* -o options given before the first -p */
	int ports_from_cmdline; /* a -p was given */
};

/*
 * A loaded host key: private, with its public blob; or, with agent set,
 * only the public key, the private one held by the HostKeyAgent.
 */
struct hostkey_pub {
	struct sshkey *key;
	uint8_t *blob;
	size_t bloblen;
	char *path;
	int agent;
};

/* A host certificate for pub[pub]. */
struct hostkey_cert {
	size_t pub;
	uint8_t *blob; /* the certificate */
	size_t bloblen;
	char *path;
};

/* One offered host key algorithm and what serves it (borrowed). */
struct hostkey {
	struct sshkey *key;  /* private, or public with agent set */
	int agent;           /* signed by the HostKeyAgent */
	char *alg;           /* "rsa-sha2-256", "ssh-ed25519-cert-v01@..." */
	const uint8_t *blob; /* public blob or certificate */
	size_t bloblen;
	const char *path;
};

struct hostkeys {
	struct hostkey_pub pub[IPC_HOSTKEYS_MAX];
	size_t npub;
	struct hostkey_cert cert[IPC_HOSTKEYS_MAX];
	size_t ncert;
	/* The offer, in HostKeyAlgorithms order (algs), then the further keys
	 * of an offered type, under its first entry's name (hostkeys-00). */
	struct hostkey keys[IPC_HOSTKEY_ENTRIES_MAX];
	size_t n;
	char *algs;       /* comma list of the offered algorithms */
	char *agent_sock; /* HostKeyAgent's socket, or NULL */
};

/*
 * The listener passes its configuration source (config_source_serialize)
 * to each connection in a sealed memfd on this fd.
 */
#define CONFIG_TEXT_FD 5
/*
 * A SIGHUP restart: the listener hands the configuration it read and
 * checked to the restarted listener in a sealed memfd named by this
 * variable, so that it never reads the files a second time (one changed
 * meanwhile would end the server).
 */
#define RELOAD_CONFIG_ENV "POSTERN_LISTENER_CONFIG"
/* And the -f path, absolute, for its own SIGHUPs (options.config_path_abs). */
#define RELOAD_PATH_ENV "POSTERN_LISTENER_CONFIG_PATH"
/* Inetd mode over a pipe pair: the relay's byte count (monitor/relay.h). */
#define RELAY_COUNT_FD 6

/* main.c */
/*
 * load_config: command-line options, then the global settings of src,
 * -p, the defaults and sshd's final checks. Match blocks are applied
 * later, per connection (config_apply_match with src).
 */
int load_config(const struct options *o, const struct config_source *src,
    struct server_config *c);
/* Path of a helper binary: next to posternd, else the libexec dir. */
int helper_path(const char *name, char *out, size_t outlen);

/* hostkeys.c */
/*
 * hostkeys_load logs at least as much as the level hostkeys_set_log_level
 * set (main.c: the command line's, -q, -d or -o LogLevel, else INFO) asks
 * for: sshd loads its host keys before the files' LogLevel applies, so a
 * LogLevel QUIET or FATAL in a file does not hide why a key did not load.
 */
int hostkeys_load(const struct server_config *c, struct hostkeys *hk);
/* Whether a host key loads (0), logging nothing. */
int hostkeys_probe(const struct server_config *c);
void hostkeys_set_log_level(int level);
/* That level from now on, where more verbose: for "no hostkeys available"
 * before exiting. */
void hostkeys_use_log_level(void);
void hostkeys_free(struct hostkeys *hk);
const struct hostkey *hostkeys_by_alg(
    const struct hostkeys *hk, const char *alg);
/*
 * hostkeys_prove: the monitor's half of hostkeys-prove-00@openssh.com
 * (OpenSSH PROTOCOL s2.5): req is the key blobs the client asked about;
 * reply gets bool granted, u32 n, n x string signature over
 * (string "hostkeys-prove-00@openssh.com", string sid, string blob).
 * Only keys this monitor loaded are signed; anything else is refused.
 */
int hostkeys_prove(const struct hostkeys *hk, const char *kex_alg,
    const uint8_t *sid, size_t sidlen, struct buf *req, struct buf *reply);
/*
 * hostkeys_sign: sshkey_sign with a host key of hk, by the HostKeyAgent
 * when agent is set (hostkey_agent.c).
 */
int hostkeys_sign(const struct hostkeys *hk, const struct sshkey *key,
    int agent, struct buf *out, const uint8_t *data, size_t datalen,
    const char *alg);
/* The loaded host key whose public blob is blob, or NULL. */
const struct hostkey_pub *hostkeys_by_blob(
    const struct hostkeys *hk, const uint8_t *blob, size_t len);

/* listener.c */
int listener_run(const struct options *o, struct server_config *c,
    const struct config_source *src, char **argv);
/* Close the descriptors from 3 on that posternd did not start with for
 * itself (systemd's sockets and a restart's are kept). */
void listener_close_inherited(void);

struct conn_info;
/* monitor.c: the two ends of the connection on socket fd (relayed: fd is
 * the inetd relay's socketpair, whose local end is no address). */
void conn_info_fill(struct conn_info *ci, int fd, int relayed);

/* monitor.c: serve one connection on fd 3; never returns. */
void monitor_run(const struct options *o, struct server_config *c,
    const struct config_source *src) __attribute__((noreturn));

#endif
