/*
 * seccomp.c: the system-call allowlist of postern-preauth. The process only
 * speaks a protocol over descriptors opened before confinement; any call
 * not listed kills it (SCMP_ACT_KILL_PROCESS), path lookups fail softly.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* also set by GNUmakefile */
#endif
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <seccomp.h>
#include <string.h>
#ifdef POSTERN_ASAN
#include <sanitizer/lsan_interface.h>
#endif

#include "err.h"
#include "log.h"
#include "sandbox/sandbox.h"

enum sc_action {
	SC_ALLOW,
	SC_EACCES, /* refuse with EACCES instead of killing */
};

struct sc_rule {
	const char *name;
	enum sc_action action;
	unsigned nargs;
	struct scmp_arg_cmp args[2];
};

/* (arg & mask) == val; int arguments compare only their low 32 bits. */
#define ARG_MASKED(n, mask, val)                                               \
	{                                                                      \
		.arg = (n), .op = SCMP_CMP_MASKED_EQ, .datum_a = (mask),       \
		.datum_b = (val)                                               \
	}
#define ARG_INT(n, val) ARG_MASKED(n, 0xffffffffULL, (val))

#define ALLOW(nm)                                                              \
	{                                                                      \
		.name = (nm), .action = SC_ALLOW, .nargs = 0                   \
	}
#define ALLOW_IF(nm, a)                                                        \
	{                                                                      \
		.name = (nm), .action = SC_ALLOW, .nargs = 1, .args = { a }    \
	}
#define ALLOW_IF2(nm, a, b)                                                    \
	{                                                                      \
		.name = (nm), .action = SC_ALLOW, .nargs = 2, .args = { a, b } \
	}
#define EACCES_ALWAYS(nm)                                                      \
	{                                                                      \
		.name = (nm), .action = SC_EACCES, .nargs = 0                  \
	}
#define EACCES_IF(nm, a)                                                       \
	{                                                                      \
		.name = (nm), .action = SC_EACCES, .nargs = 1, .args = { a }   \
	}

static const struct sc_rule sc_rules[] = {
    /* The protocol itself: I/O on the client socket and the IPC socket. */
    ALLOW("read"),
    ALLOW("write"),
    ALLOW("readv"),
    ALLOW("writev"),
    ALLOW("recvfrom"),
    ALLOW("sendto"),
    ALLOW("recvmsg"),
    ALLOW("sendmsg"),
    ALLOW("close"),
    ALLOW("shutdown"),
    ALLOW("lseek"),
    /* Toggling O_NONBLOCK and reading descriptor flags, nothing more. */
    ALLOW_IF("fcntl", ARG_INT(1, F_GETFL)),
    ALLOW_IF("fcntl", ARG_INT(1, F_SETFL)),
    ALLOW_IF("fcntl", ARG_INT(1, F_GETFD)),
    /* Interactive sessions want Nagle off; nothing else may be tuned. */
    ALLOW_IF2("setsockopt", ARG_INT(1, IPPROTO_TCP), ARG_INT(2, TCP_NODELAY)),
    ALLOW_IF2("setsockopt", ARG_INT(1, IPPROTO_TCP), ARG_INT(2, TCP_QUICKACK)),
    /* Bytes waiting on a socket. */
    ALLOW_IF("ioctl", ARG_INT(1, FIONREAD)),
    /*
	 * stdio and malloc fstat descriptors; glibc implements fstat as
	 * newfstatat(fd, "", AT_EMPTY_PATH). A path with AT_EMPTY_PATH still
	 * resolves only inside the empty chroot.
	 */
    ALLOW("fstat"),
    ALLOW_IF("newfstatat", ARG_MASKED(3, AT_EMPTY_PATH, AT_EMPTY_PATH)),

    /* The event loop. */
    ALLOW("poll"),
    ALLOW("ppoll"),

    /* malloc; never executable memory, so no injected code can run. */
    ALLOW("brk"),
    ALLOW_IF("mmap", ARG_MASKED(2, PROT_EXEC, 0)),
    ALLOW_IF("mprotect", ARG_MASKED(2, PROT_EXEC, 0)),
    ALLOW("munmap"),
    ALLOW("mremap"),
    ALLOW("madvise"),

    /* Time for timeouts, rekey intervals and log stamps (vDSO fallback). */
    ALLOW("clock_gettime"),
    ALLOW("clock_getres"),
    ALLOW("gettimeofday"),
    ALLOW("time"),
    ALLOW("clock_nanosleep"),
    ALLOW("nanosleep"),

    /* Identity queries that libc and log code make. */
    ALLOW("getpid"),
    ALLOW("gettid"),
    ALLOW("getuid"),
    ALLOW("geteuid"),
    ALLOW("getgid"),
    ALLOW("getegid"),

    /* Flag-setting signal handlers (SIGALRM, SIGTERM, SIGPIPE). */
    ALLOW("rt_sigaction"),
    ALLOW("rt_sigprocmask"),
    ALLOW("rt_sigreturn"),
    ALLOW("sigaltstack"),
    ALLOW("restart_syscall"),

    /* libc internals: locks, restartable sequences, yielding. */
    ALLOW("futex"),
    ALLOW("rseq"),
    ALLOW("sched_yield"),

    /* Key exchange randomness; OpenSSL reseeds through getrandom. */
    ALLOW("getrandom"),

    ALLOW("exit"),
    ALLOW("exit_group"),

    /*
	 * libc and OpenSSL sometimes probe files (locale, config, /dev).
	 * There is nothing to find in the chroot; answer EACCES instead of
	 * killing so such probes fall back quietly.
	 */
    EACCES_ALWAYS("open"),
    EACCES_ALWAYS("openat"),
    EACCES_ALWAYS("openat2"),
    EACCES_ALWAYS("creat"),
    EACCES_ALWAYS("stat"),
    EACCES_ALWAYS("lstat"),
    EACCES_ALWAYS("statx"),
    EACCES_ALWAYS("access"),
    EACCES_ALWAYS("faccessat"),
    EACCES_ALWAYS("faccessat2"),
    EACCES_ALWAYS("readlink"),
    EACCES_ALWAYS("readlinkat"),
    EACCES_IF("newfstatat", ARG_MASKED(3, AT_EMPTY_PATH, 0)),
#ifdef POSTERN_ASAN
    /*
	 * Sanitizer builds only: a report asks whether stderr is a terminal
	 * (TCGETS) before it prints; refused, it prints without colour
	 * instead of dying mid-report.
	 */
    EACCES_IF("ioctl", ARG_INT(1, TCGETS)),
#endif
};

