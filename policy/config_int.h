/*
 * config_int.h: what the policy/config*.c files share: the config source
 * layout, one parse pass, the keyword table and the tokeniser.
 */
#ifndef POSTERN_CONFIG_INT_H
#define POSTERN_CONFIG_INT_H

#include <stddef.h>
#include <stdio.h>

#include "policy/config.h"

#define CFG_WHITESPACE " \t\r\n"
#define CFG_MAX_DEPTH 16      /* OpenSSH's SERVCONF_MAX_DEPTH */
#define CFG_MAX_FILES 1024    /* files in one source */
#define CFG_MAX_INCLUDES 1024 /* distinct Include patterns in one source */
#ifndef CFG_MAX_LINES
#define CFG_MAX_LINES 1000000L /* lines one pass may read, Includes expanded */
#endif

#ifndef POSTERN_SYSCONFDIR
#define POSTERN_SYSCONFDIR "/etc/ssh"
#endif

struct config_file {
	char *path;
	char *text; /* NUL-terminated, no NUL inside (as sshd keeps it) */
	size_t len;
};

/* One Include pattern as resolved when read, and the files it matched. */
struct config_include {
	char *selector; /* the pattern, made absolute */
	size_t *files;  /* indexes into files[], in glob order */
	size_t nfiles;
};

struct config_source {
	struct config_file *files; /* files[0] is the main file */
	size_t nfiles;
	struct config_include *incs;
	size_t nincs;
	size_t total; /* bytes of text, for the size cap */
	/*
	 * Set on a source handed over by the listener: it already reported
	 * the ignored keywords, so each connection stays quiet about them.
	 */
	int quiet;
	/* A SIGHUP's new configuration: a bad one ends nothing. */
	int reload;
};

/* How the files of a source are found: glob(3) and files, or memory. */
struct cfg_reader {
	/* paths matching pattern, sorted; GLOB_NOMATCH gives 0 paths */
	int (*glob)(void *ctx, const char *pattern, char ***pathsp, size_t *np);
	int (*read)(void *ctx, const char *path, char **textp, size_t *lenp);
	void *ctx;
};

struct cfg_memfile {
	const char *path;
	const char *text;
	size_t len;
};

int cfg_source_build(
    const char *path, const struct cfg_reader *rd, struct config_source **srcp);
/* A source from files in memory (tests, fuzzing); files[0] is the main. */
int cfg_source_from_memory(
    const struct cfg_memfile *files, size_t n, struct config_source **srcp);
/* The files an Include pattern (already made absolute) matched. */
const struct config_include *cfg_source_include(
    const struct config_source *src, const char *selector);
/* cfg_read_file: a whole file of at most CONFIG_TEXT_MAX bytes. */
int cfg_read_file(const char *path, char **textp, size_t *lenp);
/* cfg_include_selector: Include's argument made absolute as sshd does. */
int cfg_include_selector(const char *arg, char **out);

/* One parse pass over a source (OpenSSH parses a config twice). */
struct cfg_pass {
	struct server_config *c;
	const struct config_source *src;
	/* Match application: who connects; NULL while loading. */
	const struct match_conn *mc;
	int apply; /* 1: config_apply_match, global lines are skipped */
	int quiet; /* no warnings for ignored keywords */
	int abort; /* an included file failed: stop */
	long lines;
};

/* Per-file flags, as OpenSSH's SSHCFG_NEVERMATCH and SSHCFG_MATCH_ONLY. */
#define CFG_NEVERMATCH 0x1 /* inside a Match that does not apply */
#define CFG_MATCH_ONLY 0x2 /* applying: global lines before any Match */
#define CFG_IN_MATCH 0x4   /* after a Match line (or Included there) */

/* One line after tokenising; handlers consume av[next...]. */
struct cfg_args {
	const char *filename;
	int lineno;
	const char *keyword; /* as written, for messages */
	const char *rest;    /* the line after the keyword, untokenised */
	char **av;
	int ac;
	int next;
	/*
	 * 0 inside a Match block that does not apply: arguments are still
	 * checked but nothing is stored.
	 */
	int active;
	/* Include and Match change these; NULL for a command-line option. */
	struct cfg_pass *pass;
	int *activep;
	unsigned *fflags;
	int depth;
};

struct keyword;
typedef int (*kw_parse_fn)(
    struct server_config *, const struct keyword *, struct cfg_args *);
typedef void (*kw_dump_fn)(
    const struct server_config *, const struct keyword *, FILE *);
/*
 * kw_check_fn: for a keyword postern does not implement, whether ignoring
 * this value could weaken security: NULL if not (warn and ignore), else
 * the reason it is refused.
 */
typedef const char *(*kw_check_fn)(
    const struct keyword *, struct cfg_args *, char *buf, size_t len);

/* Keyword flags. */
#define KW_MATCH 0x01 /* may appear inside a Match block */

