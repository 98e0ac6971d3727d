/*
 * config_session.c: the keywords of a login's environment (AcceptEnv,
 * SetEnv, PermitUserEnvironment) and ChrootDirectory, parsed as
 * sshd_config(5) describes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "log.h"
#include "policy/config_int.h"

/* The length of a NAME=VALUE's name, including the '='. */
static size_t
env_name_len(const char *s)
{
	const char *eq = strchr(s, '=');

	return eq != NULL ? (size_t)(eq - s) + 1 : strlen(s);
}

/* AcceptEnv: names or patterns without '='; every line adds to the list. */
int
cfg_kw_accept_env(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg;
	char *dup;

	while ((arg = cfg_next_arg(a)) != NULL) {
		if (*arg == '\0' || strchr(arg, '=') != NULL) {
			cfg_error(a, "Invalid environment name.");
			return ERR_CONFIG;
		}
		if (!a->active)
			continue;
		if (c->naccept_env >= CONFIG_MAX_LIST) {
			cfg_error(a, "too many %s entries.", k->name);
			return ERR_CONFIG;
		}
		if ((dup = strdup(arg)) == NULL)
			return ERR_ALLOC;
		c->accept_env[c->naccept_env++] = dup;
	}
	return 0;
}

/*
 * SetEnv: NAME=VALUE words. As sshd: only the first line that sets any
 * is used, and within it the first value of a name wins.
 */
int
cfg_kw_set_env(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	size_t had = c->nset_env, i;
	const char *arg;
	char *dup;

	while ((arg = cfg_next_arg(a)) != NULL) {
		if (*arg == '\0' || strchr(arg, '=') == NULL) {
			cfg_error(a, "Invalid environment.");
			return ERR_CONFIG;
		}
		if (!a->active || had != 0)
			continue;
		for (i = 0; i < c->nset_env; i++)
			if (strncmp(c->set_env[i], arg, env_name_len(arg)) == 0)
				break;
		if (i < c->nset_env) {
			debug2("Setting \"%s\" twice", arg);
			continue;
		}
		if (c->nset_env >= CONFIG_MAX_LIST) {
			cfg_error(a, "too many %s entries.", k->name);
			return ERR_CONFIG;
		}
		if ((dup = strdup(arg)) == NULL)
			return ERR_ALLOC;
		c->set_env[c->nset_env++] = dup;
	}
	return 0;
}

/* One non-empty word into *dst, the first value winning. */
static int
first_word(char **dst, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);

	if (arg == NULL || *arg == '\0')
		return cfg_missing_arg(a);
	if (a->active && *dst == NULL && (*dst = strdup(arg)) == NULL)
		return ERR_ALLOC;
	return 0;
}

/* PermitUserEnvironment yes | no | pattern-list; first value wins. */
int
cfg_kw_permit_user_env(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	return first_word(&c->permit_user_env, a);
}

/* ChrootDirectory: one path (tokens expanded and checked at login). */
int
cfg_kw_chroot(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	return first_word(&c->chroot_directory, a);
}

/* acceptenv / setenv: one line per entry, as sshd -T. */
void
cfg_dump_env_list(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	char *const *list = field_str_c(c, k);
	size_t i, n = *field_count_c(c, k);
	const char *p;

	for (i = 0; i < n; i++) {
		for (p = k->name; *p != '\0'; p++)
			fputc(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p, f);
		fprintf(f, " %s\n", list[i]);
	}
}

/* permituserenvironment: yes, no, or the pattern list. */
void
cfg_dump_permit_user_env(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	fprintf(f, "permituserenvironment %s\n",
	    c->permit_user_env == NULL ? "no" : c->permit_user_env);
}
