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
 * The GNUmakefile builds fuzz targets from lib/ and policy/ only, so the
 * engine's sources are compiled into this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

	snprintf(path, sizeof(path), "%s/%s", fz_dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		abort();
	if (write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		abort();
	close(fd);
}

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
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(path, sizeof(path), "/dev/%s", nodes[i].name);
		if (mknod(path, S_IFCHR | 0666,
		        makedev(nodes[i].maj, nodes[i].min)) != 0)
			abort();
	}
}

/* Remove the throwaway directory: with -R its contents are ours alone. */
static void
fz_cleanup(void)
{
	static const char *const names[] = {"d/x", "d", "a", "b", "l", "loop"};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
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
	fz_file("a", "0123456789abcdefghijklmnopqrstuvwxyz\n");
	fz_file("b", "");
	snprintf(path, sizeof(path), "%s/d", fz_dir);
	if (mkdir(path, 0755) != 0)
		abort();
	fz_file("d/x", "x");
	snprintf(path, sizeof(path), "%s/l", fz_dir);
	if (symlink("a", path) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/loop", fz_dir);
	if (symlink("loop", path) != 0)
		abort();
	fz_ready = 1;
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
	o.read_only = 1;
	o.start_dir = fz_dir;
	o.home = fz_dir;
	o.user = "fuzz";
	o.max_handles = 8;
	o.log_level = LL_QUIET;
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
	return 0;
}
