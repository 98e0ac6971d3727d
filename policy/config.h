/*
 * config.h: sshd_config(5) parsing. First obtained value wins, as in
 * OpenSSH; list keywords accumulate.
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#define CONFIG_MAX_LIST 64
#define CONFIG_UNSET -1

struct listen_addr {
	char *host; /* NULL = any address of the family */
	int port;   /* 0 = use the Port list */
};

struct server_config {
	/* Ports from Port lines (accumulate); default 22. */
	int ports[CONFIG_MAX_LIST];
	size_t nports;
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
	char *pid_file;            /* /run/sshd.pid; "none" = NULL */
	int login_grace_time;      /* seconds; 120 */
	int max_auth_tries;        /* 6 */
	int max_sessions;          /* 10 */
	/* MaxStartups begin:rate:full; default 10:30:100. */
	int max_startups_begin;
	int max_startups_rate;
	int max_startups;
};

/* config_init: every field unset (CONFIG_UNSET / NULL / empty lists). */
void config_init(struct server_config *c);
/* config_free: free all strings; the struct is left as after config_init. */
void config_free(struct server_config *c);

/*
 * config_parse_line: one line of config text. filename and lineno are used
 * in error messages ("FILE line N: ..." as OpenSSH words them). Returns 0,
 * or ERR_CONFIG after logging the error.
 */
int config_parse_line(struct server_config *c, const char *line,
    const char *filename, int lineno);
#define CONFIG_TEXT_MAX (1024 * 1024)

/* config_read_file: the whole file (at most CONFIG_TEXT_MAX), NUL-ended. */
int config_read_file(const char *path, char **textp, size_t *lenp);
/*
 * config_load_text: every line of config text read earlier; name is used in
 * messages. The listener hands its text to each connection this way, so a
 * file edited on disk takes effect only on SIGHUP.
 */
int config_load_text(
    struct server_config *c, const char *text, size_t len, const char *name);
/* config_load_file: every line of a file; ERR_CONFIG if any line was bad. */
int config_load_file(struct server_config *c, const char *path);
/* config_fill_defaults: set every still-unset field to its default. */
void config_fill_defaults(struct server_config *c);
/* config_dump: print the effective config like `sshd -T` (lowercase keys). */
void config_dump(const struct server_config *c, FILE *f);

#endif
