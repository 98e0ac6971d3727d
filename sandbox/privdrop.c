/*
 * privdrop.c: chroot into the empty privilege-separation directory and give
 * up root for good, then prove that root cannot be regained.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* also set by GNUmakefile */
#endif
#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>
#ifdef POSTERN_ASAN
#include <sanitizer/lsan_interface.h>
#endif

#include "err.h"
#include "log.h"
#include "sandbox/sandbox.h"

/*
 * verify_dropped: every real/effective/saved id is the target, the group list
 * holds nothing else, and (unless the target is root itself) neither
 * setuid(0) nor setgid(0) succeeds.
 */
static int
verify_dropped(uid_t uid, gid_t gid, int check_groups)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	gid_t groups[2];
	int n;

	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0) {
		error_f("getresuid/getresgid: %s", strerror(errno));
		return ERR_SYSTEM;
	}
	if (ru != uid || eu != uid || su != uid) {
		error_f("uid not dropped: %u/%u/%u, wanted %u", (unsigned)ru,
		    (unsigned)eu, (unsigned)su, (unsigned)uid);
		return ERR_PERM;
	}
	if (rg != gid || eg != gid || sg != gid) {
		error_f("gid not dropped: %u/%u/%u, wanted %u", (unsigned)rg,
		    (unsigned)eg, (unsigned)sg, (unsigned)gid);
		return ERR_PERM;
	}
	if (check_groups) {
		n = getgroups(2, groups);
		if (n != 1 || groups[0] != gid) {
			error_f("supplementary groups not dropped");
			return ERR_PERM;
		}
	}
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		error_f("was able to restore old [e]uid");
		return ERR_PERM;
	}
	if (gid != 0 && uid != 0 && (setgid(0) != -1 || setegid(0) != -1)) {
		error_f("was able to restore old [e]gid");
		return ERR_PERM;
	}
	return 0;
}

/* set_ids: gid first, while we still have the right to change it. */
static int
set_ids(uid_t uid, gid_t gid)
{
	if (setresgid(gid, gid, gid) != 0) {
		error_f("setresgid %u: %s", (unsigned)gid, strerror(errno));
		return ERR_SYSTEM;
	}
	if (setresuid(uid, uid, uid) != 0) {
		error_f("setresuid %u: %s", (unsigned)uid, strerror(errno));
		return ERR_SYSTEM;
	}
	return 0;
}

/*
 * open_chroot_dir: dir must be a real directory (not a symlink), owned by
 * root and writable by nobody else, or an unprivileged user could plant
 * files the confined process would see. Returns an O_DIRECTORY fd to the
 * very inode that was checked, so nothing can be swapped in before chroot.
 */
static int
open_chroot_dir(const char *dir, int *fdp)
{
	struct stat lst, st;
	int fd;

	*fdp = -1;
	if (lstat(dir, &lst) != 0) {
		error("Missing privilege separation directory: %s", dir);
		return ERR_NOT_FOUND;
	}
	if (S_ISLNK(lst.st_mode) || !S_ISDIR(lst.st_mode)) {
		error("%s must be a directory, not a symbolic link", dir);
		return ERR_PERM;
	}
	if (lst.st_uid != 0 || (lst.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		error("%s must be owned by root and not group or "
		      "world-writable.",
		    dir);
		return ERR_PERM;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		error_f("open %s: %s", dir, strerror(errno));
		return ERR_SYSTEM;
	}
	if (fstat(fd, &st) != 0 || st.st_dev != lst.st_dev ||
	    st.st_ino != lst.st_ino) {
		error_f("%s changed while being checked", dir);
		close(fd);
		return ERR_PERM;
	}
	*fdp = fd;
	return 0;
}

int
sandbox_enter_dir(int fd)
{
	if (fchdir(fd) != 0 || chroot(".") != 0 || chdir("/") != 0)
		return ERR_SYSTEM;
	return 0;
}

int
sandbox_chroot_drop(const char *dir, uid_t uid, gid_t gid)
{
	int fd = -1, r;

#ifdef POSTERN_ASAN
	/*
	 * LeakSanitizer's exit-time check needs /proc and a new thread, both
	 * gone once confined: run it now; the exit-time check is then a no-op.
	 */
	__lsan_do_leak_check();
#endif
	if (geteuid() != 0) {
		error_f("not running as root");
		return ERR_PERM;
	}
	if ((r = open_chroot_dir(dir, &fd)) != 0)
		return r;
	/* chroot to the directory we opened and checked, not to its name. */
	if (sandbox_enter_dir(fd) != 0) {
		error_f("chroot(\"%s\"): %s", dir, strerror(errno));
		close(fd);
		return ERR_SYSTEM;
	}
	close(fd);
	if (setgroups(1, &gid) != 0) {
		error_f("setgroups: %s", strerror(errno));
		return ERR_SYSTEM;
	}
	if ((r = set_ids(uid, gid)) != 0)
		return r;
	return verify_dropped(uid, gid, 1);
}

int
sandbox_drop_to_user(const char *name, uid_t uid, gid_t gid)
{
	int r;

	if (geteuid() != 0) {
		/* Not root (e.g. a test instance): fine if already that user. */
		if (getuid() == uid && getgid() == gid)
			return verify_dropped(uid, gid, 0);
		error_f("not running as root, cannot become %s",
		    name != NULL ? name : "the user");
		return ERR_PERM;
	}
	/* name NULL: the groups were set already (before a chroot). */
	if (name != NULL && initgroups(name, gid) != 0) {
		error_f("initgroups %s %u: %s", name, (unsigned)gid,
		    strerror(errno));
		return ERR_SYSTEM;
	}
	if ((r = set_ids(uid, gid)) != 0)
		return r;
	return verify_dropped(uid, gid, 0);
}
