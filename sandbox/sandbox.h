/* sandbox.h: confinement of postern-preauth: chroot, privilege drop, rlimits, seccomp. */
#ifndef POSTERN_SANDBOX_H
#define POSTERN_SANDBOX_H

#include <sys/types.h>

/*
 * sandbox_chroot_drop: chroot to dir (which must be root-owned and not
 * group/world-writable), chdir("/"), then drop to uid/gid with
 * setgroups(1,&gid), setresgid, setresuid, and verify that regaining root
 * fails. Only when running as root.
 */
int sandbox_chroot_drop(const char *dir, uid_t uid, gid_t gid);

/*
 * sandbox_enter_dir: chroot to the directory open on fd (checked by the
 * caller) and chdir("/"); by descriptor, so the name cannot be swapped.
 */
int sandbox_enter_dir(int fd);

/*
 * sandbox_rlimits: RLIMIT_FSIZE 0, RLIMIT_NPROC 0, RLIMIT_CORE 0 and
 * RLIMIT_NOFILE 1 (descriptors open already stay usable).
 */
int sandbox_rlimits(void);

/*
 * sandbox_seccomp: PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE 0, then a libseccomp
 * allowlist whose default action kills the process (SCMP_ACT_KILL_PROCESS).
 */
int sandbox_seccomp(void);

/*
 * sandbox_drop_to_user: become a logged-in user for good (initgroups,
 * setresgid, setresuid, verified). Used before exec of postern-session.
 * name NULL: keep the supplementary groups already set (initgroups was
 * called before a chroot, where /etc/group cannot be read).
 */
int sandbox_drop_to_user(const char *name, uid_t uid, gid_t gid);

#endif
