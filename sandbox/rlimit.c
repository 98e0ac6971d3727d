/*
 * rlimit.c: resource limits for the confined preauth process: no files may
 * grow, no process or descriptor may be created.
 */
#include <sys/resource.h>
#include <errno.h>
#include <string.h>
#ifdef POSTERN_ASAN
#include <sanitizer/lsan_interface.h>
#endif

#include "err.h"
#include "log.h"
#include "sandbox/sandbox.h"

static int
set_limit(int resource, const char *name, rlim_t soft, rlim_t hard)
{
	struct rlimit rl;

	rl.rlim_cur = soft;
	rl.rlim_max = hard;
	if (setrlimit(resource, &rl) != 0) {
		error_f("setrlimit %s: %s", name, strerror(errno));
		return ERR_SYSTEM;
	}
	return 0;
}

int
sandbox_rlimits(void)
{
	int r;

#ifdef POSTERN_ASAN
	/*
	 * LeakSanitizer's exit-time check needs /proc and a new thread, both
	 * gone once confined: run it now; the exit-time check is then a no-op.
	 */
	__lsan_do_leak_check();
#endif
	/* Writing to any regular file fails (EFBIG); there is none to write. */
	if ((r = set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", 0, 0)) != 0)
		return r;
	/*
	 * fork() fails with EAGAIN for a non-root uid. The kernel does not
	 * apply this limit to root, which is why the uid is dropped first.
	 */
	if ((r = set_limit(RLIMIT_NPROC, "RLIMIT_NPROC", 0, 0)) != 0)
		return r;
	/* No core files: a preauth core would hold session secrets. */
	if ((r = set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0, 0)) != 0)
		return r;
	/*
	 * Every descriptor the process needs is open already: no new one
	 * (a descriptor passed in a message, say) may be created. 1, not
	 * 0, because poll() refuses more descriptors than this limit, as
	 * in sshd's seccomp sandbox.
	 */
	return set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", 1, 1);
}
