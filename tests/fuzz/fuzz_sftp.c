/*
 * fuzz_sftp.c: libFuzzer target for the SFTP engine: after INIT, arbitrary
 * bytes go through sftp_server_input (framing, the request decoder, every
 * handler), split into chunks the first input byte chooses, with the
 * output drained slowly or at once so that backpressure is exercised.
 *
 * Arbitrary requests name arbitrary paths, so the engine runs read-only
 * (-R: nothing can be created, written, renamed or removed) and starts in
 * a throwaway directory made once per process with a few files, links and
 * a directory to find (its start directory, not a chdir: libFuzzer writes
 * its corpus and artifacts relative to the working directory). Run as
 * root, the target first moves into a private mount namespace where /dev
 * is an empty tmpfs holding only null, zero and urandom and /sys is empty,
 * so that no read-only open can reach a device with side effects (a
 * watchdog, a tape drive); /proc stays, as LeakSanitizer reads it. As
 * another user, the user's permissions are the limit. Opens are
 * non-blocking, so FIFOs cannot hang.
 *
 * fuzz_sftp_rw.c compiles this file with FZ_SFTP_WRITABLE: the engine
 * then writes (OPEN for writing, WRITE, SETSTAT, MKDIR, RENAME, REMOVE,
 * SYMLINK, the hard link, posix-rename, fsync, copy-data, ...), and
 * each input gets a fresh jail: a small tmpfs (FZ_JAIL_OPTS) holding the
 * same few files, mounted in the private mount namespace. Around every
 * call into the engine the process is chrooted into the jail and its
 * file-system uid is nobody's (which drops CAP_DAC_OVERRIDE and the other
 * file capabilities), so no request can reach a file outside the jail,
 * or one inside it that nobody could not; between calls it is root in
 * the real root again, where libFuzzer writes its corpus. A crash, a
 * sanitizer report or a timeout inside the engine leaves the jail first
 * (fz_escape), so that libFuzzer's crash file lands in build-fuzz/ as for
 * every target. Without root there is no jail, and the engine stays
 * read-only.
 *
 * The GNUmakefile builds fuzz targets from lib/ and policy/ only, so the
 * engine's sources are compiled into this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sanitizer/common_interface_defs.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"

#include "session/sftp_decode.c"
#include "session/sftp_ext.c"
#include "session/sftp_fs.c"
#include "session/sftp_names.c"
#include "session/sftp_options.c"
#include "session/sftp_server.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[64];
static int fz_ready;
static int fz_private_ns; /* in a private mount namespace */
/* Writable: the jail is mounted on fz_dir; the real root and working
 * directory to come back to; nobody's uid and gid. */
static int fz_jail;
/* Where the files are as the engine sees them: fz_dir, or the jail's
 * root (""). */
static const char *fz_base = fz_dir;
static int fz_root_fd = -1, fz_cwd_fd = -1;
static uid_t fz_nobody_uid;
static gid_t fz_nobody_gid;
#define FZ_JAIL_OPTS "size=4m,nr_inodes=256,mode=0755,uid=%u,gid=%u"

static void
fz_quiet(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

static void
fz_file(const char *name, const char *content)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fz_base, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		abort();
	if (write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		abort();
	close(fd);
}

static void fz_files(void);

/* As root: hide every device node behind a private, nearly empty /dev. */
static void
fz_private_dev(void)
{
	static const struct {
		const char *name;
		unsigned maj, min;
	} nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"urandom", 1, 9}};
	char path[64];
	size_t i;

	if (geteuid() != 0)
		return;
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("fuzzdev", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, NULL) !=
	        0 ||
	    mount("fuzzsys", "/sys", "tmpfs", MS_NOSUID | MS_NOEXEC, NULL) !=
	        0) {
		fprintf(stderr,
		    "fuzz_sftp: cannot hide /dev, /sys (%s); the engine "
		    "is read-only all the same\n",
		    strerror(errno));
		return;
	}
	fz_private_ns = 1;
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(path, sizeof(path), "/dev/%s", nodes[i].name);
		if (mknod(path, S_IFCHR | 0666,
		        makedev(nodes[i].maj, nodes[i].min)) != 0)
			abort();
	}
}