static int
add_rule(scmp_filter_ctx ctx, const struct sc_rule *rule)
{
	uint32_t action;
	int nr, rc;

	nr = seccomp_syscall_resolve_name(rule->name);
	if (nr == __NR_SCMP_ERROR) {
		/* Not a system call on this architecture: nothing to allow. */
		debug3_f("%s: unknown here, skipped", rule->name);
		return 0;
	}
	action =
	    rule->action == SC_ALLOW ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(EACCES);
	rc = seccomp_rule_add_array(
	    ctx, action, nr, rule->nargs, rule->nargs > 0 ? rule->args : NULL);
	if (rc != 0) {
		error_f("seccomp_rule_add %s: %s", rule->name, strerror(-rc));
		return ERR_SYSTEM;
	}
	return 0;
}

int
sandbox_seccomp(void)
{
	scmp_filter_ctx ctx = NULL;
	size_t i;
	int r = ERR_SYSTEM, rc;

	/* No setuid binary or file capability can ever add privilege. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		error_f("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		return ERR_SYSTEM;
	}
	/* No core dumps and no ptrace by the same uid: secrets live here. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		error_f("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
		return ERR_SYSTEM;
	}
#ifdef POSTERN_ASAN
	/*
	 * LeakSanitizer's exit-time check needs /proc and a new thread, both
	 * gone once confined: run it now; the exit-time check is then a no-op.
	 */
	__lsan_do_leak_check();
#endif
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		error_f("seccomp_init failed");
		return ERR_SYSTEM;
	}
	/* Calls through another ABI (i386 int 0x80, x32) die too. */
	rc = seccomp_attr_set(
	    ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc != 0) {
		error_f("seccomp_attr_set: %s", strerror(-rc));
		goto out;
	}
	for (i = 0; i < sizeof(sc_rules) / sizeof(sc_rules[0]); i++) {
		if ((r = add_rule(ctx, &sc_rules[i])) != 0)
			goto out;
	}
	r = ERR_SYSTEM;
	if ((rc = seccomp_load(ctx)) != 0) {
		error_f("seccomp_load: %s", strerror(-rc));
		goto out;
	}
	r = 0;
out:
	seccomp_release(ctx);
	return r;
}
