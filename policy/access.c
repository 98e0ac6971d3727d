/*
 * access.c: the user and group access lists of sshd_config(5), evaluated as
 * OpenSSH's allowed_user() does: DenyUsers, AllowUsers, DenyGroups,
 * AllowGroups, the first refusal ends it.
 */
#include <sys/types.h>

#include <grp.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "match.h"
#include "policy/access.h"

static int
any_user_match(char *const *pats, size_t n, const char *user, const char *host,
    const char *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (match_user_host(user, host, addr, pats[i]) == 1)
			return 1;
	return 0;
}

/*
 * The names of the user's groups, primary and supplementary, as OpenSSH's
 * ga_init(): a group id without a group entry has no name and is left
 * out. Returns how many (0: none), or -1 on allocation failure.
 */
static int
group_names(const char *user, gid_t gid, char ***namesp)
{
	struct group *gr;
	gid_t *ids = NULL, *grown;
	char **names = NULL;
	int n = 64, tries, i, j = 0;

	*namesp = NULL;
	for (tries = 0; tries < 3; tries++) {
		if ((grown = reallocarray(ids, (size_t)n, sizeof(*ids))) ==
		    NULL)
			goto fail;
		ids = grown;
		if (getgrouplist(user, gid, ids, &n) >= 0)
			break;
	}
	if (tries == 3 || n <= 0)
		goto done;
	if ((names = calloc((size_t)n, sizeof(*names))) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if ((gr = getgrgid(ids[i])) != NULL &&
		    (names[j++] = strdup(gr->gr_name)) == NULL)
			goto fail;
done:
	free(ids);
	*namesp = names;
	return j;
fail:
	for (i = 0; i < j; i++)
		free(names[i]);
	free(names);
	free(ids);
	return -1;
}

/* 1 if one of the group names matches one of the patterns. */
static int
any_group_match(char *const *pats, size_t n, char *const *names, int nnames)
{
	size_t i;
	int g;

	for (g = 0; g < nnames; g++)
		for (i = 0; i < n; i++)
			if (match_pattern(names[g], pats[i]))
				return 1;
	return 0;
}

int
access_user_allowed(const struct server_config *c, const char *user, gid_t gid,
    const char *host, const char *addr)
{
	char **names = NULL;
	int nnames, ok = 0, g;

	if (c->ndeny_users > 0 &&
	    any_user_match(c->deny_users, c->ndeny_users, user, host, addr)) {
		logit("User %.100s from %.100s not allowed because listed in "
		      "DenyUsers",
		    user, host);
		return 0;
	}
	if (c->nallow_users > 0 &&
	    !any_user_match(
	        c->allow_users, c->nallow_users, user, host, addr)) {
		logit("User %.100s from %.100s not allowed because not listed "
		      "in AllowUsers",
		    user, host);
		return 0;
	}
	if (c->ndeny_groups == 0 && c->nallow_groups == 0)
		return 1;
	if ((nnames = group_names(user, gid, &names)) <= 0) {
		logit("User %.100s from %.100s not allowed because not in any "
		      "group",
		    user, host);
		goto out;
	}
	if (c->ndeny_groups > 0 &&
	    any_group_match(c->deny_groups, c->ndeny_groups, names, nnames)) {
		logit("User %.100s from %.100s not allowed because a group is "
		      "listed in DenyGroups",
		    user, host);
		goto out;
	}
	if (c->nallow_groups > 0 &&
	    !any_group_match(
	        c->allow_groups, c->nallow_groups, names, nnames)) {
		logit("User %.100s from %.100s not allowed because none of "
		      "user's groups are listed in AllowGroups",
		    user, host);
		goto out;
	}
	ok = 1;
out:
	for (g = 0; g < nnames; g++)
		free(names[g]);
	free(names);
	return ok;
}