struct choice {
	const char *name;
	int value;
};

struct keyword {
	const char *name; /* canonical spelling; lowercased for the dump */
	kw_parse_fn parse;
	kw_dump_fn dump;  /* NULL: not shown by config_dump */
	size_t off;       /* offsetof the field in struct server_config */
	size_t count_off; /* list keywords: offsetof the size_t count */
	const struct choice *choices; /* multi-state keywords */
	unsigned flags;
	int status;        /* enum config_keyword_status */
	kw_check_fn check; /* CONFIG_KW_VALUE: may this value be ignored? */
	/*
	 * CONFIG_KW_REFUSED: what ignoring the keyword would do; algorithm
	 * lists: the names postern offers.
	 */
	const char *data;
};

/* The field a table row names, by its offset in struct server_config. */
static inline int *
field_int(struct server_config *c, const struct keyword *k)
{
	return (int *)(void *)((char *)c + k->off);
}

static inline const int *
field_int_c(const struct server_config *c, const struct keyword *k)
{
	return (const int *)(const void *)((const char *)c + k->off);
}

static inline char **
field_str(struct server_config *c, const struct keyword *k)
{
	return (char **)(void *)((char *)c + k->off);
}

static inline char *const *
field_str_c(const struct server_config *c, const struct keyword *k)
{
	return (char *const *)(const void *)((const char *)c + k->off);
}

/* A grown array (AllowUsers & co.): the address of its pointer. */
static inline char ***
field_vec(struct server_config *c, const struct keyword *k)
{
	return (char ***)(void *)((char *)c + k->off);
}

static inline char *const *
field_vec_c(const struct server_config *c, const struct keyword *k)
{
	return *(char *const *const *)(const void *)((const char *)c + k->off);
}

static inline size_t *
field_count(struct server_config *c, const struct keyword *k)
{
	return (size_t *)(void *)((char *)c + k->count_off);
}

static inline const size_t *
field_count_c(const struct server_config *c, const struct keyword *k)
{
	return (const size_t *)(const void *)((const char *)c + k->count_off);
}

extern const struct keyword cfg_keywords[];
extern const size_t cfg_nkeywords;

const struct keyword *cfg_keyword_find(const char *name);
int cfg_vec_push(char ***list, size_t *n, const char *s);
void cfg_vec_free(char ***list, size_t *n);
void cfg_report_unknown(const char *kw, const char *filename, int lineno);
const char *cfg_next_arg(struct cfg_args *a);
/* sshd's "FILE line N: KEYWORD missing argument."; returns ERR_CONFIG. */
int cfg_missing_arg(const struct cfg_args *a);
/*
 * cfg_error: a bad line's message in sshd's words, "FILE line N: MESSAGE",
 * with the keyword as written before the message where the message does
 * not name it ("FILE line N: LoginGraceTime: invalid time value."): every
 * bad line names its file, line and keyword.
 */
void cfg_error(const struct cfg_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * Lines sshd refuses with error() and goes past, which its "terminating,
 * N bad configuration options" summary counts (cfg_parse_file): each logs
 * sshd's words and returns ERR_FORMAT, where a bad value (sshd's fatal())
 * is ERR_CONFIG. cfg_empty_arg: an empty argument ("");
 * cfg_none_not_alone: "none" with other arguments.
 */
int cfg_empty_arg(const struct cfg_args *a);
int cfg_none_not_alone(const struct cfg_args *a);

/* config.c: the pass driver, and the keywords that steer it. */
int cfg_parse_file(
    struct cfg_pass *p, size_t idx, int depth, int *activep, unsigned fflags);
