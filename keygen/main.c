/*
 * postern-keygen: create the host keys that are missing, as `ssh-keygen
 * -A` does: ssh_host_ed25519_key, ssh_host_ecdsa_key (P-256) and
 * ssh_host_rsa_key (3072 bits) in openssh-key-v1 format, mode 0600, each
 * with its .pub (0644). An existing key is never touched.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "sshkey.h"

#ifndef POSTERN_SYSCONFDIR
#define POSTERN_SYSCONFDIR "/etc/ssh"
#endif
#define KEYFILE_MAX (64 * 1024)

static const struct {
	const char *file;
	const char *label; /* as ssh-keygen -A prints it */
	enum sshkey_type type;
	unsigned bits;
} host_keys[] = {
    {"ssh_host_ed25519_key", "ED25519", KEY_ED25519, 256},
    {"ssh_host_ecdsa_key", "ECDSA", KEY_ECDSA, 256},
    {"ssh_host_rsa_key", "RSA", KEY_RSA, 3072},
};
#define N_KEYS (sizeof(host_keys) / sizeof(host_keys[0]))

static void
usage(void)
{
	fprintf(stderr, "usage: postern-keygen [-q] [-d directory]\n");
	exit(2);
}

/*
 * Write data to path, created with mode, never replacing a file: a
 * temporary file in the same directory, synced, then linked into place.
 */
static int
write_new(const char *path, const struct buf *data, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, r = 0, saved;
	const uint8_t *p = buf_ptr(data);
	size_t left = buf_len(data);
	ssize_t n;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return ENAMETOOLONG;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return errno;
	if (fchmod(fd, mode) != 0)
		r = errno;
	while (r == 0 && left > 0) {
		if ((n = write(fd, p, left)) < 0) {
			if (errno != EINTR)
				r = errno;
			continue;
		}
		p += n;
		left -= (size_t)n;
	}
	if (r == 0 && fsync(fd) != 0)
		r = errno;
	if (close(fd) != 0 && r == 0)
		r = errno;
	if (r == 0 && link(tmp, path) != 0)
		r = errno;
	saved = r;
	unlink(tmp);
	return saved;
}

/* One key: generated, written (private, then public). 0 or an errno. */
static int
make_key(const char *dir, size_t i, const char *comment)
{
	char path[PATH_MAX], pubpath[PATH_MAX + 8], *text = NULL;
	struct sshkey *key = NULL;
	struct buf *priv = NULL, *pub = NULL;
	int r, e = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, host_keys[i].file);
	snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
	if ((priv = buf_new_secret(KEYFILE_MAX)) == NULL ||
	    (pub = buf_new(KEYFILE_MAX)) == NULL) {
		e = ENOMEM;
		goto out;
	}
	if ((r = sshkey_generate(host_keys[i].type, host_keys[i].bits, &key)) !=
	        0 ||
	    (r = sshkey_write_private(key, comment, priv)) != 0 ||
	    (r = sshkey_format_public_text(key, &text)) != 0 ||
	    (r = buf_put(pub, text, strlen(text))) != 0 ||
	    (r = buf_put_u8(pub, ' ')) != 0 ||
	    (r = buf_put(pub, comment, strlen(comment))) != 0 ||
	    (r = buf_put_u8(pub, '\n')) != 0) {
		fprintf(stderr, "postern-keygen: %s: %s\n", path, err_str(r));
		e = EINVAL;
		goto out;
	}
	if ((e = write_new(path, priv, 0600)) != 0) {
		fprintf(stderr, "postern-keygen: %s: %s\n", path, strerror(e));
		goto out;
	}
	/* A stale .pub of an older key is replaced: it must match. */
	if (unlink(pubpath) != 0 && errno != ENOENT) {
		e = errno;
		fprintf(
		    stderr, "postern-keygen: %s: %s\n", pubpath, strerror(e));
		goto out;
	}
	if ((e = write_new(pubpath, pub, 0644)) != 0)
		fprintf(
		    stderr, "postern-keygen: %s: %s\n", pubpath, strerror(e));
out:
	free(text);
	buf_free(priv);
	buf_free(pub);
	sshkey_free(key);
	return e;
}

int
main(int argc, char **argv)
{
	const char *dir = POSTERN_SYSCONFDIR;
	char path[PATH_MAX], comment[256 + 64], host[256];
	struct passwd *pw;
	struct stat st;
	size_t i;
	int ch, quiet = 0, started = 0, failed = 0;

	while ((ch = getopt(argc, argv, "d:q")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	crypto_init();
	umask(077);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	pw = getpwuid(getuid());
	snprintf(
	    comment, sizeof(comment), "%s@%s", pw ? pw->pw_name : "root", host);
	for (i = 0; i < N_KEYS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, host_keys[i].file);
		if (stat(path, &st) == 0)
			continue;
		if (errno != ENOENT) {
			fprintf(stderr, "postern-keygen: %s: %s\n", path,
			    strerror(errno));
			failed = 1;
			continue;
		}
		if (!quiet) {
			if (!started)
				printf("postern-keygen: generating new host "
				       "keys:");
			printf(" %s", host_keys[i].label);
			fflush(stdout);
		}
		started = 1;
		if (make_key(dir, i, comment) != 0)
			failed = 1;
	}
	if (started && !quiet)
		printf("\n");
	return failed ? 1 : 0;
}
