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

#define MAX_GROUPS 1024

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

/* 1 if one of the user's groups matches one of the patterns. */
static int
any_group_match(char *const *pats, size_t n, const gid_t *groups, int ngroups)
{
	struct group *gr;
	size_t i;
	int g;

	for (g = 0; g < ngroups; g++) {
		if ((gr = getgrgid(groups[g])) == NULL)
			continue;
		for (i = 0; i < n; i++)
			if (match_pattern(gr->gr_name, pats[i]))
				return 1;
	}
	return 0;
}

int
access_user_allowed(const struct server_config *c, const char *user, gid_t gid,
    const char *host, const char *addr)
{
	gid_t groups[MAX_GROUPS];
	int ngroups = MAX_GROUPS;

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
	if (getgrouplist(user, gid, groups, &ngroups) < 0 || ngroups <= 0) {
		logit("User %.100s from %.100s not allowed because not in any "
		      "group",
		    user, host);
		return 0;
	}
	if (c->ndeny_groups > 0 &&
	    any_group_match(c->deny_groups, c->ndeny_groups, groups, ngroups)) {
		logit("User %.100s from %.100s not allowed because a group is "
		      "listed in DenyGroups",
		    user, host);
		return 0;
	}
	if (c->nallow_groups > 0 &&
	    !any_group_match(
	        c->allow_groups, c->nallow_groups, groups, ngroups)) {
		logit("User %.100s from %.100s not allowed because none of "
		      "user's groups are listed in AllowGroups",
		    user, host);
		return 0;
	}
	return 1;
}
