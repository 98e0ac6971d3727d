/* privs.c: temporarily taking on a user's identity in a root process. */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "privs.h"

#define GROUPS_MAX 65536 /* sanity bound on a user's group list */

void
privs_restore(struct privs_saved *s)
{
	if (s->switched) {
		/* Running on as the wrong user would be worse than dying. */
		if (seteuid(s->euid) == -1)
			fatal("%s: seteuid %u: %s", __func__, (unsigned)s->euid,
			    strerror(errno));
		if (setegid(s->egid) == -1)
			fatal("%s: setegid %u: %s", __func__, (unsigned)s->egid,
			    strerror(errno));
		if (setgroups((size_t)s->ngroups, s->groups) == -1)
			fatal("%s: setgroups: %s", __func__, strerror(errno));
	}
	free(s->groups);
	memset(s, 0, sizeof(*s));
}

/* The user's supplementary groups, from NSS like initgroups(3). */
static int
user_groups(const char *name, gid_t gid, gid_t **groupsp, int *np)
{
	gid_t *g = NULL, *ng;
	int n = 32, want;

	*groupsp = NULL;
	*np = 0;
	for (;;) {
		if ((ng = reallocarray(g, (size_t)n, sizeof(*g))) == NULL) {
			free(g);
			return ERR_ALLOC;
		}
		g = ng;
		want = n;
		if (getgrouplist(name, gid, g, &want) != -1) {
			*groupsp = g;
			*np = want;
			return 0;
		}
		if (want <= n || want > GROUPS_MAX) {
			free(g);
			return ERR_LIMIT;
		}
		n = want;
	}
}

int
privs_become_user(const char *name, uid_t uid, gid_t gid, struct privs_saved *s)
{
	gid_t *ug = NULL;
	int n, nug = 0, r;

	memset(s, 0, sizeof(*s));
	if (geteuid() != 0)
		return 0;
	s->euid = geteuid();
	s->egid = getegid();
	if ((n = getgroups(0, NULL)) < 0)
		return ERR_SYSTEM;
	if ((s->groups = calloc(n > 0 ? (size_t)n : 1, sizeof(gid_t))) == NULL)
		return ERR_ALLOC;
	if ((s->ngroups = getgroups(n, s->groups)) < 0) {
		privs_restore(s);
		return ERR_SYSTEM;
	}
	if ((r = user_groups(name, gid, &ug, &nug)) != 0) {
		privs_restore(s);
		return r;
	}
	s->switched = 1;
	r = 0;
	if (setgroups((size_t)nug, ug) == -1 || setegid(gid) == -1 ||
	    seteuid(uid) == -1) {
		r = ERR_SYSTEM;
		error_f("cannot become user %.255s: %s", name, strerror(errno));
		privs_restore(s);
	}
	free(ug);
	return r;
}
