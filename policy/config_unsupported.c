/*
 * config_unsupported.c: the keywords postern does not implement. Their
 * arguments are still checked with sshd's rules (a config sshd refuses is
 * refused here too); the checks decide whether ignoring a value could
 * weaken security, in which case the line is refused, not ignored.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alglist.h"
#include "err.h"
#include "log.h"
#include "policy/config_int.h"

/* One argument (a user name, a socket, an algorithm list...). */
int
cfg_v_one(struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);

	if (arg == NULL || *arg == '\0')
		return cfg_missing_arg(a);
	return 0;
}

/* One file name. */
int
cfg_v_file(struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing file name.");
		return ERR_CONFIG;
	}
	return 0;
}

/* The rest of the line as written (VersionAddendum). */
int
cfg_v_rest(struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *s = a->rest != NULL ? a->rest : "";

	s += strspn(s, CFG_WHITESPACE);
	if (*s == '\0')
		return cfg_missing_arg(a);
	if (strchr(s, '\r') != NULL) {
		cfg_error(a, "Invalid %s argument", a->keyword);
		return ERR_CONFIG;
	}
	a->next = a->ac;
	return 0;
}

/* Anything: what OpenSSH itself ignores (deprecated keywords). */
int
cfg_v_consume(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	a->next = a->ac;
	return 0;
}

/* Non-empty words; "none" only alone. */
int
cfg_v_words(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg;
	int n = 0;

	while ((arg = cfg_next_arg(a)) != NULL) {
		if (*arg == '\0')
			return cfg_empty_arg(a);
		if (strcasecmp(arg, "none") == 0 && (n > 0 || a->next < a->ac))
			return cfg_none_not_alone(a);
		n++;
	}
	/* None after a comment ("LogVerbose # x") is taken, as by sshd. */
	return 0;
}

/* AcceptEnv: variable names (patterns), no '='. */
int
cfg_v_env_names(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg;

	while ((arg = cfg_next_arg(a)) != NULL) {
		if (*arg == '\0' || strchr(arg, '=') != NULL) {
			cfg_error(a, "Invalid environment name.");
			return ERR_CONFIG;
		}
	}
	return 0;
}

/* SetEnv: NAME=VALUE words. */
int
cfg_v_env(struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg;

	while ((arg = cfg_next_arg(a)) != NULL) {
		if (*arg == '\0' || strchr(arg, '=') == NULL) {
			cfg_error(a, "Invalid environment.");
			return ERR_CONFIG;
		}
	}
	return 0;
}

/*
 * HostbasedAcceptedAlgorithms: a key algorithm list, its names checked as
 * sshd checks them (patterns allowed; a "-list" unchecked; empty entries
 * skipped).
 */
int
cfg_v_algos(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);

	if (arg == NULL || *arg == '\0')
		return cfg_missing_arg(a);
	if (!alglist_names_valid(arg, ALGLIST_KEY_ALL)) {
		cfg_error(a, "Bad key types '%s'.", arg);
		return ERR_CONFIG;
	}
	return 0;
}

/*
 * GSSAPIKexAlgorithms: names of ALGLIST_GSS_KEX, each taken by its prefix
 * as Debian's sshd takes it (cfg_gss_kex_canon); no +, - or ^.
 */
int
cfg_v_gss_kex(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a), *p;
	char e[128], *canon;
	int toolong, r = 0;

	if (arg == NULL || *arg == '\0')
		return cfg_missing_arg(a);
	if ((canon = cfg_gss_kex_canon(arg)) == NULL)
		return ERR_ALLOC;
	for (p = canon; alglist_next(&p, e, sizeof(e), &toolong);) {
		if (toolong ||
		    (e[0] != '\0' && !alglist_has(ALGLIST_GSS_KEX, e))) {
			cfg_report_bad_kex(arg, ALGLIST_GSS_KEX);
			cfg_error(a, "Bad GSSAPI KexAlgorithms '%s'.", arg);
			r = ERR_CONFIG;
			break;
		}
	}
	free(canon);
	return r;
}

/* --- may this value be ignored? ------------------------------------------- */

/* A keyword refused whatever its value (k->data says why). */
const char *
cfg_chk_always(
    const struct keyword *k, struct cfg_args *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s", k->data);
	return buf;
}