#ifdef FZ_SFTP_WRITABLE
/* libFuzzer's own death callback (it writes the crash file): public in
 * libFuzzer, which has no C name for it. */
void fz_libfuzzer_death(void) __asm__(
    "_ZN6fuzzer6Fuzzer19StaticDeathCallbackEv");

static void fz_leave(void);

/* The handlers libFuzzer installed, run after leaving the jail. */
static const int fz_signals[] = {
    SIGABRT, SIGALRM, SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGINT, SIGTERM};
static struct sigaction fz_old[sizeof(fz_signals) / sizeof(fz_signals[0])];

static void
fz_escape_death(void)
{
	fz_leave();
	fz_libfuzzer_death();
}

static void
fz_escape_signal(int sig, siginfo_t *si, void *uc)
{
	size_t i;

	fz_leave();
	for (i = 0; i < sizeof(fz_signals) / sizeof(fz_signals[0]); i++) {
		if (fz_signals[i] != sig)
			continue;
		if (fz_old[i].sa_flags & SA_SIGINFO)
			fz_old[i].sa_sigaction(sig, si, uc);
		else if (fz_old[i].sa_handler != SIG_DFL &&
		    fz_old[i].sa_handler != SIG_IGN)
			fz_old[i].sa_handler(sig);
		else {
			signal(sig, SIG_DFL);
			raise(sig);
		}
	}
}

/* Out of the jail before libFuzzer writes a crash file, whatever ends the
 * input: a sanitizer report, a signal, libFuzzer's timeout alarm. */
static void
fz_escape(void)
{
	struct sigaction sa;
	size_t i;

	__sanitizer_set_death_callback(fz_escape_death);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fz_escape_signal;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(fz_signals) / sizeof(fz_signals[0]); i++)
		if (sigaction(fz_signals[i], &sa, &fz_old[i]) != 0)
			abort();
}

/* As root, in the private mount namespace: a fresh jail for an input. */
static void
fz_jail_mount(void)
{
	char opts[128];

	snprintf(opts, sizeof(opts), FZ_JAIL_OPTS, (unsigned)fz_nobody_uid,
	    (unsigned)fz_nobody_gid);
	(void)umount2(fz_dir, MNT_DETACH);
	if (mount("fuzzsftp", fz_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	        opts) != 0)
		abort();
}