int cfg_kw_include(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_match(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);

/* config_lex.c: OpenSSH's tokenising. */
/*
 * cfg_strdelim: the next word as sshd's strdelim() cuts it: it ends at
 * whitespace, '=' or a double-quoted part; the separator may be
 * whitespace, one '=', or whitespace around one '='. *sp is left at the
 * rest, or NULL at the end. Returns NULL for an unterminated quote.
 */
char *cfg_strdelim(char **sp);
/*
 * cfg_split_line: trailing whitespace dropped, the keyword cut off.
 * Returns 0 with *kw NULL for an empty or comment line, 0 with *kw and
 * *rest set (rest NULL or "" when there are no arguments), ERR_FORMAT for
 * invalid quotes in the keyword.
 */
int cfg_split_line(char *line, char **kw, char **rest);
/*
 * cfg_split_args: the arguments as sshd's argv_split() splits them.
 * ERR_FORMAT for an unterminated quote.
 */
int cfg_split_args(const char *s, struct cfg_args *a);
void cfg_free_args(struct cfg_args *a);

/* config_match.c */
/* cfg_a2port: OpenSSH's a2port(): 0..65535 or a tcp service; else -1. */
int cfg_a2port(const char *s);
/*
 * cfg_match_line: the criteria of one Match line (*condp, advanced past
 * what was read). mc NULL: syntax only, nothing matches but "All".
 * Returns 1 (matches), 0, or -1 (bad condition, logged).
 */
int cfg_match_line(char **condp, int lineno, const struct match_conn *mc);

/* config_values.c: value syntax and the implemented keywords. */
int cfg_parse_decimal(const char *s, long long min, long long max,
    long long *out, const char **why);
int cfg_time_value(const char *s);
int cfg_kw_int(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_totp_window(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_choice(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_time(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_log_level(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
/* FingerprintHash: MD5, SHA1, SHA256, SHA384 or SHA512 (any case). */
int cfg_kw_fp_hash(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_facility(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_path(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_path_list(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_word_list(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_port(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_listen(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_host_key_agent(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_version_addendum(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_max_startups(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_per_source_max(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
/* config_penalty.c: PerSourcePenalties, PerSourcePenaltyExemptList. */
void cfg_penalty_init(struct server_config *c);
void cfg_penalty_defaults(struct server_config *c);
int cfg_kw_penalties(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
void cfg_dump_penalties(
    const struct server_config *c, const struct keyword *k, FILE *f);
int cfg_kw_penalty_exempt(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
void cfg_dump_penalty_exempt(
    const struct server_config *c, const struct keyword *k, FILE *f);
int cfg_kw_netblock(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_user_list(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_group_list(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_auth_methods(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_force_command(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_pam_service(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_use_pam(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_tilde_path(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_command(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_local_user(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_subsystem(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_pubkey_algos(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_ca_sig_algos(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_ciphers(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_macs(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_kex_algos(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_hostkey_algos(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_pubkey_auth_options(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
/* config_session.c: the login environment and ChrootDirectory. */
int cfg_kw_accept_env(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_set_env(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_permit_user_env(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_chroot(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
void cfg_dump_env_list(
    const struct server_config *c, const struct keyword *k, FILE *f);
void cfg_dump_permit_user_env(
    const struct server_config *c, const struct keyword *k, FILE *f);
void cfg_dump_max_startups(
    const struct server_config *c, const struct keyword *k, FILE *f);
void cfg_dump_per_source_max(
    const struct server_config *c, const struct keyword *k, FILE *f);
void cfg_dump_netblock(
    const struct server_config *c, const struct keyword *k, FILE *f);

/* config_unsupported.c: argument checks for keywords postern ignores. */
int cfg_v_one(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_v_file(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_v_rest(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_v_consume(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_v_words(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_v_env_names(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_v_env(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_v_algos(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
/* sshd's "Unsupported KEX algorithm" line for the first bad name of list. */
void cfg_report_bad_kex(const char *list, const char *valid);
/* A kex list with Debian's GSSAPI names cut to their prefix (malloc'd). */
char *cfg_gss_kex_canon(const char *list);
/* GSSAPIKexAlgorithms: Debian's GSSAPI key exchange names, by prefix. */
int cfg_v_gss_kex(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);

const char *cfg_chk_always(
    const struct keyword *k, struct cfg_args *a, char *buf, size_t len);

/* config_liveness.c: agent/X11 forwarding, tunnels, liveness. */
void cfg_liveness_init(struct server_config *c);
void cfg_liveness_free(struct server_config *c);
void cfg_liveness_defaults(struct server_config *c);
void cfg_liveness_copy_match(
    struct server_config *dst, struct server_config *src);
int cfg_kw_none_or_time(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
void cfg_dump_none_or_time(
    const struct server_config *c, const struct keyword *k, FILE *f);
int cfg_kw_ipqos(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
void cfg_dump_ipqos(
    const struct server_config *c, const struct keyword *k, FILE *f);
int cfg_kw_permit_tunnel(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_channel_timeout_split(
    const char *word, char *type, size_t tlen, int *secs);
int cfg_kw_channel_timeout(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
void cfg_dump_channel_timeouts(
    const struct server_config *c, const struct keyword *k, FILE *f);

/* config_rekey.c: RekeyLimit. */
int cfg_kw_rekey_limit(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
void cfg_dump_rekey_limit(
    const struct server_config *c, const struct keyword *k, FILE *f);

/* config_forward.c */
void cfg_forward_init(struct config_forward *f);
void cfg_forward_free(struct config_forward *f);
int cfg_kw_permits(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
int cfg_kw_octal(
    struct server_config *c, const struct keyword *k, struct cfg_args *a);
void cfg_dump_permits(
    const struct server_config *c, const struct keyword *k, FILE *f);
void cfg_dump_octal(
    const struct server_config *c, const struct keyword *k, FILE *f);

/* config_keywords.c */
/* cfg_dump_key: the keyword, lowercased, and a space (sshd -T). */
void cfg_dump_key(FILE *f, const struct keyword *k);
/* Match application: copy what a Match block may set from src. */
int cfg_copy_match_values(struct server_config *dst, struct server_config *src);

#endif
