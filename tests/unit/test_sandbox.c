/*
 * test_sandbox.c: each confinement step runs in a forked child; the parent
 * judges the child's exit status (SIGSYS for a forbidden call).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* also set by GNUmakefile */
#endif
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "sandbox/sandbox.h"
#include "tests/unit/t.h"

#define NOBODY 65534

typedef int (*child_fn)(void);

static int pipefd[2] = {-1, -1};
static int tcpfd = -1;
static int statusfd = -1;
static int scratchfd = -1;
static char basedir[64];  /* root-owned 0700 from mkdtemp */
static char rootdir[128]; /* what the child is asked to chroot to */
static char last_log[1024];

static void
capture_log(enum log_level level, const char *msg, void *ctx)
{
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

/* run_child: fork, run fn in the child, return the raw wait status. */
static int
run_child(child_fn fn)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(2);
	}
	if (pid == 0)
		_exit(fn());
	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR) {
			perror("waitpid");
			exit(2);
		}
	}
	return st;
}

static int
exited_ok(int st)
{
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("# child status: %s %d\n",
		    WIFSIGNALED(st) ? "signal" : "exit",
		    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int
killed_by_sigsys(int st)
{
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
		printf("# child status: %s %d\n",
		    WIFSIGNALED(st) ? "signal" : "exit",
		    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static int
become_nobody(void)
{
	gid_t g = NOBODY;

	return setgroups(1, &g) == 0 &&
	    setresgid(NOBODY, NOBODY, NOBODY) == 0 &&
	    setresuid(NOBODY, NOBODY, NOBODY) == 0;
}

/* --- seccomp: allowed calls ------------------------------------------- */

static int
c_write(void)
{
	if (sandbox_seccomp() != 0)
		return 10;
	if (write(pipefd[1], "x", 1) != 1)
		return 11;
	return 0;
}

static int
c_allowed(void)
{
	struct timespec ts;
	struct stat st;
	struct pollfd pfd;
	unsigned char rnd[32];
	char *big, *small;
	void *map;
	int one = 1, n = -1;

	if (sandbox_seccomp() != 0)
		return 10;
	/* Large and small allocations: mmap and brk. */
	if ((big = malloc(4 * 1024 * 1024)) == NULL)
		return 11;
	memset(big, 1, 4 * 1024 * 1024);
	free(big);
	if ((small = malloc(100)) == NULL)
		return 12;
	free(small);
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return 13;
	if (mprotect(map, 4096, PROT_READ) != 0)
		return 14;
	munmap(map, 4096);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return 15;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 16;
	if (fstat(pipefd[1], &st) != 0 || !S_ISFIFO(st.st_mode))
		return 17;
	if (fcntl(pipefd[0], F_SETFL, fcntl(pipefd[0], F_GETFL) | O_NONBLOCK))
		return 18;
	if (setsockopt(tcpfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		return 19;
	if (ioctl(pipefd[0], FIONREAD, &n) != 0 || n != 0)
		return 20;
	pfd.fd = pipefd[1];
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 0) != 1)
		return 21;
	if (getpid() <= 0 || getuid() != geteuid())
		return 22;
	/* stdio: fstat on first use, then write. */
	printf("# printf works inside the sandbox\n");
	fflush(stdout);
	return 0;
}

/* --- seccomp: path lookups fail with EACCES --------------------------- */

static int
c_paths(void)
{
	struct stat st;
	char buf[64];

	if (sandbox_seccomp() != 0)
		return 10;
	errno = 0;
	if (open("/etc/passwd", O_RDONLY) != -1 || errno != EACCES)
		return 11;
	errno = 0;
	if (openat(AT_FDCWD, "/etc/passwd", O_RDONLY) != -1 || errno != EACCES)
		return 12;
	errno = 0;
	if (stat("/etc/passwd", &st) != -1 || errno != EACCES)
		return 13;
	errno = 0;
	if (access("/etc/passwd", R_OK) != -1 || errno != EACCES)
		return 14;
	errno = 0;
	if (readlink("/proc/self/exe", buf, sizeof(buf)) != -1 ||
	    errno != EACCES)
		return 15;
	errno = 0;
	if (fopen("/etc/passwd", "r") != NULL || errno != EACCES)
		return 16;
	return 0;
}

/* --- seccomp: the filter really is on ---------------------------------- */

static int
c_status(void)
{
	char buf[8192];
	ssize_t n;
	size_t off = 0;

	/* Opened before confinement; the kernel renders the text on read. */
	if ((statusfd = open("/proc/self/status", O_RDONLY)) == -1)
		return 9;
	if (sandbox_seccomp() != 0)
		return 10;
	while (off < sizeof(buf) - 1 &&
	    (n = read(statusfd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	if (strstr(buf, "\nSeccomp:\t2\n") == NULL)
		return 12;
	if (strstr(buf, "\nNoNewPrivs:\t1\n") == NULL)
		return 13;
	return 0;
}

/* --- seccomp: forbidden calls die with SIGSYS ------------------------- */

static int
k_socket(void)
{
	if (sandbox_seccomp() != 0)
		return 10;
	(void)socket(AF_INET, SOCK_STREAM, 0);
	return 0;
}

static int
k_mkdir(void)
{
	if (sandbox_seccomp() != 0)
		return 10;
	(void)mkdir("/tmp/postern-sandbox-must-not-exist", 0700);
	return 0;
}

static int
k_fork(void)
{
	pid_t pid;

	if (sandbox_seccomp() != 0)
		return 10;
	pid = fork();
	if (pid == 0)
		_exit(0);
	return 0;
}

static int
k_exec_mmap(void)
{
	if (sandbox_seccomp() != 0)
		return 10;
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return 0;
}

static int
k_exec_mprotect(void)
{
	void *map;

	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return 9;
	if (sandbox_seccomp() != 0)
		return 10;
	(void)mprotect(map, 4096, PROT_READ | PROT_EXEC);
	return 0;
}

static int
k_setsockopt(void)
{
	int one = 1;

	if (sandbox_seccomp() != 0)
		return 10;
	(void)setsockopt(tcpfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return 0;
}

static int
k_ioctl(void)
{
	int n;

	if (sandbox_seccomp() != 0)
		return 10;
	(void)ioctl(pipefd[0], FIONBIO, &n);
	return 0;
}

/* Nothing in preauth reads socket options (TCP_ZEROCOPY_RECEIVE...). */
static int
k_getsockopt(void)
{
	int v;
	socklen_t len = sizeof(v);

	if (sandbox_seccomp() != 0)
		return 10;
	(void)getsockopt(pipefd[0], SOL_SOCKET, SO_TYPE, &v, &len);
	return 0;
}

static int
k_fcntl_dup(void)
{
	if (sandbox_seccomp() != 0)
		return 10;
	(void)fcntl(pipefd[0], F_DUPFD, 0);
	return 0;
}

static int
k_kill(void)
{
	if (sandbox_seccomp() != 0)
		return 10;
	(void)kill(getpid(), 0);
	return 0;
}

static int
k_prctl(void)
{
	if (sandbox_seccomp() != 0)
		return 10;
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return 0;
}

static int
k_setuid(void)
{
	if (sandbox_seccomp() != 0)
		return 10;
	if (setuid(0) == 0)
		return 11;
	return 0;
}

#ifdef __x86_64__
/* The x32 ABI: x86_64 numbers with bit 30 set. */
static int
k_x32(void)
{
	if (sandbox_seccomp() != 0)
		return 10;
	(void)syscall(0x40000000L | SYS_getpid);
	return 0;
}

/* The i386 ABI through int 0x80 (20 is getpid there). */
static int
k_int80(void)
{
	long ret = 20;

	if (sandbox_seccomp() != 0)
		return 10;
	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	return 0;
}
#endif

static const struct {
	const char *name;
	child_fn fn;
} killers[] = {
    {"seccomp: socket() is killed with SIGSYS", k_socket},
    {"seccomp: mkdir() is killed with SIGSYS", k_mkdir},
    {"seccomp: fork() is killed with SIGSYS", k_fork},
    {"seccomp: mmap(PROT_EXEC) is killed", k_exec_mmap},
    {"seccomp: mprotect(PROT_EXEC) is killed", k_exec_mprotect},
    {"seccomp: setsockopt(SO_REUSEADDR) is killed", k_setsockopt},
    {"seccomp: ioctl(FIONBIO) is killed", k_ioctl},
    {"seccomp: fcntl(F_DUPFD) is killed", k_fcntl_dup},
    {"seccomp: getsockopt() is killed", k_getsockopt},
    {"seccomp: kill() is killed", k_kill},
    {"seccomp: prctl() is killed", k_prctl},
    {"seccomp: setuid() is killed", k_setuid},
#ifdef __x86_64__
    {"seccomp: x32 system call is killed", k_x32},
    {"seccomp: i386 int 0x80 is killed", k_int80},
#endif
};

/* --- chroot and privilege drop ----------------------------------------- */

static int
c_chroot_ok(void)
{
	char cwd[PATH_MAX];
	gid_t groups[4];
	uid_t ru, eu, su;

	if (sandbox_chroot_drop(rootdir, NOBODY, NOBODY) != 0)
		return 10;
	if (getcwd(cwd, sizeof(cwd)) == NULL || strcmp(cwd, "/") != 0)
		return 11;
	if (setuid(0) != -1 || seteuid(0) != -1)
		return 12;
	if (setgid(0) != -1)
		return 13;
	if (getresuid(&ru, &eu, &su) != 0 || ru != NOBODY || eu != NOBODY ||
	    su != NOBODY)
		return 14;
	if (getgroups(4, groups) != 1 || groups[0] != NOBODY)
		return 15;
	/* The host's files are out of reach. */
	if (access("/etc/passwd", F_OK) != -1)
		return 16;
	return 0;
}

/* c_chroot_refused: refused without dropping anything, reason logged. */
static int
c_chroot_refused(void)
{
	int r;

	last_log[0] = '\0';
	log_set_handler(capture_log, NULL);
	r = sandbox_chroot_drop(rootdir, NOBODY, NOBODY);
	if (r == 0)
		return 10;
	if (getuid() != 0 || geteuid() != 0)
		return 11;
	if (strstr(last_log, rootdir) == NULL)
		return 12;
	printf("# refused: %s\n", last_log);
	fflush(stdout);
	return r == ERR_NOT_FOUND ? 3 : r == ERR_PERM ? 4 : 5;
}

static int
c_drop_to_user(void)
{
	gid_t groups[NGROUPS_MAX];
	int i, n;

	if (sandbox_drop_to_user("nobody", NOBODY, NOBODY) != 0)
		return 10;
	if (getuid() != NOBODY || geteuid() != NOBODY || getgid() != NOBODY)
		return 11;
	if (setuid(0) != -1 || setgid(0) != -1)
		return 12;
	if ((n = getgroups(NGROUPS_MAX, groups)) < 1)
		return 13;
	for (i = 0; i < n; i++)
		if (groups[i] == 0)
			return 14;
	return 0;
}

/* --- rlimits ------------------------------------------------------------ */

static int
c_rlimits(void)
{
	struct rlimit rl;
	struct pollfd pfd;
	pid_t pid;
	char c;
	int fd;

	if (!become_nobody())
		return 9;
	if (sandbox_rlimits() != 0)
		return 10;
	errno = 0;
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid != -1) {
		waitpid(pid, NULL, 0);
		return 11;
	}
	if (errno != EAGAIN)
		return 12;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur != rl.rlim_max)
		return 13;
	/* No new descriptor; those open already (poll on one) still work. */
	errno = 0;
	if ((fd = dup(pipefd[1])) != -1 || errno != EMFILE) {
		printf("# dup after sandbox_rlimits: %d (%s)\n", fd,
		    strerror(errno));
		return 16;
	}
	pfd.fd = pipefd[1];
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 0) != 1 || write(pipefd[1], "z", 1) != 1)
		return 17;
	if (read(pipefd[0], &c, 1) != 1 || c != 'z')
		return 18;
	/* The hard limit cannot be raised back. */
	rl.rlim_max++;
	if (setrlimit(RLIMIT_NOFILE, &rl) != -1)
		return 14;
	/* No regular file may grow. */
	signal(SIGXFSZ, SIG_IGN);
	errno = 0;
	if (write(scratchfd, "x", 1) != -1 || errno != EFBIG)
		return 15;
	return 0;
}

/* The preauth sequence as a whole: chroot+drop, rlimits, seccomp. */
static int
c_full_sequence(void)
{
	if (sandbox_chroot_drop(rootdir, NOBODY, NOBODY) != 0)
		return 10;
	if (sandbox_rlimits() != 0)
		return 11;
	if (sandbox_seccomp() != 0)
		return 12;
	if (write(pipefd[1], "y", 1) != 1)
		return 13;
	(void)socket(AF_UNIX, SOCK_STREAM, 0);
	return 14;
}

static void
test_seccomp(void)
{
	char c = 0;
	size_t i;
	int st;

	st = run_child(c_write);
	T_CHECK("seccomp: write() survives", exited_ok(st));
	T_CHECK("seccomp: write() reached the pipe",
	    read(pipefd[0], &c, 1) == 1 && c == 'x');
	T_CHECK("seccomp: malloc, mmap, getrandom, fstat, fcntl, "
	        "TCP_NODELAY, FIONREAD, poll, stdio allowed",
	    exited_ok(run_child(c_allowed)));
	T_CHECK("seccomp: open/openat/stat/access/readlink get EACCES",
	    exited_ok(run_child(c_paths)));
	T_CHECK("seccomp: /proc/self/status shows Seccomp 2 and NoNewPrivs",
	    exited_ok(run_child(c_status)));
	for (i = 0; i < sizeof(killers) / sizeof(killers[0]); i++)
		T_CHECK(killers[i].name,
		    killed_by_sigsys(run_child(killers[i].fn)));
}

static void
test_chroot(void)
{
	char c;
	int st;

	T_CHECK("chroot: drop to 65534 in a root-owned 0700 dir",
	    exited_ok(run_child(c_chroot_ok)));

	chmod(basedir, 0777);
	st = run_child(c_chroot_refused);
	T_CHECK("chroot: world-writable dir refused",
	    WIFEXITED(st) && WEXITSTATUS(st) == 4);
	chmod(basedir, 0770);
	st = run_child(c_chroot_refused);
	T_CHECK("chroot: group-writable dir refused",
	    WIFEXITED(st) && WEXITSTATUS(st) == 4);
	chmod(basedir, 0755);
	T_CHECK("chroot: chown to nobody", chown(basedir, NOBODY, 0) == 0);
	st = run_child(c_chroot_refused);
	T_CHECK("chroot: dir not owned by root refused",
	    WIFEXITED(st) && WEXITSTATUS(st) == 4);
	T_CHECK("chroot: chown back to root", chown(basedir, 0, 0) == 0);

	/* A symlink to a good directory is refused too. */
	snprintf(rootdir, sizeof(rootdir), "%s.lnk", basedir);
	T_CHECK("chroot: make symlink", symlink(basedir, rootdir) == 0);
	st = run_child(c_chroot_refused);
	T_CHECK(
	    "chroot: symlink refused", WIFEXITED(st) && WEXITSTATUS(st) == 4);
	unlink(rootdir);
	snprintf(rootdir, sizeof(rootdir), "%s.missing", basedir);
	st = run_child(c_chroot_refused);
	T_CHECK("chroot: missing dir refused",
	    WIFEXITED(st) && WEXITSTATUS(st) == 3);
	snprintf(rootdir, sizeof(rootdir), "%s", basedir);

	T_CHECK("drop_to_user: nobody, root not regained",
	    exited_ok(run_child(c_drop_to_user)));
	T_CHECK("rlimits: fork fails with EAGAIN, no new descriptor, FSIZE 0",
	    exited_ok(run_child(c_rlimits)));
	st = run_child(c_full_sequence);
	T_CHECK("full sequence: chroot, rlimits, seccomp, then socket killed",
	    killed_by_sigsys(st));
	T_CHECK("full sequence: write() before the forbidden call arrived",
	    read(pipefd[0], &c, 1) == 1 && c == 'y');
}

int
main(void)
{
	char scratch[] = "/tmp/postern-sandbox-XXXXXX";

	log_init("test_sandbox", LL_DEBUG1, LOG_AUTH, 1);
	/* Descriptors a preauth process would hold before confinement. */
	if (pipe(pipefd) != 0 ||
	    (tcpfd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		perror("setup");
		return 2;
	}
	/* A child that died early must not leave the parent blocked. */
	(void)fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	test_seccomp();

	if (geteuid() != 0) {
		printf("# not root: chroot, privilege and rlimit tests "
		       "skipped\n");
		return T_DONE();
	}
	snprintf(basedir, sizeof(basedir), "/tmp/postern-root-XXXXXX");
	if (mkdtemp(basedir) == NULL || (scratchfd = mkstemp(scratch)) == -1) {
		perror("mkdtemp");
		return 2;
	}
	unlink(scratch);
	snprintf(rootdir, sizeof(rootdir), "%s", basedir);
	test_chroot();
	rmdir(basedir);
	return T_DONE();
}
