/*
 * privs.h: a root process taking on a user's identity for a while (to
 * open and read that user's files as the user), then returning to root.
 */
#ifndef POSTERN_PRIVS_H
#define POSTERN_PRIVS_H

#include <sys/types.h>

/* Who the process was before it took on the user's identity. */
struct privs_saved {
	int switched;
	uid_t euid;
	gid_t egid;
	gid_t *groups;
	int ngroups;
};

/*
 * privs_become_user: the user's euid, egid and supplementary groups (from
 * NSS, as initgroups(3)), when running as root; otherwise nothing. Call
 * privs_restore afterwards whatever this returns.
 */
int privs_become_user(
    const char *name, uid_t uid, gid_t gid, struct privs_saved *s);
/* privs_restore: back to the saved identity; failing to is fatal. */
void privs_restore(struct privs_saved *s);

#endif