static void
fz_jail_init(void)
{
	struct passwd *pw;
	char sym[128];

	if (!fz_private_ns)
		return;
	if ((pw = getpwnam("nobody")) == NULL)
		abort();
	fz_nobody_uid = pw->pw_uid;
	fz_nobody_gid = pw->pw_gid;
	if ((fz_root_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	        -1 ||
	    (fz_cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		abort();
	fz_jail = 1;
	fz_base = "";
	/* A report from inside the jail still has the maps and the
	 * symbolizer (a process, started by the first lookup), set up now. */
	__sanitizer_sandbox_on_notify(NULL);
	__sanitizer_symbolize_pc(
	    __builtin_return_address(0), "%p %F %L", sym, sizeof(sym));
	fz_escape();
}

/* Into the jail as nobody, for a call into the engine. */
static void
fz_enter(void)
{
	if (!fz_jail)
		return;
	if (chdir(fz_dir) != 0 || chroot(".") != 0)
		abort();
	(void)setfsgid(fz_nobody_gid);
	(void)setfsuid(fz_nobody_uid);
	if ((uid_t)setfsuid((uid_t)-1) != fz_nobody_uid)
		abort();
}

/* Back to root in the real root and working directory. */
static void
fz_leave(void)
{
	if (!fz_jail || fz_root_fd < 0)
		return;
	(void)setfsuid(0);
	(void)setfsgid(0);
	if ((uid_t)setfsuid((uid_t)-1) != 0 || fchdir(fz_root_fd) != 0 ||
	    chroot(".") != 0 || fchdir(fz_cwd_fd) != 0)
		abort();
}
#else
static void
fz_enter(void)
{
}

static void
fz_leave(void)
{
}
#endif

/* Remove the throwaway directory: with -R its contents are ours alone. */
static void
fz_cleanup(void)
{
	static const char *const names[] = {"d/x", "d", "a", "b", "l", "loop"};
	char path[128];
	size_t i;

	if (fz_jail)
		(void)umount2(fz_dir, MNT_DETACH);
	for (i = 0; !fz_jail && i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fz_dir, names[i]);
		if (unlink(path) != 0)
			(void)rmdir(path);
	}
	(void)rmdir(fz_dir);
}

static void
fz_init(void)
{
	char path[128];

	log_set_handler(fz_quiet, NULL);
	fz_private_dev();
	snprintf(fz_dir, sizeof(fz_dir), "/tmp/fuzz_sftp.XXXXXX");
	if (mkdtemp(fz_dir) == NULL)
		abort();
	atexit(fz_cleanup);
#ifdef FZ_SFTP_WRITABLE
	fz_jail_init();
#endif
	if (!fz_jail)
		fz_files();
	fz_ready = 1;
}

/* The files every input starts with. */
static void
fz_files(void)
{
	char path[128];

	fz_file("a", "0123456789abcdefghijklmnopqrstuvwxyz\n");
	fz_file("b", "");
	snprintf(path, sizeof(path), "%s/d", fz_base);
	if (mkdir(path, 0755) != 0)
		abort();
	fz_file("d/x", "x");
	snprintf(path, sizeof(path), "%s/l", fz_base);
	if (symlink("a", path) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/loop", fz_base);
	if (symlink("loop", path) != 0)
		abort();
}

/* Take replies off the queue: all of them, or a little (slow client). */
static void
fz_drain(struct sftp_server *s, int slow)
{
	size_t n = sftp_server_output_pending(s);

	if (slow && n > 40000)
		n = 40000;
	if (n > 0 && sftp_server_output_ptr(s) == NULL)
		abort();
	sftp_server_output_consume(s, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t init[] = {0, 0, 0, 5, SSH2_FXP_INIT, 0, 0, 0, 3};
	struct sftp_options o;
	struct sftp_server *s;
	size_t chunk, n, rounds;
	int slow, r = 0;

	if (!fz_ready)
		fz_init();
	if (size < 1)
		return 0;
	/* Byte 0: chunk size (0: all at once) and slow draining. */
	chunk = data[0] & 0x7f;
	slow = data[0] & 0x80;
	data++;
	size--;
	sftp_options_init(&o);
	o.read_only = !fz_jail;
	o.start_dir = fz_jail ? "/" : fz_dir;
	o.home = o.start_dir;
	o.user = "fuzz";
	o.max_handles = 8;
	o.log_level = LL_QUIET;
#ifdef FZ_SFTP_WRITABLE
	/* A fresh jail with the same files: each input on its own. */
	if (fz_jail) {
		fz_jail_mount();
		fz_enter();
		fz_files();
		fz_leave();
	}
#endif
	fz_enter();
	if ((s = sftp_server_new(&o)) == NULL)
		abort();
	if (sftp_server_input(s, init, sizeof(init)) != 0)
		abort();
	fz_drain(s, 0);
	while (size > 0 && r == 0) {
		n = chunk == 0 || chunk > size ? size : chunk;
		r = sftp_server_input(s, data, n);
		data += n;
		size -= n;
		fz_drain(s, slow);
		/* The queue stays bounded whatever the client sends. */
		if (sftp_server_output_pending(s) >
		    SFTP_OUT_HIGH + SFTP_MAX_MSG_LENGTH + 8)
			abort();
	}
	/* Let held-back requests run to the end. */
	for (rounds = 0; r == 0 && rounds < 10000; rounds++) {
		if (sftp_server_output_pending(s) == 0 &&
		    sftp_server_want_input(s))
			break;
		fz_drain(s, slow);
		r = sftp_server_input(s, NULL, 0);
	}
	if (r == 0 && rounds == 10000)
		abort(); /* no progress: a stuck queue */
	if (r != 0 && sftp_server_input(s, NULL, 0) != r)
		abort(); /* errors are sticky */
	sftp_server_free(s);
	fz_leave();
	return 0;
}
